"""Build a TimeStampToken: TSTInfo inside CMS SignedData (RFC 3161 §2.4.2, RFC 5652, RFC 5035).

Built with ``asn1crypto``'s ``tsp`` / ``cms`` definitions rather than
:func:`cert_interop.cms.sign`: that builder always encapsulates id-data and signs exactly
contentType, signingTime and messageDigest, while a token needs eContentType id-ct-TSTInfo,
SignedData version 3 and the signingCertificateV2 attribute. The signature itself still goes
through :func:`cert_interop.signatures.sign` or a ``cert_interop.cms.ExternalSigner``, so RSA,
ECDSA and SM2 (with the Z value of the default ID) are produced by the one SM2/RSA/EC API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import algos, cms, core, tsp, x509

from cert_interop.cms import oids as cms_oids
from cert_interop.x509 import Certificate
from seal.tsa import oids

__all__ = ["SignatureProfile", "TstFields", "accuracy_value", "build_token", "profile_for"]

ESS_HASH = "sha256"
"""certHash of ESSCertIDv2, for every key type: the RFC 5035 default, checked by OpenSSL and
pyhanko alike (an SM3 certHash would leave pyhanko unable to read the binding)."""

_UTC_TIME_LIMIT = datetime(2050, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SignatureProfile:
    """How the TSA key signs: the name for ``cert_interop.signatures`` and the CMS OIDs."""

    algorithm: str
    digest: str
    signature_oid: str
    null_params: bool


def profile_for(key_algorithm: str) -> SignatureProfile:
    """RSA → sha256WithRSAEncryption, EC → ecdsa-with-SHA256, SM2 → SM3 with GM/T 0010's
    SM2 signature OID (1.2.156.10197.1.301.1, what ``cert_interop.cms`` writes)."""
    if key_algorithm == "sm2":
        return SignatureProfile("sm2-sm3", "sm3", cms_oids.SM2_SIGN, False)
    if key_algorithm == "rsa":
        return SignatureProfile("rsa-pkcs1-sha256", "sha256", "1.2.840.113549.1.1.11", True)
    return SignatureProfile("ecdsa-sha256", "sha256", cms_oids.ECDSA_SHA256, False)


@dataclass(frozen=True)
class TstFields:
    policy: str
    imprint: tsp.MessageImprint
    serial: int
    gen_time: datetime
    accuracy: timedelta | None
    nonce: int | None
    tsa_name: x509.Name | None


def accuracy_value(accuracy: timedelta) -> dict[str, int]:
    """Accuracy ::= SEQUENCE { seconds, millis [0] 1..999, micros [1] 1..999 } (zeros left out)."""
    total = round(accuracy.total_seconds() * 1_000_000)
    seconds, rest = divmod(total, 1_000_000)
    millis, micros = divmod(rest, 1000)
    value = {"seconds": seconds, "millis": millis, "micros": micros}
    return {k: v for k, v in value.items() if v}


def _tst_info(f: TstFields) -> bytes:
    info: dict[str, Any] = {
        "version": "v1",
        "policy": f.policy,
        "message_imprint": f.imprint,
        "serial_number": f.serial,
        "gen_time": core.GeneralizedTime(f.gen_time),
    }
    if f.accuracy is not None:
        info["accuracy"] = accuracy_value(f.accuracy)
    if f.nonce is not None:
        info["nonce"] = f.nonce
    if f.tsa_name is not None:
        info["tsa"] = x509.GeneralName(name="directory_name", value=f.tsa_name)
    return bytes(tsp.TSTInfo(info).dump())


def _ess_attribute(cert: x509.Certificate) -> dict[str, Any]:
    issuer = x509.GeneralName(name="directory_name", value=cert.issuer)
    cert_id = {
        # hashAlgorithm DEFAULT sha256 is left out, as DER wants
        "cert_hash": oids.digest(ESS_HASH, cert.dump()),
        "issuer_serial": {"issuer": [issuer], "serial_number": cert.serial_number},
    }
    return {"type": "signing_certificate_v2", "values": [{"certs": [cert_id]}]}


def _time(when: datetime) -> cms.Time:
    when = when.replace(microsecond=0)
    if when < _UTC_TIME_LIMIT:
        return cms.Time(name="utc_time", value=when)
    return cms.Time(name="general_time", value=when)


def signed_attributes(
    tst_der: bytes, digest: str, tsa_cert: x509.Certificate, signing_time: datetime | None
) -> cms.CMSAttributes:
    attrs: list[dict[str, Any]] = [
        {"type": "content_type", "values": ["tst_info"]},
        {"type": "message_digest", "values": [oids.digest(digest, tst_der)]},
        _ess_attribute(tsa_cert),
    ]
    if signing_time is not None:
        attrs.append({"type": "signing_time", "values": [_time(signing_time)]})
    return cms.CMSAttributes(attrs)  # a SET OF: asn1crypto sorts it into DER order


def build_token(
    fields: TstFields,
    *,
    certificate: Certificate,
    profile: SignatureProfile,
    sign: Callable[[bytes], bytes],
    certificates: tuple[Certificate, ...],
    signing_time: bool,
) -> cms.ContentInfo:
    """The token as a ContentInfo; ``sign(attrs_der) -> signature`` signs the signed attributes
    (DER, tagged SET OF, as RFC 5652 §5.4 says) with the TSA key."""
    tst_der = _tst_info(fields)
    tsa_cert = x509.Certificate.load(certificate.der)
    attrs = signed_attributes(
        tst_der, profile.digest, tsa_cert, fields.gen_time if signing_time else None
    )
    signature = sign(bytes(attrs.dump()))
    digest_alg = algos.DigestAlgorithm({"algorithm": oids.IMPRINT_OIDS[profile.digest]})
    sig_alg: dict[str, Any] = {"algorithm": profile.signature_oid}
    if profile.null_params:
        sig_alg["parameters"] = core.Null()
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": tsa_cert.issuer, "serial_number": tsa_cert.serial_number},
            ),
            "digest_algorithm": digest_alg,
            "signed_attrs": attrs,
            "signature_algorithm": cms.SignedDigestAlgorithm(sig_alg),
            "signature": signature,
        }
    )
    signed: dict[str, Any] = {
        "version": "v3",  # RFC 5652 §5.1: eContentType other than id-data
        "digest_algorithms": [digest_alg],
        "encap_content_info": {
            "content_type": "tst_info",
            "content": core.ParsableOctetString(tst_der),
        },
        "signer_infos": [signer_info],
    }
    if certificates:
        signed["certificates"] = [x509.Certificate.load(c.der) for c in certificates]
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed)})

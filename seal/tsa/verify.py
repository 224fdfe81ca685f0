"""Check a TimeStampToken: what it stamps, who signed it, and that the signer is a TSA.

The CMS signature and messageDigest are checked by :func:`cert_interop.cms.verify` (the one
SignedData verifier of the code base: RSA, ECDSA, SM2 with Z); this module adds what RFC 3161
and RFC 5035 ask on top: eContentType id-ct-TSTInfo, the imprint, nonce and policy, the signed
ESS certificate binding, and a TSA certificate (sole, critical id-kp-timeStamping) valid at
genTime. Whether that certificate chains to a trusted CA is the trust store's question.
"""

from __future__ import annotations

import hmac
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import cms, core, tsp

from cert_interop import cms as cert_cms
from cert_interop.cms import SignerReason
from cert_interop.errors import CertInteropError
from cert_interop.x509 import Certificate
from cert_interop.x509.names import Name, name_from_asn1
from seal.tsa import oids
from seal.tsa.authority import check_tsa_certificate
from seal.tsa.errors import (
    MalformedTimestamp,
    TimestampImprintMismatch,
    TimestampNonceMismatch,
    TimestampPolicyMismatch,
    TimestampSignatureInvalid,
    TsaCertificateRejected,
    TsaMisconfigured,
    UnsupportedTimestampAlgorithm,
)

__all__ = ["MAX_TOKEN_BYTES", "TimestampInfo", "verify_token"]

MAX_TOKEN_BYTES = 1 << 20
"""A token is a few KiB (a long chain included); larger input is refused before parsing."""


@dataclass(frozen=True)
class TimestampInfo:
    """What a verified token says."""

    time: datetime
    """genTime, UTC."""
    serial: int
    policy: str
    """Dotted OID."""
    tsa_certificate: Certificate
    hash_algorithm: str
    """Of the message imprint: ``sha256``, ``sha384``, ``sha512`` or ``sm3``."""
    nonce: int | None
    accuracy: timedelta | None
    certificates: tuple[Certificate, ...]
    """All certificates the token carries (the TSA's chain, for the trust store)."""


def check_digest(digest: bytes, hash_name: str) -> bytes:
    if hash_name not in oids.IMPRINT_OIDS:
        raise UnsupportedTimestampAlgorithm(
            f"hash {hash_name!r} is not one of {', '.join(oids.IMPRINT_OIDS)}"
        )
    if not isinstance(digest, bytes | bytearray) or len(digest) != oids.digest_size(hash_name):
        raise UnsupportedTimestampAlgorithm(
            f"a {hash_name} digest is {oids.digest_size(hash_name)} bytes",
            zh="摘要长度与算法不符",
        )
    return bytes(digest)


def verify_token(
    token_der: bytes,
    digest: bytes,
    hash_name: str,
    *,
    nonce: int | None = None,
    policy: str | None = None,
    certificates: Sequence[Certificate] = (),
) -> TimestampInfo:
    """Check ``token_der`` (a DER TimeStampToken, i.e. a ContentInfo) stamps ``digest``.

    ``nonce`` / ``policy``: what the request asked for, checked when given.
    ``certificates``: the TSA certificate when the token does not carry it (certReq false).
    Raises a :class:`~seal.tsa.errors.TsaError` subclass; returns what the token says.
    """
    digest = check_digest(digest, hash_name)
    if not isinstance(token_der, bytes | bytearray) or len(token_der) > MAX_TOKEN_BYTES:
        raise MalformedTimestamp("the token is not bytes or is too large")
    token_der = bytes(token_der)
    signer_info, tst = _parse(token_der)
    content = io.BytesIO()
    try:
        result = cert_cms.verify(token_der, out=content, certificates=certificates)
    except CertInteropError as exc:
        raise MalformedTimestamp(f"the token is not a CMS SignedData: {exc}") from exc
    if result.content_type != oids.TST_INFO or len(result.signers) != 1:
        raise MalformedTimestamp("a token has eContentType id-ct-TSTInfo and one signer")
    if content.getvalue() != tst.dump():
        raise MalformedTimestamp("the eContent is not one primitive OCTET STRING")
    verdict = result.signers[0]
    cert = verdict.certificate
    if verdict.reason is SignerReason.CERTIFICATE_MISSING or cert is None:
        raise TsaCertificateRejected(
            "the token does not carry the TSA certificate: request it (certReq) or pass it"
        )
    if not verdict.valid:
        raise TimestampSignatureInvalid(f"the token's signature: {verdict.detail}")
    try:
        info = _tst_fields(tst, cert, result.certificates)
    except Exception as exc:  # out-of-range accuracy, a genTime without a zone, …
        raise MalformedTimestamp("the TSTInfo's values are out of range") from exc
    _check_imprint(tst, digest, hash_name)
    if nonce is not None and info.nonce != nonce:
        raise TimestampNonceMismatch("the token does not echo the request's nonce")
    if policy is not None and info.policy != policy:
        raise TimestampPolicyMismatch(f"the token is under policy {info.policy}, not {policy}")
    _check_ess(signer_info, cert)
    try:
        check_tsa_certificate(cert)
    except TsaMisconfigured as exc:
        raise TsaCertificateRejected(str(exc)) from exc
    if not cert.not_before <= info.time <= cert.not_after:
        raise TsaCertificateRejected("the TSA certificate was not valid at the stamped time")
    return info


def _parse(token_der: bytes) -> tuple[Any, tsp.TSTInfo]:
    try:
        ci = cms.ContentInfo.load(token_der, strict=True)
        if ci["content_type"].native != "signed_data":
            raise MalformedTimestamp("the token is not a SignedData")
        sd = ci["content"]
        encap = sd["encap_content_info"]
        if encap["content_type"].dotted != oids.TST_INFO:
            raise MalformedTimestamp("the token does not encapsulate a TSTInfo")
        infos = sd["signer_infos"]
        if len(infos) != 1:
            raise MalformedTimestamp("a token has exactly one signer")
        tst = tsp.TSTInfo.load(bytes(encap["content"].contents), strict=True)
        tst.native  # noqa: B018 - parse every field now
        infos[0].native  # noqa: B018
    except MalformedTimestamp:
        raise
    except Exception as exc:
        raise MalformedTimestamp("the token is not a DER TimeStampToken") from exc
    if tst["version"].native != "v1":
        raise MalformedTimestamp("TSTInfo version is not 1")
    return infos[0], tst


def _tst_fields(
    tst: tsp.TSTInfo, cert: Certificate, carried: Sequence[Certificate]
) -> TimestampInfo:
    alg = tst["message_imprint"]["hash_algorithm"]["algorithm"].dotted
    nonce = tst["nonce"]
    return TimestampInfo(
        time=tst["gen_time"].native.astimezone(UTC),
        serial=int(tst["serial_number"].native),
        policy=tst["policy"].dotted,
        tsa_certificate=cert,
        hash_algorithm=oids.IMPRINT_HASHES.get(alg, alg),
        nonce=None if isinstance(nonce, core.Void) else int(nonce.native),
        accuracy=_accuracy(tst["accuracy"]),
        certificates=tuple(carried),
    )


def _accuracy(value: Any) -> timedelta | None:
    if isinstance(value, core.Void):
        return None
    parts = {k: v or 0 for k, v in value.native.items()}
    return timedelta(
        seconds=parts.get("seconds", 0),
        milliseconds=parts.get("millis", 0),
        microseconds=parts.get("micros", 0),
    )


def _check_imprint(tst: tsp.TSTInfo, digest: bytes, hash_name: str) -> None:
    mi = tst["message_imprint"]
    alg = mi["hash_algorithm"]
    if alg["algorithm"].dotted != oids.IMPRINT_OIDS[hash_name]:
        raise TimestampImprintMismatch(
            f"the token stamps a {alg['algorithm'].dotted} digest, not {hash_name}"
        )
    params = alg["parameters"]
    if not isinstance(params, core.Void) and params.dump() != b"\x05\x00":
        raise TimestampImprintMismatch("the imprint's hash algorithm has parameters")
    if not hmac.compare_digest(bytes(mi["hashed_message"].native), digest):
        raise TimestampImprintMismatch("the token stamps another digest")


def _check_ess(signer_info: Any, cert: Certificate) -> None:
    """RFC 5035 / RFC 2634: the signed attribute names the signer's certificate by its hash
    (and issuer and serial, when given), so another certificate for the same key cannot be
    substituted."""
    try:
        found = _ess_cert_ids(signer_info)
    except TsaCertificateRejected:
        raise
    except Exception as exc:
        raise MalformedTimestamp("the signingCertificate attribute does not parse") from exc
    hash_name, cert_hash, issuer_serial = found
    if not hmac.compare_digest(cert_hash, oids.digest(hash_name, cert.der)):
        raise TsaCertificateRejected("the signed ESS attribute names another certificate")
    if issuer_serial is None:
        return
    names, serial = issuer_serial
    if serial != cert.serial_number or not any(n.matches(cert.issuer) for n in names):
        raise TsaCertificateRejected("the ESS issuerSerial names another certificate")


def _ess_cert_ids(signer_info: Any) -> tuple[str, bytes, tuple[list[Name], int] | None]:
    """(hash name, certHash, (issuer directory names, serial) or None) of the first ESSCertID."""
    wanted = (oids.SIGNING_CERTIFICATE_V2, oids.SIGNING_CERTIFICATE)
    found = [a for a in signer_info["signed_attrs"] if a["type"].dotted in wanted]
    if len(found) != 1 or len(found[0]["values"]) != 1 or not len(found[0]["values"][0]["certs"]):
        raise TsaCertificateRejected("the token needs one signed signingCertificate(V2) attribute")
    attr = found[0]
    cert_id = attr["values"][0]["certs"][0]
    hash_name = "sha1"
    if attr["type"].dotted == oids.SIGNING_CERTIFICATE_V2:
        hash_oid = cert_id["hash_algorithm"]["algorithm"].dotted
        if hash_oid not in oids.IMPRINT_HASHES:
            raise TsaCertificateRejected(f"the ESS certificate hash {hash_oid} is not supported")
        hash_name = oids.IMPRINT_HASHES[hash_oid]
    issuer_serial = cert_id["issuer_serial"]
    if isinstance(issuer_serial, core.Void):
        return hash_name, bytes(cert_id["cert_hash"].native), None
    names = [
        name_from_asn1(n.chosen) for n in issuer_serial["issuer"] if n.name == "directory_name"
    ]
    serial = int(issuer_serial["serial_number"].native)
    return hash_name, bytes(cert_id["cert_hash"].native), (names, serial)

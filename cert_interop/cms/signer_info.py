"""One SignerInfo: load it, find its certificate, check its attributes and its signature.

The signer-level half of SignedData verification (:mod:`cert_interop.cms.signed` parses the
message and digests the content once for every signer). Every check ends in a
:class:`~cert_interop.cms.status.SignerResult` with a precise reason; nothing here raises for a
tampered signer.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms as _acms
from asn1crypto import core as _core
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from cert_interop import sm2
from cert_interop.cms import der
from cert_interop.cms import oids as O
from cert_interop.cms.ber import children, guard
from cert_interop.cms.status import SignerReason, SignerResult
from cert_interop.keys import PublicKey
from cert_interop.x509 import Certificate
from cert_interop.x509.names import name_from_asn1

__all__ = ["HASHES", "DigestKey", "Signer", "evaluate", "load", "needs"]

HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sm3": hashes.SM3,
}

DigestKey = tuple[str, bytes]
"""A digest of the content: (hash name, prefix hashed before it — SM2's Z or empty)."""


@dataclass(frozen=True)
class Signer:
    issuer: Any | None
    """asn1crypto Name of issuerAndSerialNumber."""
    serial: int | None
    ski: bytes | None
    digest_oid: str
    signature_oid: str
    signature_params: Any
    signature: bytes
    attrs_der: bytes | None
    """The signed attributes re-tagged as SET OF (what was signed), or None when absent."""
    attrs_der_sorted: bytes | None
    """The same in DER order when the message's encoding was not sorted."""
    attrs: tuple[tuple[str, tuple[Any, ...]], ...]


def _load(raw: bytes) -> Signer:
    si = _acms.SignerInfo.load(raw, strict=True)
    sid = si["sid"]
    issuer = serial = ski = None
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = int(sid.chosen["serial_number"].native)
    else:
        ski = bytes(sid.chosen.native)
    sig_alg = si["signature_algorithm"]
    attrs_der = sorted_der = None
    attrs: list[tuple[str, tuple[Any, ...]]] = []
    signed = si["signed_attrs"]
    if not isinstance(signed, _core.Void):
        raw_attrs = bytes(signed.dump())
        attrs_der = b"\x31" + raw_attrs[1:]
        attr_list = children(attrs_der, 256)
        in_order = b"".join(sorted(attr_list))
        reencoded = der.tlv(der.SET, in_order)
        sorted_der = reencoded if reencoded != attrs_der else None
        for attr in signed:
            attrs.append((attr["type"].dotted, tuple(attr["values"])))
    return Signer(
        issuer=issuer,
        serial=serial,
        ski=ski,
        digest_oid=si["digest_algorithm"]["algorithm"].dotted,
        signature_oid=sig_alg["algorithm"].dotted,
        signature_params=sig_alg["parameters"],
        signature=bytes(si["signature"].native),
        attrs_der=attrs_der,
        attrs_der_sorted=sorted_der,
        attrs=tuple(attrs),
    )


def load(raw: bytes) -> Signer:
    """Parse one SignerInfo (DER/BER); unparseable → ``MalformedInput``."""
    return guard("SignerInfo", lambda: _load(raw))


def evaluate(
    s: Signer, pool: Sequence[Certificate], etype: str, digests: dict[DigestKey, bytes]
) -> SignerResult:
    """The verdict on one signer, given the content's digests (hostile values → MalformedInput)."""
    return guard("SignerInfo", lambda: _evaluate(s, pool, etype, digests))


def _find_certificate(s: Signer, pool: Sequence[Certificate]) -> Certificate | None:
    if s.ski is not None:
        return next((c for c in pool if c.subject_key_identifier == s.ski), None)
    issuer = name_from_asn1(s.issuer)
    return next((c for c in pool if c.serial_number == s.serial and c.issuer.matches(issuer)), None)


def _is_sm2(s: Signer, cert: Certificate | None) -> bool:
    family = O.SIGNATURES.get(s.signature_oid, ("", None))[0]
    if family == "sm2":
        return True
    # some kits label SM2 as ECDSA (or id-ecPublicKey) with SM3
    return (
        family == "ecdsa"
        and cert is not None
        and cert.key_algorithm == "sm2"
        and O.DIGESTS.get(s.digest_oid) == "sm3"
    )


def needs(s: Signer, pool: Sequence[Certificate]) -> set[DigestKey]:
    name = O.DIGESTS.get(s.digest_oid)
    if name is None:
        return set()
    if s.attrs_der is None:
        cert = _find_certificate(s, pool)
        if _is_sm2(s, cert):
            if cert is None or not isinstance(cert.public_key, sm2.Sm2PublicKey):
                return set()
            return {("sm3", sm2.z_value(cert.public_key))}
    return {(name, b"")}


def _sid_fields(s: Signer) -> tuple[str | None, int | None, bytes | None]:
    issuer = name_from_asn1(s.issuer).rfc4514 if s.issuer is not None else None
    return issuer, s.serial, s.ski


def _algorithm_name(s: Signer, cert: Certificate | None, digest: str | None) -> str:
    family = O.SIGNATURES.get(s.signature_oid, ("", None))[0]
    if _is_sm2(s, cert):
        return "sm2-sm3"
    if family == "rsa-pss":
        pss = _pss(s.signature_params)
        return f"rsa-pss-{pss[0]}" if pss else "rsa-pss"
    if family == "rsa" and digest:
        return f"rsa-pkcs1-{digest}"
    if family == "ecdsa" and digest:
        return f"ecdsa-{digest}"
    return s.signature_oid


def _pss(params: Any) -> tuple[str, str, int] | None:
    """(hash, MGF1 hash, salt length) of RSASSA-PSS parameters, None when unusable."""
    try:
        if isinstance(params, _core.Void) or params.native is None:
            return "sha1", "sha1", 20  # all defaults (RFC 4055)
        h = O.DIGESTS.get(params["hash_algorithm"]["algorithm"].dotted)
        mgf = params["mask_gen_algorithm"]
        if mgf["algorithm"].dotted != O.MGF1:
            return None
        mh = O.DIGESTS.get(mgf["parameters"]["algorithm"].dotted)
        salt = int(params["salt_length"].native)
        if params["trailer_field"].native not in (1, "trailer_field_bc"):
            return None
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if h is None or mh is None or salt < 0:
        return None
    return h, mh, salt


def _evaluate(
    s: Signer, pool: Sequence[Certificate], etype: str, digests: dict[DigestKey, bytes]
) -> SignerResult:
    cert = _find_certificate(s, pool)
    dname = O.DIGESTS.get(s.digest_oid)
    issuer, serial, ski = _sid_fields(s)
    algorithm = _algorithm_name(s, cert, dname)
    signing_time: datetime | None = None
    for oid, values in s.attrs:
        if oid == O.ATTR_SIGNING_TIME and len(values) == 1:
            native = values[0].native
            if isinstance(native, datetime):
                signing_time = native if native.tzinfo else native.replace(tzinfo=UTC)

    def result(reason: SignerReason, detail: str) -> SignerResult:
        return SignerResult(
            valid=reason is SignerReason.OK,
            reason=reason,
            detail=detail,
            certificate=cert,
            issuer=issuer,
            serial_number=serial,
            subject_key_identifier=ski,
            digest_algorithm=dname or s.digest_oid,
            signature_algorithm=algorithm,
            signing_time=signing_time,
        )

    if cert is None:
        who = f"issuer {issuer}, serial {serial:x}" if serial is not None else f"key id {ski!r}"
        return result(SignerReason.CERTIFICATE_MISSING, f"no certificate for the signer ({who})")
    if dname is None:
        return result(SignerReason.UNSUPPORTED_ALGORITHM, f"digest algorithm {s.digest_oid}")
    if s.signature_oid not in O.SIGNATURES:
        return result(SignerReason.UNSUPPORTED_ALGORITHM, f"signature algorithm {s.signature_oid}")
    sm2_signer = _is_sm2(s, cert)
    if s.attrs_der is not None:
        found = {oid: values for oid, values in s.attrs}
        counts: dict[str, int] = {}
        for oid, _values in s.attrs:
            counts[oid] = counts.get(oid, 0) + 1
        for oid, label in ((O.ATTR_CONTENT_TYPE, "contentType"), (O.ATTR_MESSAGE_DIGEST, "md")):
            if counts.get(oid) != 1 or len(found[oid]) != 1:
                name = "messageDigest" if label == "md" else label
                return result(
                    SignerReason.MISSING_ATTRIBUTE,
                    f"the signed attributes need exactly one {name} attribute with one value",
                )
        ct = found[O.ATTR_CONTENT_TYPE][0]
        ct_oid = ct.dotted if isinstance(ct, _core.ObjectIdentifier) else None
        if ct_oid != etype:
            return result(
                SignerReason.CONTENT_TYPE_MISMATCH,
                f"signed contentType {ct_oid} differs from the content type {etype}",
            )
        md = found[O.ATTR_MESSAGE_DIGEST][0]
        md_value = bytes(md.native) if isinstance(md, _core.OctetString) else None
        actual = digests.get((dname, b""))
        if actual is None:
            return result(
                SignerReason.UNSUPPORTED_ALGORITHM,
                f"{dname} is not in digestAlgorithms and the content cannot be read again",
            )
        if md_value is None or not hmac.compare_digest(md_value, actual):
            return result(
                SignerReason.DIGEST_MISMATCH,
                f"the content's {dname} digest differs from the signed messageDigest",
            )
        candidates = [s.attrs_der] + ([s.attrs_der_sorted] if s.attrs_der_sorted else [])
        ok = any(
            _check(s, cert.public_key, sm2_signer, dname, data=c, digest=None) for c in candidates
        )
    else:
        if etype not in O.DATA_TYPES:
            return result(
                SignerReason.MISSING_ATTRIBUTE,
                f"signed attributes are required for content type {etype}",
            )
        key: DigestKey = (
            ("sm3", sm2.z_value(cert.public_key))
            if sm2_signer and isinstance(cert.public_key, sm2.Sm2PublicKey)
            else (dname, b"")
        )
        value = digests.get(key)
        if value is None:
            return result(
                SignerReason.UNSUPPORTED_ALGORITHM,
                "without signed attributes this signer needs a second pass over content that "
                "cannot be read again",
            )
        ok = _check(s, cert.public_key, sm2_signer, dname, data=None, digest=value)
    if not ok:
        return result(
            SignerReason.BAD_SIGNATURE,
            f"the {algorithm} signature does not verify with the key of {cert.subject.rfc4514}",
        )
    return result(SignerReason.OK, f"signed by {cert.subject.rfc4514}")


def _check(
    s: Signer,
    pub: PublicKey,
    sm2_signer: bool,
    dname: str,
    *,
    data: bytes | None,
    digest: bytes | None,
) -> bool:
    """Verify one signature over ``data`` or a precomputed ``digest``; False on any mismatch."""
    sig = s.signature
    if sm2_signer:
        if not isinstance(pub, sm2.Sm2PublicKey):
            return False
        if data is not None:
            return sm2.verify(pub, sig, data, fmt="der")
        assert digest is not None
        return sm2.verify_digest(pub, sig, digest, fmt="der")
    family = O.SIGNATURES[s.signature_oid][0]
    try:
        if family in ("rsa", "rsa-pss"):
            if not isinstance(pub, rsa.RSAPublicKey):
                return False
            pad: padding.AsymmetricPadding
            hash_name = dname
            if family == "rsa-pss":
                pss = _pss(s.signature_params)
                if pss is None:
                    return False
                hash_name = pss[0]
                pad = padding.PSS(padding.MGF1(HASHES[pss[1]]()), pss[2])
                if hash_name != dname and digest is not None:
                    return False  # the content was digested with another hash
            else:
                pad = padding.PKCS1v15()
            h = HASHES[hash_name]()
            if data is not None:
                pub.verify(sig, data, pad, h)
            else:
                assert digest is not None
                pub.verify(sig, digest, pad, Prehashed(h))
            return True
        if family == "ecdsa":
            if not isinstance(pub, ec.EllipticCurvePublicKey):
                return False
            h = HASHES[dname]()
            if data is not None:
                pub.verify(sig, data, ec.ECDSA(h))
            else:
                assert digest is not None
                pub.verify(sig, digest, ec.ECDSA(Prehashed(h)))
            return True
    except (InvalidSignature, ValueError, TypeError):
        return False
    return False

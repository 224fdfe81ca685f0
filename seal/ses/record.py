"""The seal record API: make a GB/T 38540 seal, read one (version 4 or 1), check it.

``verify_seal`` answers the questions the seal itself can answer — does the maker's signature
verify, is the seal within its validity — and hands back the parsed maker certificate. Whether
that certificate chains to a trusted seal-making authority and is unrevoked is the trust store's
question (``cert_interop.truststore``), asked by the caller at the same instant.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cert_interop import signatures
from cert_interop.errors import CertInteropError
from cert_interop.keys import PrivateKey
from cert_interop.x509 import Certificate

from .algorithms import from_oid
from .decode import MAX_SEAL_BYTES, decode_seal
from .encode import SealSigner, encode_seal
from .model import (
    CertDigest,
    ParsedSeal,
    SealCheck,
    SealExtension,
    SealInfo,
    SealPicture,
    Validity,
)

__all__ = [
    "MAX_SEAL_BYTES",
    "CertDigest",
    "ParsedSeal",
    "SealCheck",
    "SealExtension",
    "SealInfo",
    "SealPicture",
    "SealSigner",
    "make_seal",
    "parse_seal",
    "verify_seal",
]


def make_seal(
    info: SealInfo,
    maker_key: PrivateKey | SealSigner,
    maker_cert: Certificate,
    *,
    max_bytes: int = MAX_SEAL_BYTES,
) -> bytes:
    """DER ``SESeal`` (version 4) of ``info``, signed by the seal-making authority.

    ``maker_key`` is the private key of ``maker_cert`` (SM2 or RSA) or a :class:`SealSigner`
    holding it. Raises ``InvalidSealInput``, ``SealPictureMismatch``/``UnsupportedSealPicture``
    or ``SealTooLarge``.
    """
    return encode_seal(info, maker_key, maker_cert, max_bytes=max_bytes)


def parse_seal(der: bytes, *, max_bytes: int = MAX_SEAL_BYTES) -> ParsedSeal:
    """Read a version 4 (GB/T 38540) or version 1 (GM/T 0031) seal; ``ParsedSeal.version``
    says which. Raises only ``MalformedSeal`` and its subclasses."""
    return decode_seal(der, max_bytes=max_bytes)


def verify_seal(parsed: ParsedSeal, *, at: datetime | None = None) -> SealCheck:
    """Check the maker's signature and the seal's validity at ``at`` (default: now; a naive
    datetime is taken as UTC). Never raises for a bad seal: see ``SealCheck.problems``."""
    when = datetime.now(UTC) if at is None else _utc(at)
    algorithm = from_oid(parsed.signature_algorithm_oid)
    problems: list[str] = []
    signature_valid = False
    if algorithm is None:
        problems.append("unsupported_algorithm")
    else:
        try:
            signature_valid = signatures.verify(
                parsed.maker_certificate.public_key,
                algorithm,
                parsed.signature,
                data=parsed.signed_data,
            )
        except CertInteropError:  # e.g. an SM2 OID with an RSA maker certificate
            problems.append("algorithm_key_mismatch")
        else:
            if not signature_valid:
                problems.append("seal_signature_invalid")
    validity = _validity(parsed.info, when)
    if validity != "valid":
        problems.append("seal_expired" if validity == "expired" else "seal_not_yet_valid")
    return SealCheck(
        signature_valid=signature_valid,
        validity=validity,
        maker=parsed.maker_certificate,
        checked_at=when,
        algorithm=algorithm,
        problems=tuple(problems),
    )


def _validity(info: SealInfo, when: datetime) -> Validity:
    if when < info.valid_start:
        return "not_yet_valid"
    if when > info.valid_end:
        return "expired"
    return "valid"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

"""Which signature algorithm a seal's ``signAlgID`` names, and which one a maker key signs with.

The OIDs come from ``cert_interop.cms.oids`` (one table for the project); the names are those of
``cert_interop.signatures``, which does the signing and verifying.
"""

from __future__ import annotations

from typing import Final

from cert_interop.cms import oids
from cert_interop.signatures import ALGORITHMS

from ..errors import InvalidSealInput

RSA_SHA256: Final = "1.2.840.113549.1.1.11"

MAKE_WITH: Final[dict[str, tuple[str, str]]] = {
    "sm2": ("sm2-sm3", oids.SM2_WITH_SM3),
    "rsa": ("rsa-pkcs1-sha256", RSA_SHA256),
}
"""Maker key algorithm → (signature algorithm, ``signAlgID``)."""


def for_maker(key_algorithm: str) -> tuple[str, str]:
    """(algorithm, OID) a maker certificate's key signs seals with; SM2 and RSA only."""
    try:
        return MAKE_WITH[key_algorithm]
    except KeyError:
        raise InvalidSealInput(
            f"a seal maker key must be SM2 or RSA, not {key_algorithm}",
            zh="制章者密钥须为 SM2 或 RSA",
        ) from None


def from_oid(oid: str) -> str | None:
    """The ``cert_interop.signatures`` name for a ``signAlgID``, or None when unsupported
    (PKCS#1 v1.5 with SHA-1, RSA-PSS without parameters, a bare ``rsaEncryption``, …)."""
    family, hash_name = oids.SIGNATURES.get(oid, (None, None))
    if family == "sm2":
        return "sm2-sm3"
    if family == "rsa" and hash_name is not None:
        name = f"rsa-pkcs1-{hash_name}"
    elif family == "ecdsa" and hash_name is not None:
        name = f"ecdsa-{hash_name}"
    else:
        return None
    return name if name in ALGORITHMS else None

"""Seal records in the GB/T 38540-2020 structure (version 4), and GM/T 0031-2014 (version 1)
seals read for interop: make, parse, verify. See :mod:`.record` for the API and
:mod:`.asn1_v4` for what was confirmed against other implementations."""

from __future__ import annotations

from . import seal_types
from .pictures import KNOWN_TYPES as PICTURE_TYPES
from .record import (
    MAX_SEAL_BYTES,
    CertDigest,
    ParsedSeal,
    SealCheck,
    SealExtension,
    SealInfo,
    SealPicture,
    SealSigner,
    make_seal,
    parse_seal,
    verify_seal,
)

__all__ = [
    "MAX_SEAL_BYTES",
    "PICTURE_TYPES",
    "CertDigest",
    "ParsedSeal",
    "SealCheck",
    "SealExtension",
    "SealInfo",
    "SealPicture",
    "SealSigner",
    "make_seal",
    "parse_seal",
    "seal_types",
    "verify_seal",
]

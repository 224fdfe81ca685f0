"""X.509 certificates and CRLs for RSA, ECDSA and SM2: parse, check one signature, build.

Path validation, the trust store, OCSP and CA identity profiles build on this package.
"""

from __future__ import annotations

from cert_interop.x509.build import (
    ExtensionSpec,
    Revocation,
    build_certificate,
    build_crl,
    key_identifier,
    public_key_info,
    string_extension,
)
from cert_interop.x509.names import Name, NameAttribute, build_name, normalize_value
from cert_interop.x509.parse import (
    MAX_INPUT_BYTES,
    OID_SM2_CURVE,
    OID_SM2_SM3,
    BasicConstraints,
    Certificate,
    Crl,
    Extension,
    GeneralName,
    RevokedEntry,
    parse_certificate,
    parse_crl,
    verify_signature,
)

__all__ = [
    "MAX_INPUT_BYTES",
    "OID_SM2_CURVE",
    "OID_SM2_SM3",
    "BasicConstraints",
    "Certificate",
    "Crl",
    "Extension",
    "ExtensionSpec",
    "GeneralName",
    "Name",
    "NameAttribute",
    "Revocation",
    "RevokedEntry",
    "build_certificate",
    "build_crl",
    "build_name",
    "key_identifier",
    "normalize_value",
    "parse_certificate",
    "parse_crl",
    "public_key_info",
    "string_extension",
    "verify_signature",
]

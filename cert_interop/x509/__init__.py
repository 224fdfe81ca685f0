"""X.509 certificates and CRLs for RSA, ECDSA and SM2: parse, check one signature, build.

OCSP requests and responses live in :mod:`.ocsp`. Path validation, the trust store, revocation
checking and CA identity profiles build on this package.
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
from cert_interop.x509.ocsp import (
    OCSP_HASH_ALGORITHMS,
    OID_OCSP_NONCE,
    OID_OCSP_SIGNING,
    CertId,
    OcspCertStatus,
    OcspRequest,
    OcspResponse,
    OcspResponseStatus,
    SingleResponse,
    build_ocsp_error_response,
    build_ocsp_request,
    build_ocsp_response,
    cert_id,
    new_nonce,
    parse_ocsp_request,
    parse_ocsp_response,
    verify_ocsp_response,
)
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
    "OCSP_HASH_ALGORITHMS",
    "OID_OCSP_NONCE",
    "OID_OCSP_SIGNING",
    "OID_SM2_CURVE",
    "OID_SM2_SM3",
    "BasicConstraints",
    "CertId",
    "Certificate",
    "Crl",
    "Extension",
    "ExtensionSpec",
    "GeneralName",
    "Name",
    "NameAttribute",
    "OcspCertStatus",
    "OcspRequest",
    "OcspResponse",
    "OcspResponseStatus",
    "Revocation",
    "RevokedEntry",
    "SingleResponse",
    "build_certificate",
    "build_crl",
    "build_name",
    "build_ocsp_error_response",
    "build_ocsp_request",
    "build_ocsp_response",
    "cert_id",
    "key_identifier",
    "new_nonce",
    "normalize_value",
    "parse_certificate",
    "parse_crl",
    "parse_ocsp_request",
    "parse_ocsp_response",
    "public_key_info",
    "string_extension",
    "verify_ocsp_response",
    "verify_signature",
]

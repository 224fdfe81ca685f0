"""The OpenAPI 3.1 document of the integrator API, with an example for every operation.

Kept as data next to the views so a change to one shows in the review of the other; the tests
check that every route is documented and that the examples are accepted by the live service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cert_interop.signatures import ALGORITHMS

_CERT = "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
_B64 = {"type": "string", "contentEncoding": "base64"}
_ERROR = {
    "type": "object",
    "required": ["error", "message_zh", "message_en"],
    "properties": {
        "error": {"type": "string", "description": "stable machine code"},
        "error_description": {"type": "string"},
        "message_zh": {"type": "string"},
        "message_en": {"type": "string"},
    },
    "example": {
        "error": "insufficient_scope",
        "error_description": "this call needs the scope crypto:verify",
        "message_zh": "访问令牌的权限范围不足",
        "message_en": "this call needs the scope crypto:verify",
    },
}
_VALIDATION = {
    "type": "object",
    "properties": {
        "valid": {"type": "boolean"},
        "reason": {
            "type": "string",
            "enum": [
                "ok",
                "expired",
                "not_yet_valid",
                "revoked",
                "unknown_ca",
                "broken_chain",
                "bad_signature",
                "not_a_ca",
                "path_too_long",
                "wrong_key_usage",
                "wrong_extended_key_usage",
                "name_constraints",
                "unknown_critical_extension",
                "revocation_unknown",
                "malformed",
            ],
        },
        "detail": {"type": "string"},
        "algorithm": {"type": "string", "enum": ["rsa", "ec", "sm2"]},
        "revocation_checked": {"type": "boolean"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "ca": {"type": ["string", "null"]},
        "profile": {"type": ["string", "null"]},
        "identity": {
            "type": ["object", "null"],
            "description": "holder's identity as the CA profile reads it",
            "properties": {
                "profile": {"type": "string"},
                "entity_type": {
                    "type": "string",
                    "description": "legal_person, natural_person, or unknown",
                },
                "name": {"type": ["string", "null"]},
                **{
                    f: {"type": ["string", "null"]}
                    for f in (
                        "credit_code",
                        "organization_code",
                        "business_registration_number",
                        "taxpayer_number",
                        "id_number",
                        "passport_number",
                        "social_insurance_number",
                        "organization_name",
                        "person_name",
                    )
                },
                "matched_rules": {"type": "array", "items": {"type": "string"}},
                "rejected": {"type": "array", "items": {"type": "object"}},
            },
        },
        "chain": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "subject": {"type": "string"},
                    "sha256_fingerprint": {"type": "string"},
                },
            },
        },
    },
}
_VALIDATION_EXAMPLE = {
    "valid": True,
    "reason": "ok",
    "detail": "leaf certificate 'CN=张三,O=某某建设有限公司,C=CN' (serial 1a2b) chains to trust "
    "anchor 'CN=Example SM2 Root CA,C=CN' (3 certificates)",
    "algorithm": "sm2",
    "revocation_checked": True,
    "notes": [],
    "ca": "example-sm2-issuing",
    "profile": "gmt0015-2012",
    "identity": {
        "profile": "gmt0015-2012",
        "entity_type": "legal_person",
        "name": "某某建设有限公司",
        "credit_code": "91520100MA6DKXXXXX",
        "organization_code": None,
        "business_registration_number": None,
        "taxpayer_number": None,
        "id_number": None,
        "passport_number": None,
        "social_insurance_number": None,
        "organization_name": "某某建设有限公司",
        "person_name": None,
        "matched_rules": ["gmt0015-2012/credit-code", "gmt0015-2012/organization"],
        "rejected": [],
    },
    "chain": [],
}


def _op(
    summary: str,
    scope: str | None,
    request: dict[str, Any] | None,
    request_example: dict[str, Any] | None,
    response: dict[str, Any],
    response_example: dict[str, Any],
    description: str = "",
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": response, "example": response_example}},
            },
            "400": {"$ref": "#/components/responses/Error"},
        },
    }
    if scope is not None:
        op["security"] = [{"bearer": [scope]}]
        op["responses"]["401"] = {"$ref": "#/components/responses/Error"}
        op["responses"]["403"] = {"$ref": "#/components/responses/Error"}
    if request is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": request, "example": request_example}},
        }
    return op


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def openapi_document(
    extra_paths: Mapping[str, Any] | None = None, extra_scopes: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The document; `extra_paths`/`extra_scopes` add operations other packages serve under
    /api/v1 (their path items may use `#/components/responses/Error`)."""
    cert = {"type": "string", "description": "PEM, or base64 of the DER"}
    chain = {"type": "array", "items": cert, "maxItems": 10, "description": "intermediates"}
    at = {"type": "string", "format": "date-time", "description": "validation time (default now)"}
    algorithm = {"type": "string", "enum": list(ALGORITHMS)}
    signer = {
        "type": "object",
        "properties": {
            "signature_valid": {"type": "boolean"},
            "reason": {"type": "string"},
            "algorithm": {"type": "string"},
            "signing_time": {"type": ["string", "null"]},
            "certificate": _VALIDATION,
        },
    }
    paths: dict[str, Any] = {
        "/certificates/validate": {
            "post": _op(
                "Validate a certificate against the trust store",
                "crypto:verify",
                _obj(
                    ["certificate"],
                    certificate=cert,
                    chain=chain,
                    purpose={"type": "string", "enum": ["sign", "encrypt", "any"]},
                    at=at,
                    extended_key_usage={"type": "string"},
                ),
                {"certificate": _CERT, "chain": [_CERT], "purpose": "sign"},
                _VALIDATION,
                _VALIDATION_EXAMPLE,
                "Chain to a trusted CA, validity, key usage, name constraints, revocation "
                "(CRL/OCSP, per-CA hard or soft fail), and the holder's identity read by the "
                "CA's profile. An invalid certificate is a 200 answer with valid=false and a "
                "reason.",
            )
        },
        "/signatures/verify": {
            "post": _op(
                "Verify a raw or CMS signature over data or a digest",
                "crypto:verify",
                {
                    "oneOf": [
                        _obj(
                            ["certificate", "signature"],
                            format={"const": "raw"},
                            certificate=cert,
                            chain=chain,
                            algorithm=algorithm,
                            signature={**_B64, "description": "DER (SM2/ECDSA; raw r||s too)"},
                            data=_B64,
                            digest={
                                **_B64,
                                "description": "instead of data; for SM2 e = SM3(Z || M)",
                            },
                            signer_id={"type": "string", "description": "SM2 user ID"},
                            at=at,
                        ),
                        _obj(
                            ["format", "cms"],
                            format={"const": "cms"},
                            cms={**_B64, "description": "SignedData (standard or GM/T 0010)"},
                            content={**_B64, "description": "for a detached signature"},
                            at=at,
                        ),
                    ]
                },
                {
                    "format": "raw",
                    "algorithm": "sm2-sm3",
                    "certificate": _CERT,
                    "data": "5oqV5qCH5paH5Lu2",
                    "signature": "MEUCIQ...",
                },
                {
                    "type": "object",
                    "properties": {
                        "valid": {"type": "boolean", "description": "signature and chain"},
                        "signature_valid": {"type": "boolean"},
                        "algorithm": {"type": "string"},
                        "certificate": _VALIDATION,
                        "signers": {"type": "array", "items": signer, "description": "cms"},
                    },
                },
                {
                    "valid": True,
                    "signature_valid": True,
                    "algorithm": "sm2-sm3",
                    "certificate": _VALIDATION_EXAMPLE,
                },
            )
        },
        "/signatures": {
            "post": _op(
                "Sign with a platform key (raw or CMS)",
                "crypto:sign",
                _obj(
                    [],
                    key={"type": "string", "description": "platform key name"},
                    format={"type": "string", "enum": ["raw", "cms"]},
                    algorithm=algorithm,
                    data=_B64,
                    digest={**_B64, "description": "raw only"},
                    detached={"type": "boolean", "description": "cms only"},
                ),
                {"key": "platform", "format": "raw", "data": "5oqV5qCH5paH5Lu2"},
                _obj(
                    [],
                    signature=_B64,
                    cms=_B64,
                    algorithm={"type": "string"},
                    certificate={"type": "string"},
                ),
                {"signature": "MEUCIQ...", "algorithm": "sm2-sm3", "certificate": _CERT},
            )
        },
        "/envelopes": {
            "post": _op(
                "Encrypt content to recipient certificates (CMS EnvelopedData)",
                "crypto:encrypt",
                _obj(
                    ["recipients", "content"],
                    recipients={"type": "array", "items": cert, "minItems": 1},
                    content=_B64,
                    cipher={"type": "string", "enum": ["sm4-cbc", "aes-256-cbc", "aes-256-gcm"]},
                    rsa_padding={"type": "string", "enum": ["oaep", "pkcs1v15"]},
                ),
                {"recipients": [_CERT], "content": "5oqV5qCH5paH5Lu2", "cipher": "sm4-cbc"},
                _obj(["cms"], cms=_B64),
                {"cms": "MIAGCiqBHM9VBgEEAgOggDCA..."},
                "Every recipient certificate must validate for encryption against the trust "
                "store (an SM2 signing certificate is refused: use the encryption one).",
            )
        },
        "/envelopes/decrypt": {
            "post": _op(
                "Decrypt an envelope with a platform key (e.g. at bid opening)",
                "crypto:decrypt",
                _obj(["cms"], key={"type": "string"}, cms=_B64),
                {"key": "bid-opening", "cms": "MIAGCiqBHM9VBgEEAgOggDCA..."},
                _obj(["content"], content=_B64),
                {"content": "5oqV5qCH5paH5Lu2"},
            )
        },
        "/platform-keys": {
            "get": _op(
                "The platform's certificates (to encrypt to, or to check its signatures)",
                None,
                None,
                None,
                _obj(["keys"], keys={"type": "array", "items": {"type": "object"}}),
                {
                    "keys": [
                        {
                            "name": "bid-opening",
                            "available": True,
                            "algorithm": "sm2",
                            "key_usage": ["key_encipherment"],
                            "subject": "CN=开标密钥,O=公共资源交易中心,C=CN",
                            "sha256_fingerprint": "3f1c…",
                            "certificate": _CERT,
                        }
                    ]
                },
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Huren integrator API (互认 密码服务接口)",
            "version": "1",
            "description": "Certificate validation, signature verification, envelopes and "
            "platform-key operations (DB52/T 1778.2-2024 §6.4). Binary values are standard "
            "base64. Get an access token with the client-credentials grant at /token and the "
            "scopes crypto:verify, crypto:sign, crypto:encrypt or crypto:decrypt.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "/token",
                            "scopes": {
                                "crypto:verify": "validate certificates, verify signatures",
                                "crypto:sign": "sign with a platform key",
                                "crypto:encrypt": "make envelopes",
                                "crypto:decrypt": "decrypt envelopes with a platform key",
                                **(extra_scopes or {}),
                            },
                        }
                    },
                }
            },
            "responses": {
                "Error": {
                    "description": "error with a stable code",
                    "content": {"application/json": {"schema": _ERROR}},
                }
            },
        },
        "paths": {**paths, **(extra_paths or {})},
    }

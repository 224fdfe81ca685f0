"""Endpoints of the integrator API. Each reads JSON, calls the library, answers JSON."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request

from cert_interop import signatures
from cert_interop.errors import (
    CertInteropError,
    DecryptionFailed,
    InvalidKey,
    MalformedInput,
    TrustStoreUnavailable,
    UnsupportedAlgorithm,
)
from cert_interop.keys import key_algorithm
from cert_interop.validation import ValidationResult
from cert_interop.web import cms_views, inputs
from cert_interop.web.api import ApiError, CryptoApi, PlatformKey
from cert_interop.web.bearer import api_error_response, bearer_scope
from cert_interop.web.messages import error_body
from cert_interop.web.openapi import openapi_document

F = TypeVar("F", bound=Callable[..., Any])
_EXTENSION = "huren.crypto_api"
_PURPOSES = ("sign", "encrypt", "any")


def _api() -> CryptoApi:
    api: CryptoApi = current_app.extensions[_EXTENSION]
    return api


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def requires(scope: str) -> Callable[[F], F]:
    """Bearer token with ``scope`` (RFC 6750 answers on failure)."""
    return bearer_scope(lambda: _api().authorize, scope)


def _validation(result: ValidationResult) -> dict[str, Any]:
    return result.as_dict()


def _platform_key(name: str | None) -> PlatformKey:
    keys = _api().platform_keys
    if name is None:
        if len(keys) != 1:
            raise ApiError("invalid_request", 400, "'key' names the platform key to use")
        return next(iter(keys.values()))
    key = keys.get(name)
    if key is None:
        raise ApiError("unknown_key", 404, f"no platform key named {name!r}")
    return key


def crypto_api_blueprint(api: CryptoApi) -> Blueprint:
    bp = Blueprint("crypto_api", __name__, url_prefix="/api/v1")

    @bp.record_once
    def _install(state: Any) -> None:
        state.app.extensions[_EXTENSION] = api

    bp.register_error_handler(ApiError, api_error_response)

    @bp.errorhandler(CertInteropError)
    def library_error(exc: CertInteropError) -> Response:
        code = next(
            (
                name
                for kind, name in (
                    (TrustStoreUnavailable, "temporarily_unavailable"),
                    (MalformedInput, "malformed_input"),
                    (InvalidKey, "invalid_key"),
                    (UnsupportedAlgorithm, "unsupported_algorithm"),
                    (DecryptionFailed, "decryption_failed"),
                )
                if isinstance(exc, kind)
            ),
            "invalid_request",
        )
        response = jsonify(error_body(code, str(exc)))
        response.status_code = {"decryption_failed": 422, "temporarily_unavailable": 503}.get(
            code, 400
        )
        return response

    @bp.before_request
    def body_limit() -> None:
        request.max_content_length = api.max_request_bytes

    @bp.after_request
    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    bp.add_url_rule(
        "/openapi.json",
        "openapi",
        lambda: jsonify(openapi_document(api.openapi_paths, api.openapi_scopes)),
    )
    bp.add_url_rule("/certificates/validate", "validate", validate_certificate, methods=["POST"])
    bp.add_url_rule("/signatures/verify", "verify", verify_signature, methods=["POST"])
    bp.add_url_rule("/signatures", "sign", sign, methods=["POST"])
    bp.add_url_rule("/envelopes", "encrypt", encrypt, methods=["POST"])
    bp.add_url_rule("/envelopes/decrypt", "decrypt", decrypt, methods=["POST"])
    bp.add_url_rule("/platform-keys", "platform_keys", platform_keys)
    return bp


@requires("crypto:verify")
def validate_certificate() -> Response:
    doc = inputs.body()
    leaf = inputs.certificate(doc.get("certificate"), "certificate")
    result = _api().trust_store.validate(
        leaf,
        intermediates=inputs.certificates(doc, "chain"),
        purpose=inputs.choice(doc, "purpose", _PURPOSES, "sign"),
        at=inputs.timestamp(doc, "at"),
        extended_key_usage=inputs.text(doc, "extended_key_usage"),
    )
    return jsonify(_validation(result))


@requires("crypto:verify")
def verify_signature() -> Response:
    doc = inputs.body()
    kind = inputs.choice(doc, "format", ("raw", "cms"), "raw")
    if kind == "cms":
        return cms_views.verify_cms(doc)
    leaf = inputs.certificate(doc.get("certificate"), "certificate")
    algorithm = inputs.text(doc, "algorithm") or signatures.default_algorithm(leaf.public_key)
    signer_id = inputs.text(doc, "signer_id")
    inputs.data_or_digest(doc)
    if signer_id is not None and "digest" in doc:
        raise ApiError(
            "invalid_request", 400, "'signer_id' does not apply to a digest: Z is inside e"
        )
    signature_ok = signatures.verify(
        leaf.public_key,
        algorithm,
        inputs.binary(doc, "signature", required=True) or b"",
        data=inputs.binary(doc, "data"),
        digest=inputs.binary(doc, "digest"),
        **({"uid": signer_id.encode()} if signer_id is not None else {}),
    )
    result = _api().trust_store.validate(
        leaf,
        intermediates=inputs.certificates(doc, "chain"),
        purpose="sign",
        at=inputs.timestamp(doc, "at"),
    )
    return jsonify(
        {
            "valid": signature_ok and result.valid,
            "signature_valid": signature_ok,
            "algorithm": algorithm,
            "certificate": _validation(result),
        }
    )


@requires("crypto:sign")
def sign() -> Response:
    doc = inputs.body()
    key = _platform_key(inputs.text(doc, "key"))
    kind = inputs.choice(doc, "format", ("raw", "cms"), "raw")
    if kind == "cms":
        return cms_views.sign_cms(doc, key)
    algorithm = inputs.text(doc, "algorithm") or signatures.default_algorithm(
        key.certificate.public_key
    )
    inputs.data_or_digest(doc)
    signature = key.sign(
        algorithm, data=inputs.binary(doc, "data"), digest=inputs.binary(doc, "digest")
    )
    return jsonify(
        {
            "signature": _b64(signature),
            "algorithm": algorithm,
            "certificate": key.certificate.pem().decode(),
        }
    )


@requires("crypto:encrypt")
def encrypt() -> Response:
    return cms_views.encrypt()


@requires("crypto:decrypt")
def decrypt() -> Response:
    doc = inputs.body()
    return cms_views.decrypt(_platform_key(inputs.text(doc, "key")), doc)


def platform_keys() -> Response:
    """Public: the certificates integrators encrypt to (e.g. the bid-opening key). A key whose
    token cannot be opened is listed as unavailable; the others are still served."""
    listed: list[dict[str, Any]] = []
    for name, key in sorted(_api().platform_keys.items()):
        try:
            cert = key.certificate
        except ApiError as exc:
            listed.append({"name": name, "available": False, "error": exc.code})
            continue
        listed.append(
            {
                "name": name,
                "available": True,
                "algorithm": key_algorithm(cert.public_key),
                "key_usage": sorted(cert.key_usage or ()),
                "subject": cert.subject.rfc4514,
                "sha256_fingerprint": cert.sha256_fingerprint,
                "certificate": cert.pem().decode(),
            }
        )
    return jsonify({"keys": listed})

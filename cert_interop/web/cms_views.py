"""CMS parts of the integrator API: verify SignedData, make and open EnvelopedData, sign with a
platform key. Bodies are base64 in JSON, so they are bounded by the request size limit; bid
files of hundreds of megabytes go through the CLI or the local bridge, which stream."""

from __future__ import annotations

import base64
from typing import Any

from flask import Response, jsonify

from cert_interop import cms
from cert_interop.errors import CertInteropError, DecryptionFailed
from cert_interop.web import inputs
from cert_interop.web.api import ApiError, PlatformKey

_CIPHERS = ("sm4-cbc", "aes-256-cbc", "aes-256-gcm")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _api() -> Any:
    from cert_interop.web.views import _api as api

    return api()


def verify_cms(doc: dict[str, Any]) -> Response:
    message = inputs.binary(doc, "cms", required=True)
    assert message is not None
    result = cms.verify(message, content=inputs.binary(doc, "content"))
    at = inputs.timestamp(doc, "at")
    signers: list[dict[str, Any]] = []
    for signer in result.signers:
        entry = signer.as_dict()
        entry["signature_valid"] = signer.valid
        chain_ok = False
        if signer.certificate is not None:
            validation = _api().trust_store.validate(
                signer.certificate,
                intermediates=result.intermediates(signer),
                purpose="sign",
                at=at,  # now unless asked: signingTime is the signer's own claim
            )
            entry["certificate"] = validation.as_dict()
            chain_ok = validation.valid
        entry["valid"] = signer.valid and chain_ok
        signers.append(entry)
    return jsonify(
        {
            "valid": bool(signers) and all(s["valid"] for s in signers),
            "signature_valid": result.valid,
            "gm": result.gm,
            "detached": result.detached,
            "content_length": result.content_length,
            "signers": signers,
        }
    )


def encrypt() -> Response:
    doc = inputs.body()
    recipients = inputs.certificates(doc, "recipients")
    if not recipients:
        raise ApiError("invalid_request", 400, "'recipients' needs at least one certificate")
    for i, cert in enumerate(recipients):
        result = _api().trust_store.validate(cert, purpose="encrypt")
        if not result.valid:
            raise ApiError(
                "recipient_not_trusted",
                422,
                f"recipients[{i}] ({cert.subject.rfc4514}): {result.reason.value}: {result.detail}",
            )
    content = inputs.binary(doc, "content", required=True)
    assert content is not None
    cipher = doc.get("cipher")
    if cipher is not None and cipher not in _CIPHERS:
        raise ApiError("invalid_request", 400, f"'cipher' must be one of {', '.join(_CIPHERS)}")
    padding = inputs.choice(doc, "rsa_padding", ("oaep", "pkcs1v15"), "oaep")
    envelope = cms.encrypt(content, None, recipients, cipher=cipher, rsa_padding=padding)
    return jsonify({"cms": _b64(envelope)})


def decrypt(key: PlatformKey, doc: dict[str, Any]) -> Response:
    message = inputs.binary(doc, "cms", required=True)
    assert message is not None
    refused: list[ApiError] = []

    def unwrap(encrypted_key: bytes, algorithm: str) -> bytes:
        try:
            return key.unwrap(encrypted_key, algorithm)
        except ApiError as exc:  # the library would turn it into DecryptionFailed
            refused.append(exc)
            raise

    try:
        result = cms.decrypt(message, certificate=key.certificate, unwrap=unwrap)
    except CertInteropError as exc:
        if refused and refused[0].code != "decryption_failed":
            raise refused[0] from None
        if isinstance(exc, DecryptionFailed):  # NotARecipient included
            raise ApiError("decryption_failed", 422, str(exc)) from None
        raise
    assert result.content is not None
    return jsonify(
        {
            "content": _b64(result.content),
            "cipher": result.cipher,
            "key_encryption": result.key_encryption,
        }
    )


def sign_cms(doc: dict[str, Any], key: PlatformKey) -> Response:
    """SignedData by a platform key: the key only ever signs the DER of the signed attributes."""
    content = inputs.binary(doc, "data", required=True)
    assert content is not None
    detached = doc.get("detached", False)
    if not isinstance(detached, bool):
        raise ApiError("invalid_request", 400, "'detached' must be true or false")
    cert = key.certificate
    # include the issuing CA(s) so verifiers that trust only the root can build the path
    path = _api().trust_store.validate(cert, purpose="sign").chain
    chain = [c for c in path[1:] if not c.self_issued]
    signed = cms.sign(content, None, [(key, cert, chain)], detached=detached)
    return jsonify({"cms": _b64(signed), "certificate": key.certificate.pem().decode()})

"""Reading JSON request fields: base64 binaries, certificates as PEM or base64 DER, times."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from flask import request

from cert_interop.errors import CertInteropError
from cert_interop.web.api import ApiError
from cert_interop.x509 import Certificate, parse_certificate

MAX_CHAIN = 10


def body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise ApiError("invalid_content_type", 415)
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and len(raw) >= limit:
        # a chunked body has no Content-Length: the limited stream stops at the limit and the
        # JSON would look merely broken
        raise ApiError("request_too_large", 413, f"the body exceeds {limit} bytes")
    doc = request.get_json(silent=True)
    if not isinstance(doc, dict):
        raise ApiError("invalid_request", 400, "the body must be a JSON object")
    return doc


def text(doc: dict[str, Any], name: str, default: str | None = None) -> str | None:
    value = doc.get(name, default)
    if value is not None and not isinstance(value, str):
        raise ApiError("invalid_request", 400, f"'{name}' must be a string")
    return value


def choice(doc: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = text(doc, name, default)
    if value not in allowed:
        raise ApiError("invalid_request", 400, f"'{name}' must be one of {', '.join(allowed)}")
    return value


def binary(doc: dict[str, Any], name: str, *, required: bool = False) -> bytes | None:
    """Standard base64 (padding optional); ``None`` when absent and not required."""
    value = doc.get(name)
    if value is None:
        if required:
            raise ApiError("invalid_request", 400, f"'{name}' (base64) is required")
        return None
    if not isinstance(value, str):
        raise ApiError("invalid_request", 400, f"'{name}' must be a base64 string")
    compact = "".join(value.split())
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("malformed_input", 400, f"'{name}' is not valid base64") from None


def data_or_digest(doc: dict[str, Any]) -> None:
    """Exactly one of ``data`` and ``digest`` (a request error, not a parse error)."""
    if ("data" in doc) == ("digest" in doc):
        raise ApiError("invalid_request", 400, "give exactly one of 'data' and 'digest'")


def certificate(value: object, name: str) -> Certificate:
    if not isinstance(value, str) or not value.strip():
        raise ApiError("invalid_request", 400, f"'{name}' must be a PEM or base64 DER string")
    raw: bytes
    if "-----BEGIN" in value:
        raw = value.encode()
    else:
        decoded = binary({name: value}, name, required=True)
        assert decoded is not None
        raw = decoded
    try:
        return parse_certificate(raw)
    except CertInteropError as exc:
        raise ApiError("malformed_input", 400, f"'{name}': {exc}") from None


def certificates(doc: dict[str, Any], name: str) -> list[Certificate]:
    value = doc.get(name, [])
    if not isinstance(value, list) or len(value) > MAX_CHAIN:
        raise ApiError("invalid_request", 400, f"'{name}' must be a list of at most {MAX_CHAIN}")
    return [certificate(v, f"{name}[{i}]") for i, v in enumerate(value)]


def timestamp(doc: dict[str, Any], name: str) -> datetime | None:
    value = text(doc, name)
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError("invalid_request", 400, f"'{name}' must be an ISO 8601 time") from None
    if at.tzinfo is None:
        raise ApiError("invalid_request", 400, f"'{name}' needs a UTC offset")
    return at

"""The seal service's part of the integrator API (/api/v1/seals...), client-credentials only.

Errors are the integrator API's: a stable `error` code with Chinese and English messages (a
`SealError` carries its own Chinese message; its English one is the exception text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.web.api import ApiError, Authorizer
from cert_interop.web.bearer import api_error_response, bearer_scope
from cert_interop.web.messages import error_body
from cert_interop.x509 import Certificate
from storage.ephemeral import EphemeralStore

from ..errors import SealError
from ..pdf import Level, RevocationMaterial
from ..records import service
from ..records.errors import SealNotFound, StaleSeal
from ..records.service import CertificateChecker, SealView

_EXTENSION = "huren.seal_api"

SCOPES = {
    "seal:read": "Look seals up (status, certificates, picture).",
    "seal:verify": "Verify sealed PDFs.",
    "seal:stamp": "Stamp PDFs with a seal (server-held key, or the holder's USBKey in two steps).",
}

PENDING_TTL = 600
"""Seconds between preparing a stamp and completing it with the USBKey's signature."""

PICTURE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml"}


class StampResources(Protocol):
    """Keys, TSA and revocation data for stamping (config's `SealResources`)."""

    def timestamper(self, level: Level) -> Any: ...

    def revocation(self, cert: Certificate, level: Level) -> RevocationMaterial | None: ...

    def server_key(self, seal: SealView) -> Any | None: ...


@dataclass(frozen=True)
class SealApi:
    authorize: Authorizer
    sessions: sessionmaker[Session]
    checker: CertificateChecker | None = None
    resources: StampResources | None = None
    store: EphemeralStore | None = None
    pending_key: bytes = field(default=b"", repr=False)
    """HMAC key of pending stamps kept between prepare and complete."""
    max_pdf_bytes: int = 16 << 20


def _api() -> SealApi:
    api: SealApi = current_app.extensions[_EXTENSION]
    return api


def requires(scope: str) -> Callable[[Any], Any]:
    return bearer_scope(lambda: _api().authorize, scope)


def seal_error_body(exc: SealError) -> tuple[dict[str, Any], int]:
    """The JSON body and HTTP status of a refusal from the seal library."""
    body = error_body(exc.code, str(exc))
    body["message_zh"] = exc.message_zh
    field = getattr(exc, "field", None)
    if field:
        body["field"] = field
    status = getattr(exc, "http_status", None) or (
        404 if isinstance(exc, SealNotFound) else 409 if isinstance(exc, StaleSeal) else 400
    )
    return body, int(status)


@requires("seal:read")
def lookup(seal_id: str) -> Response:
    view = service.get(_api().sessions, seal_id)
    doc = view.as_dict()
    doc["usable"] = view.usable()
    return jsonify(doc)


@requires("seal:read")
def picture(seal_id: str) -> Response:
    data, kind = service.picture(_api().sessions, seal_id)
    response = Response(data, mimetype=PICTURE_TYPES.get(kind, "application/octet-stream"))
    if kind == "svg":  # an SVG is a document: never let it run script in our origin
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def seal_api_blueprint(api: SealApi) -> Blueprint:
    bp = Blueprint("seal_api", __name__, url_prefix="/api/v1")

    @bp.record_once
    def _install(state: Any) -> None:
        state.app.extensions[_EXTENSION] = api

    bp.register_error_handler(ApiError, api_error_response)

    @bp.errorhandler(SealError)
    def seal_error(exc: SealError) -> Response:
        body, status = seal_error_body(exc)
        response = jsonify(body)
        response.status_code = status
        return response

    @bp.before_request
    def body_limit() -> None:
        # a PDF in the body (or base64 in JSON for two-step stamping)
        request.max_content_length = api.max_pdf_bytes * 4 // 3 + (64 << 10)

    @bp.after_request
    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    bp.add_url_rule("/seals/<seal_id>", "lookup", lookup)
    bp.add_url_rule("/seals/<seal_id>/picture", "picture", picture)
    from . import stamping

    bp.add_url_rule("/seals/verify", "verify", stamping.verify, methods=["POST"])
    bp.add_url_rule("/seals/<seal_id>/stamp", "stamp", stamping.stamp, methods=["POST"])
    bp.add_url_rule("/seals/<seal_id>/stamps", "prepare", stamping.prepare, methods=["POST"])
    bp.add_url_rule(
        "/seals/stamps/<stamp_id>/complete", "complete", stamping.complete, methods=["POST"]
    )
    return bp


OPENAPI_PATHS: dict[str, Any] = {
    "/seals/{seal_id}": {
        "get": {
            "summary": "Look a seal up / 查询电子印章",
            "description": "The seal's type, name, status (made, active, suspended, revoked) "
            "with the reason, validity and bound certificates. `usable` is true when the seal "
            "is active and inside its validity period.",
            "security": [{"bearer": ["seal:read"]}],
            "parameters": [
                {
                    "name": "seal_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "example": "52260123456789",
                }
            ],
            "responses": {
                "200": {
                    "description": "The seal",
                    "content": {
                        "application/json": {
                            "example": {
                                "seal_id": "52260123456789",
                                "entity_id": "0b7c…",
                                "type": "contract",
                                "type_name": "合同专用章",
                                "name": "某某有限公司合同专用章",
                                "status": "active",
                                "status_reason": None,
                                "usable": True,
                                "picture": {"type": "png", "width_mm": 42, "height_mm": 42},
                                "valid_from": "2026-11-28T08:00:00Z",
                                "valid_until": "2029-11-27T08:00:00Z",
                                "certificates": [
                                    {
                                        "fingerprint": "9f2c…",
                                        "subject": "CN=某某有限公司,O=某某有限公司,C=CN",
                                        "key_algorithm": "sm2",
                                        "not_after": "2027-11-28T08:00:00Z",
                                    }
                                ],
                            }
                        }
                    },
                },
                "404": {"$ref": "#/components/responses/Error"},
            },
        }
    },
    "/seals/{seal_id}/picture": {
        "get": {
            "summary": "The seal's picture / 印模图片",
            "security": [{"bearer": ["seal:read"]}],
            "parameters": [
                {"name": "seal_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "PNG, JPEG or SVG as made",
                    "content": {"image/png": {}, "image/jpeg": {}, "image/svg+xml": {}},
                },
                "404": {"$ref": "#/components/responses/Error"},
            },
        }
    },
}

_ERROR = {"$ref": "#/components/responses/Error"}
_PDF_BODY = {
    "required": True,
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
}
_PLACEMENT_PARAMS: list[dict[str, Any]] = [
    {"name": "seal_id", "in": "path", "required": True, "schema": {"type": "string"}},
    {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer"},
        "description": "1-based; -1 last",
    },
    {"name": "x", "in": "query", "schema": {"type": "number"}, "description": "centre, points"},
    {"name": "y", "in": "query", "schema": {"type": "number"}, "description": "centre, points"},
    {"name": "keyword", "in": "query", "schema": {"type": "string"}, "example": "（盖章）"},
    {"name": "size_mm", "in": "query", "schema": {"type": "number"}},
    {"name": "paging", "in": "query", "schema": {"type": "boolean"}, "description": "骑缝章"},
    {"name": "level", "in": "query", "schema": {"type": "string", "enum": ["B-B", "B-T", "B-LT"]}},
    {"name": "reason", "in": "query", "schema": {"type": "string"}},
    {"name": "location", "in": "query", "schema": {"type": "string"}},
]
_REPORT_EXAMPLE = {
    "verdict": "invalid",
    "valid": False,
    "problems": [],
    "malformed": False,
    "malformed_reason": None,
    "revisions": 2,
    "dss": {"certificates": 0, "crls": 0, "ocsp_responses": 0},
    "signatures": [
        {
            "field_name": "HurenSeal1",
            "kind": "signature",
            "verdict": "invalid",
            "problems": [{"code": "seal_revoked", "message_zh": "电子印章已吊销"}],
            "document": {
                "intact": True,
                "coverage": "entire_file",
                "modified_after_signing": False,
                "algorithm": "sm2",
                "signature_algorithm": "sm2-sm3",
                "signing_time": "2026-11-28T09:00:00+00:00",
                "timestamp": {"valid": True, "time": "2026-11-28T09:00:01+00:00"},
                "paging_seal_pages": [1, 2, 3],
                "seal_id": "52260123456789",
            },
            "certificate": {"valid": True, "reason": "ok", "subject": "CN=某某有限公司,…"},
            "seal": {
                "seal_id": "52260123456789",
                "name": "某某有限公司合同专用章",
                "type": "contract",
                "type_name": "合同专用章",
                "status": "revoked",
                "status_reason": "单位注销",
            },
        }
    ],
}

OPENAPI_PATHS.update(
    {
        "/seals/verify": {
            "post": {
                "summary": "Verify a sealed PDF / 验证签章文件",
                "description": "Every signature: document intact or modified after signing, the "
                "signer's certificate through the trust store (at the timestamp when there is "
                "one), the seal it claims (active? bound to that certificate?), and a verdict "
                "(valid, invalid, indeterminate) with problem codes. A malformed PDF is a 200 "
                "with verdict invalid.",
                "security": [{"bearer": ["seal:verify"]}],
                "requestBody": _PDF_BODY,
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {"application/json": {"example": _REPORT_EXAMPLE}},
                    },
                    "413": _ERROR,
                    "415": _ERROR,
                },
            }
        },
        "/seals/{seal_id}/stamp": {
            "post": {
                "summary": "Stamp a PDF with a server-held seal / 使用平台持有的印章签章",
                "description": "For seals bound to a certificate whose key the service holds "
                "(a platform key). Placement by `keyword` or `page`+`x`+`y`; `paging=true` adds a "
                "paging seal; `level` B-T/B-LT timestamps (and embeds revocation data). Answers "
                "the stamped PDF. Seals held on a USBKey use the two-step operation instead.",
                "security": [{"bearer": ["seal:stamp"]}],
                "parameters": _PLACEMENT_PARAMS,
                "requestBody": _PDF_BODY,
                "responses": {
                    "200": {"description": "The stamped PDF", "content": {"application/pdf": {}}},
                    "400": _ERROR,
                    "404": _ERROR,
                    "409": _ERROR,
                },
            }
        },
        "/seals/{seal_id}/stamps": {
            "post": {
                "summary": "Prepare a stamp for the holder's USBKey / 两步签章：准备",
                "description": "Send the PDF (base64), the holder's certificate (bound to the "
                "seal) and the placement; sign `to_be_signed` raw with the USBKey (the local "
                "bridge's `/v1/sign`, or `digest_to_sign` for tokens that sign digests) and post "
                "the signature to `complete` within `expires_in` seconds.",
                "security": [{"bearer": ["seal:stamp"]}],
                "parameters": [_PLACEMENT_PARAMS[0]],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "example": {
                                "pdf": "JVBERi0xLjcK…",
                                "certificate": "-----BEGIN CERTIFICATE-----\n…",
                                "keyword": "（盖章）",
                                "paging": True,
                                "level": "B-T",
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "What to sign",
                        "content": {
                            "application/json": {
                                "example": {
                                    "stamp_id": "q3cT1…",
                                    "seal_id": "52260123456789",
                                    "algorithm": "sm2-sm3",
                                    "to_be_signed": "MYIB…",
                                    "digest_to_sign": "3q2+…",
                                    "expires_in": 600,
                                    "complete": "/api/v1/seals/stamps/q3cT1…/complete",
                                }
                            }
                        },
                    },
                    "403": _ERROR,
                    "409": _ERROR,
                },
            }
        },
        "/seals/stamps/{stamp_id}/complete": {
            "post": {
                "summary": "Complete a prepared stamp / 两步签章：完成",
                "description": "The USBKey's signature (base64; DER or r‖s for SM2/ECDSA). It is "
                "checked against the certificate before the PDF is produced. Single use: a "
                "second call, another client, or after ten minutes is 404.",
                "security": [{"bearer": ["seal:stamp"]}],
                "parameters": [
                    {
                        "name": "stamp_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"example": {"signature": "MEUCIQ…"}}},
                },
                "responses": {
                    "200": {"description": "The stamped PDF", "content": {"application/pdf": {}}},
                    "400": _ERROR,
                    "404": _ERROR,
                },
            }
        },
    }
)

"""The seal service's part of the integrator API (/api/v1/seals...), client-credentials only.

Errors are the integrator API's: a stable `error` code with Chinese and English messages (a
`SealError` carries its own Chinese message; its English one is the exception text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.web.api import ApiError, Authorizer
from cert_interop.web.bearer import bearer_scope
from cert_interop.web.messages import error_body

from ..errors import SealError
from ..records import service
from ..records.errors import SealNotFound, StaleSeal

_EXTENSION = "huren.seal_api"

SCOPES = {
    "seal:read": "Look seals up (status, certificates, picture).",
}

PICTURE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml"}


@dataclass(frozen=True)
class SealApi:
    authorize: Authorizer
    sessions: sessionmaker[Session]


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
    status = 404 if isinstance(exc, SealNotFound) else 409 if isinstance(exc, StaleSeal) else 400
    return body, status


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

    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        response = jsonify(error_body(exc.code, exc.english))
        response.status_code = exc.status
        for name, value in exc.headers.items():
            response.headers[name.replace("_", "-")] = value
        return response

    @bp.errorhandler(SealError)
    def seal_error(exc: SealError) -> Response:
        body, status = seal_error_body(exc)
        response = jsonify(body)
        response.status_code = status
        return response

    @bp.after_request
    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    bp.add_url_rule("/seals/<seal_id>", "lookup", lookup)
    bp.add_url_rule("/seals/<seal_id>/picture", "picture", picture)
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

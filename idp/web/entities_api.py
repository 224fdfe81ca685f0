"""`GET /api/v1/entities/{entity_id}` (§6.3.2 b): a trading platform reads the registered basic
information of a market entity with a client-credentials token holding `entities:read`.

Personal data stays out: a natural person's ID number is a user claim (`identity`), which
client-credentials tokens never carry, so this answer has none.
"""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from ..entities import service as entities
from ..entities.errors import EntityNotFound
from ..tokens import InvalidToken
from . import bp
from .context import current_idp
from .endpoints import _bearer, json_error

SCOPE = "entities:read"


@bp.route("/api/v1/entities/<entity_id>")
def entity(entity_id: str) -> Response:
    idp = current_idp()
    token = _bearer()
    if token is None:
        return json_error(
            "invalid_token", 401, "missing bearer token", WWW_Authenticate='Bearer realm="huren"'
        )
    try:
        claims = idp.tokens.verify_access_token(token)
    except InvalidToken:
        return json_error(
            "invalid_token", 401, WWW_Authenticate='Bearer realm="huren", error="invalid_token"'
        )
    if SCOPE not in str(claims.get("scope", "")).split():
        return json_error(
            "insufficient_scope",
            403,
            f"this call needs the scope {SCOPE}",
            WWW_Authenticate=f'Bearer realm="huren", error="insufficient_scope", scope="{SCOPE}"',
        )
    if len(entity_id) > 64:
        return json_error("not_found", 404)
    try:
        view = entities.get(idp.sessions, idp.pii, entity_id)
    except EntityNotFound:
        return json_error("not_found", 404, "no market entity with that id")
    body = {
        "entity_id": view.id,
        "entity_type": view.entity_type,
        "entity_name": view.name,
        "entity_status": view.status,
        "updated_at": int(view.updated_at),
    }
    if view.uscc:
        body["uscc"] = view.uscc
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response

"""Which user claims a relying party gets: by scope (OpenID Connect Core §5.4) and by the `claims`
request parameter (§5.5), which may ask for individual claims in the ID token or at userinfo."""

from __future__ import annotations

import json
from typing import Any

from .accounts import User

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "preferred_username", "updated_at"),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "entity": (
        "entity_id",
        "entity_type",
        "entity_name",
        "uscc",
        "entity_status",
        "agent_name",
    ),
    "identity": ("id_type", "id_number"),
}
ENTITY_SCOPES = frozenset({"entity", "identity", "phone"})
"""Scopes whose claims come (partly) from the market-entity records."""
SUPPORTED = ("sub", *(c for names in SCOPE_CLAIMS.values() for c in names))


class ClaimsRequestError(ValueError):
    pass


def parse_claims_request(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    if len(raw) > 4096:
        raise ClaimsRequestError("claims parameter is too long")
    try:
        data = json.loads(raw)
    except ValueError:
        raise ClaimsRequestError("claims parameter is not valid JSON") from None
    if not isinstance(data, dict):
        raise ClaimsRequestError("claims parameter must be a JSON object")
    cleaned: dict[str, Any] = {}
    for target in ("userinfo", "id_token"):
        section = data.get(target)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise ClaimsRequestError(f"claims.{target} must be a JSON object")
        for name, spec in section.items():
            if spec is not None and not isinstance(spec, dict):
                raise ClaimsRequestError(f"claims.{target}.{name} must be null or an object")
        cleaned[target] = {str(k): v for k, v in section.items()}
    return cleaned


def needs_entity_claims(scope: str, claims_request: dict[str, Any] | None, target: str) -> bool:
    """Whether answering needs the entity records (a database read and decryption)."""
    names = (
        [c for s in scope.split() for c in SCOPE_CLAIMS.get(s, ())] if target == "userinfo" else []
    )
    names += list((claims_request or {}).get(target, {}))
    return any(_scope_of(n) in ENTITY_SCOPES for n in names)


def _value(user: User, name: str, entity: dict[str, Any]) -> Any:
    if name in entity:
        return entity[name]
    return {
        "sub": user.id,
        "name": user.name,
        "preferred_username": user.username,
        "updated_at": int(user.updated_at),
        "email": user.email,
        "email_verified": False if user.email else None,
    }.get(name)


def _collect(user: User, names: list[str], entity: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = _value(user, name, entity)
        if value is not None:
            out[name] = value
    return out


def userinfo_claims(
    user: User,
    scope: str,
    claims_request: dict[str, Any] | None,
    entity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``entity``: :func:`idp.entities.service.claims_for_account` (identity claims only when the
    token's scope has ``identity``: the caller decides, this only filters once more)."""
    names = [c for s in scope.split() for c in SCOPE_CLAIMS.get(s, ())]
    names += list((claims_request or {}).get("userinfo", {}))
    if "identity" not in scope.split():
        names = [n for n in names if _scope_of(n) != "identity"]
    out = _collect(user, names, entity or {})
    out["sub"] = user.id
    return out


def id_token_claims(
    user: User,
    claims_request: dict[str, Any] | None,
    entity: dict[str, Any] | None = None,
    scope: str = "",
) -> dict[str, Any]:
    """Only claims asked for one by one: scope claims go to userinfo (there is an access token)."""
    names = [n for n in (claims_request or {}).get("id_token", {}) if n in SUPPORTED]
    if "identity" not in scope.split():
        names = [n for n in names if _scope_of(n) != "identity"]
    return _collect(user, names, entity or {})


def _scope_of(claim: str) -> str | None:
    for scope, names in SCOPE_CLAIMS.items():
        if claim in names:
            return scope
    return None


def implied_scopes(claims_request: dict[str, Any] | None) -> set[str]:
    """The scopes whose claims a `claims` request names: the user consents to these too."""
    return {
        scope
        for section in (claims_request or {}).values()
        for name in section
        if (scope := _scope_of(name)) is not None
    }


def limit_claims_request(
    claims_request: dict[str, Any] | None, allowed_scopes: set[str]
) -> dict[str, Any] | None:
    """Drop individually requested claims the client is not registered (and consented) for."""
    if not claims_request:
        return claims_request
    return {
        target: {n: spec for n, spec in section.items() if _scope_of(n) in allowed_scopes}
        for target, section in claims_request.items()
    }

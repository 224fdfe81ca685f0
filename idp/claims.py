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
}
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


def _value(user: User, name: str) -> Any:
    return {
        "sub": user.id,
        "name": user.name,
        "preferred_username": user.username,
        "updated_at": int(user.updated_at),
        "email": user.email,
        "email_verified": False if user.email else None,
        "phone_number": user.phone,
        "phone_number_verified": False if user.phone else None,
    }.get(name)


def _collect(user: User, names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = _value(user, name)
        if value is not None:
            out[name] = value
    return out


def userinfo_claims(
    user: User, scope: str, claims_request: dict[str, Any] | None
) -> dict[str, Any]:
    names = [c for s in scope.split() for c in SCOPE_CLAIMS.get(s, ())]
    names += list((claims_request or {}).get("userinfo", {}))
    out = _collect(user, names)
    out["sub"] = user.id
    return out


def id_token_claims(user: User, claims_request: dict[str, Any] | None) -> dict[str, Any]:
    """Only claims asked for one by one: scope claims go to userinfo (there is an access token)."""
    return _collect(user, [n for n in (claims_request or {}).get("id_token", {}) if n in SUPPORTED])


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

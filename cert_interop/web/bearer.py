"""RFC 6750 bearer-token checks for /api/v1 blueprints (this package's and the seal service's).

One implementation, so every /api/v1 endpoint answers a missing token and a missing scope with
the same status, `error` code and `WWW-Authenticate` header.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, g, jsonify, request

from cert_interop.web.api import ApiError, Authorizer, Caller
from cert_interop.web.messages import error_body

F = TypeVar("F", bound=Callable[..., Any])


def bearer_scope(authorizer: Callable[[], Authorizer], scope: str) -> Callable[[F], F]:
    """Decorator: the request carries a bearer token whose client holds ``scope``.

    ``authorizer`` is looked up per request (blueprints keep theirs in ``app.extensions``)."""

    def wrap(view: F) -> F:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            kind, _, token = header.partition(" ")
            if kind.lower() != "bearer" or not token.strip():
                raise ApiError(
                    "invalid_token",
                    401,
                    "missing bearer token",
                    WWW_Authenticate='Bearer realm="huren"',
                )
            caller: Caller = authorizer()(token.strip())
            if scope not in caller.scopes:
                raise ApiError(
                    "insufficient_scope",
                    403,
                    f"this call needs the scope {scope}",
                    WWW_Authenticate=f'Bearer realm="huren", error="insufficient_scope", '
                    f'scope="{scope}"',
                )
            g.huren_client_id = caller.client_id  # who asked, for views that remember it
            return view(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def api_error_response(exc: ApiError) -> Response:
    """The JSON answer of an `ApiError`: status, bilingual body and its headers."""
    response = jsonify(error_body(exc.code, exc.english))
    response.status_code = exc.status
    for name, value in exc.headers.items():
        response.headers[name.replace("_", "-")] = value
    return response

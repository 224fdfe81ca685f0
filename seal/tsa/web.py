"""The TSA's HTTP face (RFC 3161 §3.4): ``POST /tsa`` with a time-stamp query, answered with a
time-stamp reply.

Not wired into the application here: ``config`` is to build a :class:`~seal.tsa.TsaSettings`
from ``HUREN_TSA_KEY`` (a ``file:`` / ``pkcs11:`` key URI as in ``drivers``),
``HUREN_TSA_POLICY`` and ``HUREN_TSA_ACCURACY_MS``, open the token once, and register
``make_tsa_blueprint(factory, max_request_bytes=settings.max_request_bytes)`` where
``factory`` returns the (cached) :class:`~seal.tsa.TimeStampAuthority`.

A refused request is still HTTP 200 with a rejection TimeStampResp (RFC 3161 clients read the
PKIStatus); HTTP errors are for what is not a time-stamp query at all: 405, 413, 415, and
503 (with a systemFailure reply) when the authority cannot be built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Response, request

from seal.tsa.authority import TimeStampAuthority
from seal.tsa.client import QUERY_TYPE, REPLY_TYPE
from seal.tsa.request import MAX_REQUEST_BYTES
from seal.tsa.response import rejection

__all__ = ["make_tsa_blueprint"]

log = logging.getLogger(__name__)

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _reply(body: bytes, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype=REPLY_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def _plain(text: str, status: int) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


def make_tsa_blueprint(
    authority_factory: Callable[[], TimeStampAuthority],
    *,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    path: str = "/tsa",
    name: str = "tsa",
) -> Blueprint:
    """A blueprint serving ``POST {path}``; ``authority_factory`` is called for each request
    (return a cached authority from it: building one may open a PKCS#11 session)."""
    bp = Blueprint(name, __name__)

    def timestamp() -> Response:
        if request.method != "POST":
            response = _plain("use POST with an application/timestamp-query body", 405)
            response.headers["Allow"] = "POST"
            return response
        if request.mimetype != QUERY_TYPE:
            return _plain(f"Content-Type must be {QUERY_TYPE}", 415)
        length = request.content_length
        if length is not None and length > max_request_bytes:
            return _plain(f"a time-stamp query is at most {max_request_bytes} bytes", 413)
        body = request.stream.read(max_request_bytes + 1)
        if len(body) > max_request_bytes:
            return _plain(f"a time-stamp query is at most {max_request_bytes} bytes", 413)
        try:
            authority = authority_factory()
        except Exception:
            log.exception("the time-stamp authority is not available")
            unavailable = _reply(rejection("system_failure", "the TSA is not available"), 503)
            unavailable.headers["Retry-After"] = "30"
            return unavailable
        return _reply(authority.respond(body))

    bp.add_url_rule(
        path,
        endpoint="timestamp",
        view_func=timestamp,
        methods=_METHODS,
        provide_automatic_options=False,
    )
    return bp

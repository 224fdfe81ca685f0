"""TimeStampResp (RFC 3161 §2.4.2): build one, read one.

asn1crypto's ``tsp.TimeStampResp`` declares timeStampToken mandatory, so it can neither write
nor read a rejection (RFC 3161: "timeStampToken ... OPTIONAL", absent unless granted). This
module's definition makes it optional and is used for both directions.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import cms, core, tsp

from seal.tsa.errors import MalformedTimestamp

__all__ = ["GRANTED", "ParsedResponse", "TimeStampResp", "granted", "parse_response", "rejection"]

GRANTED = frozenset({"granted", "granted_with_mods"})


class TimeStampResp(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def rejection(fail_info: str, text: str) -> bytes:
    """A rejection: ``fail_info`` is a PKIFailureInfo name in asn1crypto's spelling
    (``bad_alg``, ``bad_request``, ``bad_data_format``, ``unaccepted_policy``, …)."""
    status = {"status": "rejection", "status_string": [text], "fail_info": {fail_info}}
    return bytes(TimeStampResp({"status": status}).dump())


def granted(token: cms.ContentInfo) -> bytes:
    return bytes(TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump())


@dataclass(frozen=True)
class ParsedResponse:
    status: str
    """``granted``, ``granted_with_mods``, ``rejection``, ``waiting``, … (asn1crypto names)."""
    texts: tuple[str, ...]
    fail_info: tuple[str, ...]
    token: bytes | None
    """The TimeStampToken's DER when granted."""


def parse_response(data: bytes) -> ParsedResponse:
    """Read a TimeStampResp; anything else → :class:`MalformedTimestamp`."""
    try:
        resp = TimeStampResp.load(bytes(data), strict=True)
        resp.native  # noqa: B018 - parse every field now
        info = resp["status"]
        status = info["status"].native
        texts = tuple(info["status_string"].native or ())
        fail = info["fail_info"].native
        token = resp["time_stamp_token"]
        token_der = None if isinstance(token, core.Void) else bytes(token.dump())
    except Exception as exc:
        raise MalformedTimestamp("the reply is not a DER TimeStampResp") from exc
    if not isinstance(status, str):
        raise MalformedTimestamp(f"unknown PKIStatus {status}")
    if (status in GRANTED) != (token_der is not None):
        raise MalformedTimestamp("a granted reply carries a token, and only a granted one")
    return ParsedResponse(status, texts, tuple(sorted(fail or ())), token_der)

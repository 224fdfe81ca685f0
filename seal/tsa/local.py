"""The service's own TSA as a pyhanko `TimeStamper`, called in-process.

When the service stamps a PDF at B-T with its own time-stamp key, going out over HTTP to its own
`/tsa` would tie up a second worker (and deadlock a single-worker server); the authority's
`respond` is the same code path the HTTP face runs.
"""

from __future__ import annotations

from asn1crypto import tsp
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from .authority import TimeStampAuthority
from .response import parse_response

__all__ = ["LocalTimeStamper"]


class LocalTimeStamper(TimeStamper):
    def __init__(self, authority: TimeStampAuthority) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self._authority = authority

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        reply = self._authority.respond(bytes(req.dump()))
        parsed = parse_response(reply)
        if parsed.token is None:
            # asn1crypto cannot load a rejection (it makes the token mandatory): say it here
            raise TimestampRequestError(
                f"the platform TSA refused: {parsed.status} {', '.join(parsed.fail_info)}"
            )
        return tsp.TimeStampResp.load(reply)

"""A small RFC 3161 client over HTTP (RFC 3161 §3.4) for our own use.

pyhanko's ``HTTPTimeStamper`` names the imprint hash through asn1crypto, which does not know
SM3, so SM2 PDF signatures that stamp an SM3 digest come here. Every reply is checked before
it is returned: the nonce, the imprint, the signature, the ESS binding and the TSA
certificate's extended key usage (:func:`seal.tsa.verify.verify_token`). Trusting the TSA's
CA is left to the trust store, as for any certificate.
"""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import tsp

from cert_interop.x509 import Certificate
from seal.tsa import oids
from seal.tsa.errors import TimestampRejected, TimestampUnavailable
from seal.tsa.response import parse_response
from seal.tsa.verify import TimestampInfo, check_digest, verify_token

__all__ = ["QUERY_TYPE", "REPLY_TYPE", "TimestampToken", "build_request", "request_timestamp"]

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 256 * 1024
"""A reply with a long certificate chain is ~10 KiB; more than this is not a reply."""


@dataclass(frozen=True)
class TimestampToken:
    der: bytes
    """The TimeStampToken (CMS ContentInfo), as it goes into a signature's unsigned attributes."""
    info: TimestampInfo


def build_request(
    digest: bytes,
    hash_name: str,
    *,
    nonce: int | None = None,
    cert_req: bool = True,
    policy: str | None = None,
) -> bytes:
    """A DER TimeStampReq for ``digest`` (``hash_name``: sha256, sha384, sha512 or sm3)."""
    digest = check_digest(digest, hash_name)
    req: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": oids.IMPRINT_OIDS[hash_name]},
            "hashed_message": digest,
        },
        "cert_req": cert_req,
    }
    if nonce is not None:
        req["nonce"] = nonce
    if policy is not None:
        req["req_policy"] = policy
    return bytes(tsp.TimeStampReq(req).dump())


def request_timestamp(
    url: str,
    digest: bytes,
    hash_name: str,
    *,
    nonce: bool | int = True,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    cert_req: bool = True,
    policy: str | None = None,
    certificates: Sequence[Certificate] = (),
) -> TimestampToken:
    """Ask the TSA at ``url`` to stamp ``digest`` and return the checked token.

    ``nonce``: True for a random 64-bit nonce, False for none, or the nonce to send.
    ``certificates``: the TSA certificate, when ``cert_req=False`` leaves it out of the token.
    Raises :class:`TimestampUnavailable` (network, HTTP, size), :class:`TimestampRejected`
    (the TSA refused), or another :class:`~seal.tsa.errors.TsaError` (the token is bad).
    """
    if not url.startswith(("http://", "https://")):
        raise TimestampUnavailable(f"the TSA URL must be http(s), not {url!r}")
    if isinstance(nonce, bool):
        sent: int | None = secrets.randbits(63) | 1 << 62 if nonce else None
    else:
        sent = nonce
    body = build_request(digest, hash_name, nonce=sent, cert_req=cert_req, policy=policy)
    reply = _post(url, body, timeout, max_bytes)
    parsed = parse_response(reply)
    if parsed.token is None:
        texts = "; ".join(parsed.texts) or "no reason given"
        raise TimestampRejected(
            f"the TSA refused: {parsed.status} [{', '.join(parsed.fail_info)}] {texts}",
            status=parsed.status,
            fail_info=parsed.fail_info,
        )
    info = verify_token(
        parsed.token, digest, hash_name, nonce=sent, policy=policy, certificates=certificates
    )
    return TimestampToken(parsed.token, info)


def _post(url: str, body: bytes, timeout: float, max_bytes: int) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - scheme checked by the caller
        url,
        data=body,
        method="POST",
        headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            ctype = response.headers.get_content_type()
            data: bytes = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise TimestampUnavailable(f"the TSA answered HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections, bad URLs
        raise TimestampUnavailable(f"the TSA could not be reached: {exc}") from exc
    if ctype != REPLY_TYPE:
        raise TimestampUnavailable(f"the TSA answered {ctype}, not {REPLY_TYPE}")
    if len(data) > max_bytes:
        raise TimestampUnavailable(f"the TSA's reply is larger than {max_bytes} bytes")
    return data

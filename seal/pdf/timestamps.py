"""RFC 3161 timestamps for signatures: the caller's pyhanko ``TimeStamper`` or a TSA URL.

A URL becomes pyhanko's ``HTTPTimeStamper``; anything pyhanko-compatible (the future
``seal.tsa`` client, ``DummyTimeStamper`` in tests) is used as given. The token always imprints
SHA-256 of the signature value: every TSA speaks SHA-256, while few accept SM3.
"""

from __future__ import annotations

import hashlib

from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper

from seal.pdf.errors import TimestampFailed

__all__ = ["IMPRINT_DIGEST", "resolve_timestamper", "timestamp_token", "token_size", "tsa_url"]

IMPRINT_DIGEST = "sha256"
TSA_TIMEOUT = 10


def resolve_timestamper(value: TimeStamper | str | None) -> TimeStamper | None:
    if value is None or isinstance(value, TimeStamper):
        return value
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return HTTPTimeStamper(value, timeout=TSA_TIMEOUT)
    raise TimestampFailed("the timestamper must be a pyhanko TimeStamper or an http(s) URL")


def tsa_url(timestamper: TimeStamper | None) -> str | None:
    """The URL to reach the same TSA again later (``None`` for in-process timestampers)."""
    url = getattr(timestamper, "url", None)
    return url if isinstance(url, str) else None


async def timestamp_token(timestamper: TimeStamper, signature: bytes) -> bytes:
    """A timestamp token (CMS ContentInfo, DER) over ``signature``."""
    imprint = hashlib.sha256(signature).digest()
    try:
        token = await timestamper.async_timestamp(imprint, IMPRINT_DIGEST)
        return bytes(token.dump())
    except Exception as exc:  # network, HTTP, TSA refusal, bad response: all one failure
        raise TimestampFailed(f"the TSA did not give a timestamp: {exc}") from exc


async def token_size(timestamper: TimeStamper) -> int:
    """Size of a typical token of this TSA (asks it once; pyhanko caches the answer)."""
    try:
        token = await timestamper.async_dummy_response(IMPRINT_DIGEST)
        return len(token.dump())
    except Exception as exc:
        raise TimestampFailed(f"the TSA did not answer: {exc}") from exc

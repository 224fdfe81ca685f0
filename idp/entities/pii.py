"""Personal data at rest: sealed for reading back, blind-indexed for finding.

A blind index is HMAC-SHA256 of the normalised value under a key derived from the master secret
per kind, so "全角 Ｘ with spaces" and "x" find the same row, equality and uniqueness work in SQL,
and a stolen database alone cannot be searched (unlike a plain hash of a 10^10-sized ID space).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cert_interop.identifiers import normalize_code, normalize_phone
from storage import at_rest

_NORMALISE: dict[str, Callable[[str], str]] = {
    "id_number": normalize_code,
    "phone": normalize_phone,
}
"""How each kind is normalised before indexing; other kinds are indexed as given."""


class PersonalData:
    """Seals, opens and indexes personal data of one `kind` (``id_number``, ``phone``, …)."""

    def __init__(self, master: bytes) -> None:
        if not master:
            raise ValueError("the master secret is empty")
        self._master = master
        self._index_keys: dict[str, bytes] = {}

    def seal(self, kind: str, value: str) -> bytes:
        return at_rest.seal(self._master, f"pii:{kind}", value.encode("utf-8"))

    def unseal(self, kind: str, sealed: bytes) -> str:
        """The value; `storage.at_rest.SealedDataError` if tampered or sealed under another key."""
        return at_rest.unseal(self._master, f"pii:{kind}", sealed).decode("utf-8")

    def index(self, kind: str, value: str) -> str:
        """64 hex characters, equal for equal normalised values of the same kind."""
        normalise = _NORMALISE.get(kind)
        text = normalise(value) if normalise else value
        return hmac.new(self._index_key(kind), text.encode("utf-8"), hashlib.sha256).hexdigest()

    def _index_key(self, kind: str) -> bytes:
        key = self._index_keys.get(kind)
        if key is None:
            key = HKDF(
                hashes.SHA256(), 32, salt=b"huren-blind-index", info=f"blind-index:{kind}".encode()
            ).derive(self._master)
            self._index_keys[kind] = key
        return key

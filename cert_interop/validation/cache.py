"""A small bounded LRU of signature verdicts, so repeated validations of the same chain cost
about one signature check (the leaf's, when the leaf is new) instead of one per certificate.

Key: ``(issuer SubjectPublicKeyInfo DER, signature algorithm OID, signed TBS DER, signature)``.
The key holds the exact bytes, not a digest or a key identifier, so a hit can only be the very
same signature under the very same key (a forged certificate reusing an issuer's SKI cannot hit
an entry). Python caches the hash of a ``bytes`` object, so a lookup with certificates already
seen costs a tuple hash and, on a hit, a byte comparison. The verdict is a pure function of the
key, so the cache never goes stale and needs no TTL; it lives in process memory on purpose (it
is a memo of a computation, not state). ``maxsize`` bounds it (about 2-4 KiB an entry).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from cert_interop.keys import PublicKey
from cert_interop.x509 import Certificate, Crl, verify_signature

__all__ = ["DEFAULT_MAXSIZE", "SignatureCache", "signature_cache"]

DEFAULT_MAXSIZE = 2048

_Key = tuple[bytes, str, bytes, bytes]


class SignatureCache:
    """Thread-safe bounded LRU of ``verify_signature`` verdicts."""

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.maxsize = max(0, maxsize)
        self._data: OrderedDict[_Key, bool] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def verify(self, obj: Certificate | Crl, issuer_spki: bytes, issuer_key: PublicKey) -> bool:
        """``verify_signature(obj, issuer_key)``, memoised. ``issuer_spki`` must be the DER of
        ``issuer_key`` (callers pass ``Certificate.public_key_info``). Raises what
        ``verify_signature`` raises (``UnsupportedAlgorithm``); such calls are not cached."""
        key: _Key = (issuer_spki, obj.signature_algorithm_oid, obj.tbs_bytes, obj.signature)
        with self._lock:
            verdict = self._data.get(key)
            if verdict is not None:
                self._data.move_to_end(key)
                self.hits += 1
                return verdict
            self.misses += 1
        verdict = verify_signature(obj, issuer_key)
        if self.maxsize:
            with self._lock:
                self._data[key] = verdict
                self._data.move_to_end(key)
                while len(self._data) > self.maxsize:
                    self._data.popitem(last=False)
        return verdict

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


signature_cache = SignatureCache()
"""The process-wide cache ``validate`` uses unless given another."""

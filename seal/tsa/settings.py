"""What configuration decides about the platform's TSA, in one frozen value.

``config`` is meant to fill it from the environment and hand it to :meth:`build`:
``HUREN_TSA_KEY`` (a ``file:`` or ``pkcs11:`` token URI, opened with ``drivers.open_token``
and adapted with ``config.token_adapters``, so an HSM key stays in the HSM),
``HUREN_TSA_POLICY``, ``HUREN_TSA_ACCURACY_MS``. Nothing here opens a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from cert_interop.cms import SigningKey
from cert_interop.x509 import Certificate
from seal.tsa import oids
from seal.tsa.authority import TimeStampAuthority
from seal.tsa.request import MAX_REQUEST_BYTES

__all__ = ["TsaSettings"]


@dataclass(frozen=True)
class TsaSettings:
    key_uri: str | None = None
    """``HUREN_TSA_KEY``: where the TSA key and certificate live; None: no TSA is served."""
    policy: str = oids.DEFAULT_POLICY
    accuracy: timedelta | None = timedelta(seconds=1)
    signing_time: bool = True
    max_request_bytes: int = MAX_REQUEST_BYTES
    """The HTTP face answers 413 above this."""

    def build(
        self, signer: SigningKey, certificate: Certificate, chain: Sequence[Certificate] = ()
    ) -> TimeStampAuthority:
        """The authority for the key found at :attr:`key_uri` and its certificate."""
        return TimeStampAuthority(
            signer,
            certificate,
            chain=chain,
            policy=self.policy,
            accuracy=self.accuracy,
            signing_time=self.signing_time,
        )

"""The seal service's view of market entities, implemented over the identity provider.

`seal` and `idp` share a floor and do not import each other; this composition-root adapter is
the one place that knows both (seal.records.directory explains why a live view, not a copy).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pyhanko.sign.timestamps import TimeStamper
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.profiles import Identity
from cert_interop.x509 import Certificate
from idp.certlogin.bindings import cert_identity, identity_matches
from idp.entities.models import MarketEntity
from idp.entities.pii import PersonalData
from seal.ltv import revocation_material
from seal.pdf import Level, RevocationMaterial
from seal.records.directory import EntityFacts
from seal.records.service import CertificateChecker, SealView
from seal.tsa import TimeStampAuthority
from seal.tsa.errors import TsaNotConfigured
from seal.tsa.local import LocalTimeStamper
from seal.verification import bound_certificate

from .settings import Settings

if TYPE_CHECKING:
    from .crypto_api import TokenPlatformKey

log = logging.getLogger(__name__)


class IdpEntityDirectory:
    def __init__(self, sessions: sessionmaker[Session], master_secret: bytes) -> None:
        self._sessions = sessions
        self._pii = PersonalData(master_secret)

    def entity(self, entity_id: str) -> EntityFacts | None:
        with self._sessions() as db:
            found = db.get(MarketEntity, entity_id[:36])
            if found is None:
                return None
            return EntityFacts(found.id, found.entity_type, found.name, found.status)

    def holds(self, entity_id: str, identity: Identity | None) -> bool:
        ident = cert_identity(identity)
        if not ident.present:
            return False
        with self._sessions() as db:
            found = db.get(MarketEntity, entity_id[:36])
            return found is not None and identity_matches(self._pii, found, ident)


class SealResources:
    """What stamping needs from the deployment: platform keys (server-held seals), the TSA for
    B-T/B-LT, and the trust store for B-LT revocation data. The CLI and the API share it."""

    def __init__(
        self,
        settings: Settings,
        keys: Mapping[str, TokenPlatformKey],
        trust_store: CertificateChecker,
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._trust_store = trust_store
        self._authority: TimeStampAuthority | None = None
        self._lock = threading.Lock()

    def authority(self) -> TimeStampAuthority:
        """The platform's own TSA (HUREN_TSA_KEY), built on first use and kept."""
        name = self._settings.tsa_key
        if name is None:
            raise TsaNotConfigured("HUREN_TSA_KEY is not set")
        with self._lock:
            if self._authority is None:
                key = self._keys[name]
                self._authority = TimeStampAuthority(key, key.certificate)
            return self._authority

    def timestamper(self, level: Level) -> TimeStamper | str | None:
        """An external TSA's URL (HUREN_TSA_URL) first, else the service's own, in-process."""
        if not level.timestamped:
            return None
        if self._settings.tsa_url:
            return self._settings.tsa_url
        if self._settings.tsa_key:
            return LocalTimeStamper(self.authority())
        raise TsaNotConfigured(
            f"a {level.value} stamp needs a time-stamp authority: set HUREN_TSA_URL, or "
            "HUREN_TSA_KEY for the service's own"
        )

    def revocation(self, cert: Certificate, level: Level) -> RevocationMaterial | None:
        return revocation_material(self._trust_store, cert) if level is Level.B_LT else None

    def server_key(self, seal: SealView) -> TokenPlatformKey | None:
        """A platform key whose certificate the seal is bound to (institution seals)."""
        for key in self._keys.values():
            try:
                cert = key.certificate
            except Exception:  # a key whose token is down cannot stamp; try the others
                log.warning("platform key %s is unavailable", key.name)
                continue
            if bound_certificate(seal, cert):
                return key
        return None

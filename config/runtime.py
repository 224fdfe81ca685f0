"""What CLI commands share: settings, engine and session factory, built on first use."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.truststore import TrustStore
from storage.db import make_engine, make_session_factory

from .settings import Settings

if TYPE_CHECKING:
    from .crypto_api import TokenPlatformKey
    from .seal_wiring import IdpEntityDirectory, SealResources

IDP_MIGRATIONS = str(Path(__file__).resolve().parent.parent / "idp" / "migrations" / "versions")
CERT_INTEROP_MIGRATIONS = str(
    Path(__file__).resolve().parent.parent / "cert_interop" / "migrations" / "versions"
)
SEAL_MIGRATIONS = str(Path(__file__).resolve().parent.parent / "seal" / "migrations" / "versions")
MIGRATION_LOCATIONS = (IDP_MIGRATIONS, CERT_INTEROP_MIGRATIONS, SEAL_MIGRATIONS)


class Runtime:
    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings

    @cached_property
    def settings(self) -> Settings:
        return self._settings or Settings.load()

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def trust_store(self) -> TrustStore:
        """The trust store as the service builds it (online revocation per the settings)."""
        from storage.ephemeral import open_store

        from .crypto_api import make_trust_store

        store = open_store(self.engine, self.settings.redis_url, self.settings.redis_prefix)
        return make_trust_store(self.settings, self.sessions, store)

    @property
    def master_secret(self) -> bytes:
        return self.settings.secret_key

    @cached_property
    def seal_directory(self) -> IdpEntityDirectory:
        from .seal_wiring import IdpEntityDirectory

        return IdpEntityDirectory(self.sessions, self.master_secret)

    @cached_property
    def seal_resources(self) -> SealResources:
        from .crypto_api import TokenPlatformKey
        from .seal_wiring import SealResources

        keys = {name: TokenPlatformKey(name, uri) for name, uri in self.settings.platform_keys}
        return SealResources(self.settings, keys, self.trust_store)

    @cached_property
    def seal_maker(self) -> TokenPlatformKey:
        """The seal-making authority's key (HUREN_SEAL_MAKER names a platform key)."""
        from cert_interop.cli_errors import UserError

        from .crypto_api import TokenPlatformKey

        name = self.settings.seal_maker
        if name is None:
            raise UserError(
                "no seal-making key: set HUREN_SEAL_MAKER to the name of a key in "
                "HUREN_PLATFORM_KEYS (docs/operators.md, electronic seals)"
            )
        return TokenPlatformKey(name, dict(self.settings.platform_keys)[name])

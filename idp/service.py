"""The identity provider's parts wired together once per process (by `config.create_app`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.ephemeral import EphemeralStore

from .keys import KeyRing
from .sessions import SessionStore
from .throttle import LoginThrottle, ThrottlePolicy
from .tokens import TokenPolicy, TokenService


@dataclass(frozen=True)
class IdpConfig:
    """What the identity provider needs of the service's settings (defaults live in `Settings`)."""

    issuer: str
    code_ttl: int
    access_token_ttl: int
    id_token_ttl: int
    refresh_token_ttl: int
    session_ttl: int
    login_max_failures: int
    login_ip_max_failures: int
    login_window: int
    login_lockout: int
    backchannel_max_attempts: int
    key_refresh_interval: float = 5.0


class Idp:
    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        store: EphemeralStore,
        master_secret: bytes,
        config: IdpConfig,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.config = config
        self.keys = KeyRing(sessions, master_secret, config.key_refresh_interval)
        from .entities.pii import PersonalData

        self.pii = PersonalData(master_secret)
        self.tokens = TokenService(
            self.keys,
            store,
            sessions,
            TokenPolicy(
                issuer=config.issuer,
                access_token_ttl=config.access_token_ttl,
                id_token_ttl=config.id_token_ttl,
                refresh_token_ttl=config.refresh_token_ttl,
            ),
        )
        self.sso = SessionStore(store, config.session_ttl)
        self.throttle = LoginThrottle(
            store,
            ThrottlePolicy(
                max_failures=config.login_max_failures,
                ip_max_failures=config.login_ip_max_failures,
                window=config.login_window,
                lockout=config.login_lockout,
            ),
        )
        from .backchannel import BackchannelDelivery
        from .oauth import build_server  # late: oauth needs a finished Idp

        self.server = build_server(self)
        self.backchannel: BackchannelDelivery | None = BackchannelDelivery(
            engine, self.tokens, config.backchannel_max_attempts
        )

    def entity_claims(
        self, user_id: str, scope: str, claims_request: Any, target: str
    ) -> dict[str, Any]:
        """Entity claims for ``user_id`` when the scope or claims request needs them."""
        from .claims import needs_entity_claims
        from .entities.service import claims_for_account

        if not needs_entity_claims(scope, claims_request, target):
            return {}
        identity = "identity" in scope.split()
        return claims_for_account(self.sessions, self.pii, user_id, identity=identity)

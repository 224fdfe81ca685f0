"""The identity provider's parts wired together once per process (by `config.create_app`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.ephemeral import EphemeralStore

from .keys import KeyRing
from .sessions import SessionStore
from .throttle import LoginThrottle, ThrottlePolicy
from .tokens import TokenPolicy, TokenService

if TYPE_CHECKING:
    from cert_interop.truststore import TrustStore

    from .entities.events import EntityEventDelivery
    from .entities.onboarding import Onboarding


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
    environment: str = "production"
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = field(default=None, repr=False)
    registry_url: str | None = None
    registry_token: str | None = field(default=None, repr=False)
    registry_timeout: int = 5
    register_ip_limit: int = 10
    register_ip_window: int = 3600
    bridge_port: int = 21800
    """Where certificate login's pages look for the bidder's local bridge."""
    qr_ticket_ttl: int = 120
    """Seconds a QR login ticket lives (`HUREN_QR_TICKET_TTL`, 30 to 600)."""

    @property
    def development(self) -> bool:
        return self.environment == "development"


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
        self.trust_store: TrustStore | None = None
        """Set by the composition root: validates certificates for certificate login."""
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
        from .entities.events import EntityEventDelivery as _EntityEvents

        self.entity_events: EntityEventDelivery | None = _EntityEvents(engine, self.tokens)
        self.onboarding: Onboarding = _onboarding(self, master_secret)

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


def _onboarding(idp: Idp, master_secret: bytes) -> Onboarding:
    """SMS codes and the registry as the settings name them (see `Onboarding`)."""
    from .entities.onboarding import Onboarding
    from .registry.http import HttpRegistry
    from .sms import DevSmsSender, HttpSmsGateway, SmsCodes, SmsSender

    config = idp.config
    dev = DevSmsSender(idp.store) if config.development else None
    sender: SmsSender | None = dev
    if config.sms_gateway_url:
        sender = HttpSmsGateway(config.sms_gateway_url, token=config.sms_gateway_token)
        dev = None
    codes = SmsCodes(idp.store, sender, key=master_secret) if sender is not None else None
    registry = (
        HttpRegistry(
            config.registry_url,
            token=config.registry_token,
            timeout=config.registry_timeout,
            cache=idp.store,
        )
        if config.registry_url
        else None
    )
    return Onboarding(
        sessions=idp.sessions,
        pii=idp.pii,
        store=idp.store,
        sms=codes,
        dev_sms=dev,
        registry=registry,
        ip_limit=(config.register_ip_limit, config.register_ip_window),
    )

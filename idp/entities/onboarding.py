"""Self-registration as the pages drive it (§6.3.1): throttle, validate, check, then register.

Order matters. Everything that costs nothing and refuses most bad input runs first (per-address
throttle, field validation, duplicate check), then the registry is asked (a network call, so
only for well-formed organisations), and the SMS code is spent last, so a typo elsewhere does
not burn the code the person just typed. The entity is written in one transaction with the
verdict the checks reached: `verified` when every automatic check passed, `pending` with the
reasons when an operator has to decide (registry unreachable, contradicting itself, not
configured, or the organisation on a dishonesty list). A registry answer that refutes the
declaration (unknown code, another name, a revoked licence) is a refusal of that field, not a
rejected entity: the person corrects the form, nothing was written.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from idp.registry import Registry, VerdictState, verify_organisation
from idp.registry.api import REASON_NAME_MISMATCH
from idp.sms import DevSmsSender, SentCode, SmsCodes
from idp.sms.errors import InvalidPhone
from storage.ephemeral import EphemeralStore

from . import service
from .errors import EntityError, InvalidField
from .pii import PersonalData
from .service import NATURAL_PERSON, EntityView

__all__ = [
    "REASON_REGISTRY_NOT_CONFIGURED",
    "REGISTER_PURPOSE",
    "Onboarding",
    "RegistrationThrottled",
    "refuted_field",
    "registry_verdict",
]

log = logging.getLogger(__name__)

REGISTER_PURPOSE = "register"
REASON_REGISTRY_NOT_CONFIGURED = "registry_not_configured"
FIELDS = (
    "entity_type",
    "name",
    "uscc",
    "agent_name",
    "id_type",
    "id_number",
    "phone",
    "username",
    "password",
)
"""The form fields `Onboarding.register` reads (`sms_code` comes separately)."""


class RegistrationThrottled(EntityError):
    """Too many registrations from one client address; `retry_after` is in seconds."""

    code = "registration_throttled"
    zh = "该网络地址注册过于频繁，请稍后再试"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many registrations from this address; retry in {retry_after} s",
            zh=f"该网络地址注册过于频繁，请 {max(1, (retry_after + 59) // 60)} 分钟后再试",
        )
        self.retry_after = retry_after


def registry_verdict(
    registry: Registry | None, uscc: str, name: str
) -> tuple[VerdictState, tuple[str, ...]]:
    """What the registry's answer makes of a declared organisation (shared by registration and
    `huren entity import`): VERIFIED with no reasons; PENDING with the reasons an operator
    reviews (unreachable, contradicting, dishonest, or no registry configured); REJECTED with
    the reasons the declaration is refuted (unknown code, another name, a non-active status)."""
    if registry is None:
        return VerdictState.PENDING, (REASON_REGISTRY_NOT_CONFIGURED,)
    verdict = verify_organisation(registry, uscc, name)
    if verdict.state is VerdictState.VERIFIED:
        return VerdictState.VERIFIED, ()
    return verdict.state, verdict.reasons


def refuted_field(reason: str) -> str:
    """The form field a registry refusal is about: the name for a name mismatch, else the
    credit code."""
    return "name" if reason == REASON_NAME_MISMATCH else "uscc"


@dataclass(frozen=True)
class Onboarding:
    """What registration needs besides the entity service; built once per process.

    `sms` is None when no sender is configured (production without a gateway): registration is
    then unavailable. `dev_sms` is the development sender whose messages the developer page
    shows; it is None in production. `registry` None means every organisation is left pending
    for an operator. `ip_limit` is (registrations, seconds) per client address.
    """

    sessions: sessionmaker[Session]
    pii: PersonalData
    store: EphemeralStore
    sms: SmsCodes | None
    dev_sms: DevSmsSender | None
    registry: Registry | None
    ip_limit: tuple[int, int] = (10, 3600)

    @property
    def available(self) -> bool:
        return self.sms is not None

    def send_code(self, phone: str, ip: str) -> SentCode:
        """Send a registration code; `InvalidField("phone", …)` for a bad number, else the
        `idp.sms.errors` refusals (too soon, throttled, gateway unavailable)."""
        if self.sms is None:
            raise InvalidField("phone", "sms_unavailable")
        try:
            return self.sms.send(phone, REGISTER_PURPOSE, ip)
        except InvalidPhone:
            raise InvalidField("phone", "format") from None

    def register(self, form: Mapping[str, object], *, sms_code: object, ip: str) -> EntityView:
        """Register from a submitted form; see the module docstring for the order of checks.

        Raises `RegistrationThrottled`, `InvalidField(field, reason)` (including
        ``sms_code``/``wrong_or_expired`` and registry refusals on ``uscc`` or ``name``) or
        `DuplicateEntity`. Nothing is written unless the entity is registered in full.
        """
        if self.sms is None:
            raise InvalidField("phone", "sms_unavailable")
        self._throttle(ip)
        reg = service.validate_registration(**{name: form.get(name) for name in FIELDS})
        service.refuse_duplicate(self.sessions, self.pii, reg)
        status, reasons = "verified", tuple[str, ...]()
        if reg.entity_type != NATURAL_PERSON:
            status, reasons = self._registry_verdict(reg.uscc or "", reg.name)
        if not isinstance(sms_code, str) or not sms_code.strip() or len(sms_code) > 32:
            raise InvalidField("sms_code", "required" if not sms_code else "wrong_or_expired")
        if not self.sms.verify(reg.phone, REGISTER_PURPOSE, sms_code):
            raise InvalidField("sms_code", "wrong_or_expired")
        view = service.register(
            self.sessions,
            self.pii,
            entity_type=reg.entity_type,
            name=reg.name,
            username=reg.username,
            password=reg.password,
            phone=reg.phone,
            uscc=reg.uscc,
            agent_name=reg.account_name if reg.entity_type != NATURAL_PERSON else None,
            id_type=reg.id_type,
            id_number=reg.id_number,
            phone_verified=True,
            status=status,
            reasons=reasons,
            actor="system",
        )
        self.store.incr(self._counter(ip), self.ip_limit[1])
        return view

    def _registry_verdict(self, uscc: str, name: str) -> tuple[str, tuple[str, ...]]:
        state, reasons = registry_verdict(self.registry, uscc, name)
        if state is VerdictState.REJECTED:
            reason = reasons[0]
            raise InvalidField(refuted_field(reason), reason)
        return state.value, reasons

    def _throttle(self, ip: str) -> None:
        count, window = self.ip_limit
        name = self._counter(ip)
        if self.store.incr(name, window, amount=0) >= count:  # amount 0: read the counter
            raise RegistrationThrottled(int(self.store.ttl(name) or window) + 1)

    @staticmethod
    def _counter(ip: str) -> str:
        digest = hashlib.sha256(ip.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
        return f"register-rate:{digest[:32]}"

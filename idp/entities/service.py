"""Registration and life cycle of market entities (§6.3.1).

Every write is one transaction: the account, the entity, its membership, the sealed contact, the
outbox event and the audit row commit together or not at all, so a failure never leaves a
half-registered entity and consumers never hear of a change that did not happen. Personal data
(ID numbers, mobiles) is validated and normalised here, sealed and blind-indexed through
`PersonalData`, and leaves this module only masked.

Note: this module defines `list`, so annotations use `tuple`/`Sequence` and the builtin is
reached as `builtins.list`.
"""

from __future__ import annotations

import builtins
import dataclasses
import logging
import re
import secrets
import time
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from cert_interop.identifiers import (
    ENTITY_TYPES,
    ID_TYPES,
    id_number_problem,
    mask_id_number,
    mask_phone,
    normalize_code,
    normalize_name,
    normalize_phone,
    phone_problem,
    uscc_problem,
)
from idp import audit
from idp.accounts import MAX_PASSWORD, MIN_PASSWORD, USERNAME, hash_password
from idp.models import Account
from storage.outbox import publish

from .errors import (
    DuplicateEntity,
    EntityNotFound,
    InvalidField,
    InvalidTransition,
    LastAdmin,
    NotEntityAdmin,
)
from .models import EntityContact, EntityMember, EntityReview, MarketEntity
from .pii import PersonalData

log = logging.getLogger(__name__)
_T = TypeVar("_T")

STATUSES = ("pending", "verified", "rejected")
ROLES = ("admin", "agent")
NATURAL_PERSON = "natural_person"
TRANSITIONS = frozenset(
    {
        ("pending", "verified"),
        ("pending", "rejected"),
        ("rejected", "pending"),  # the entity corrected its data: review again
        ("verified", "rejected"),  # e.g. the registry revoked the licence; needs a reason
    }
)
NAME_LENGTH = (2, 100)
AGENT_NAME_LENGTH = (2, 50)
_CONTROL = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
"""Control, format (zero-width), surrogate, private-use and unassigned characters."""
MAX_RAW = 1000
"""Longer input is refused before any normalisation work is spent on it."""
REASON_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_REASONS = 20
MAX_NOTE = 2000
MAX_ACTOR = 150
MAX_PAGE = 500


@dataclass(frozen=True)
class MemberView:
    account_id: str
    username: str
    name: str | None
    role: str
    disabled: bool
    phone_masked: str | None


@dataclass(frozen=True)
class EntityView:
    """An entity as pages, the CLI and the API show it: personal data only masked."""

    id: str
    entity_type: str
    name: str
    uscc: str | None
    id_type: str | None
    id_number_masked: str | None
    status: str
    reasons: tuple[str, ...]
    members: tuple[MemberView, ...]
    created_at: float
    updated_at: float
    version: int


@dataclass(frozen=True)
class ReviewView:
    decision: str
    reasons: tuple[str, ...]
    actor: str
    note: str | None
    at: float


@dataclass(frozen=True)
class Registration:
    """A registration after validation: every value normalised, nothing sealed yet."""

    entity_type: str
    name: str
    username: str
    password: str = dataclasses.field(repr=False)
    account_name: str
    phone: str
    uscc: str | None
    id_type: str | None
    id_number: str | None


@dataclass(frozen=True)
class EntityFields:
    """An entity and its first administrator after validation, without a password (an
    import): every value normalised, nothing sealed yet. `account_name` is the agent's name for
    organisations and the person's own name for natural persons."""

    entity_type: str
    name: str
    username: str
    account_name: str
    phone: str
    uscc: str | None
    id_type: str | None
    id_number: str | None


# validation ---------------------------------------------------------------------------------


def _optional(field: str, value: object) -> str | None:
    """The raw text, or None when absent or blank; refuses non-text and absurd lengths."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidField(field, "type")
    if len(value) > MAX_RAW:
        raise InvalidField(field, "length")
    return value


def _required(field: str, value: object) -> str:
    raw = _optional(field, value)
    if raw is None:
        raise InvalidField(field, "required")
    return raw


def _name(field: str, value: object, bounds: tuple[int, int]) -> str:
    """The display form (NFKC, single spaces); the length counts the comparable form too.

    `normalize_name` drops all whitespace (right for comparing organisation names, wrong for
    showing "Anna Schmidt"), so it only decides whether enough name is left.
    """
    raw = _required(field, value)
    if any(unicodedata.category(ch) in _CONTROL for ch in raw):
        raise InvalidField(field, "control_character")
    display = " ".join(unicodedata.normalize("NFKC", raw).split())
    if len(normalize_name(raw)) < bounds[0] or len(display) > bounds[1]:
        raise InvalidField(field, "length")
    return display


def _phone(field: str, value: object) -> str:
    raw = _required(field, value)
    problem = phone_problem(raw)
    if problem:
        raise InvalidField(field, problem)
    return normalize_phone(raw)


def _username(value: object) -> str:
    raw = _required("username", value)
    if not USERNAME.fullmatch(raw):
        raise InvalidField("username", "format")
    return raw


def _password(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidField("password", "required" if value is None else "type")
    if not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise InvalidField("password", "length")
    return value


def _id_type(value: object) -> str:
    raw = _required("id_type", value)
    if raw not in ID_TYPES:
        raise InvalidField("id_type", "unknown")
    return raw


def _id_number(id_type: str, value: object) -> str:
    raw = _required("id_number", value)
    number = normalize_code(raw)
    problem = id_number_problem(id_type, number)
    if problem:
        raise InvalidField("id_number", problem)
    return number


def _uscc(value: object) -> str:
    raw = _required("uscc", value)
    code = normalize_code(raw)
    problem = uscc_problem(code)
    if problem:
        raise InvalidField("uscc", problem)
    return code


def validate_registration(
    *,
    entity_type: object,
    name: object,
    username: object,
    password: object,
    phone: object,
    uscc: object = None,
    agent_name: object = None,
    id_type: object = None,
    id_number: object = None,
) -> Registration:
    """Check every field in form order; the first refusal raises `InvalidField(field, reason)`.

    Organisations give `uscc` and `agent_name` (the registering 经办人); natural persons give
    `id_type` and `id_number`, and their own name is the account's name. Fields that do not
    belong to the type are refused (`not_allowed`) rather than silently dropped.
    """
    kind = _required("entity_type", entity_type)
    if kind not in ENTITY_TYPES:
        raise InvalidField("entity_type", "unknown")
    clean_name = _name("name", name, NAME_LENGTH)
    person = kind == NATURAL_PERSON
    clean_uscc = clean_type = clean_number = None
    if person:
        for field, value in (("uscc", uscc), ("agent_name", agent_name)):
            if _optional(field, value) is not None:
                raise InvalidField(field, "not_allowed")
        clean_type = _id_type(id_type)
        clean_number = _id_number(clean_type, id_number)
        account_name = clean_name
    else:
        for field, value in (("id_type", id_type), ("id_number", id_number)):
            if _optional(field, value) is not None:
                raise InvalidField(field, "not_allowed")
        clean_uscc = _uscc(uscc)
        account_name = _name("agent_name", agent_name, AGENT_NAME_LENGTH)
    return Registration(
        entity_type=kind,
        name=clean_name,
        username=_username(username),
        password=_password(password),
        account_name=account_name,
        phone=_phone("phone", phone),
        uscc=clean_uscc,
        id_type=clean_type,
        id_number=clean_number,
    )


def _reasons(values: Sequence[str]) -> builtins.list[str]:
    if isinstance(values, str) or len(values) > MAX_REASONS:
        raise InvalidField("reasons", "format")
    out: builtins.list[str] = []
    for code in values:
        if not isinstance(code, str) or not REASON_CODE.fullmatch(code):
            raise InvalidField("reasons", "format")
        if code not in out:
            out.append(code)
    return out


def default_username(entity_type: str, uscc: str | None) -> str:
    """The administrator's login when an import names none: an organisation's credit code in
    lower case (public, and unique per entity), else a random ``np-…`` name (never derived from
    the ID number, which must not be guessable from a login)."""
    if entity_type != NATURAL_PERSON and uscc:
        return uscc.lower()
    return f"np-{secrets.token_hex(6)}"


def check_entity(
    *,
    entity_type: object,
    name: object,
    phone: object,
    username: object = None,
    uscc: object = None,
    agent_name: object = None,
    id_type: object = None,
    id_number: object = None,
) -> tuple[EntityFields | None, tuple[InvalidField, ...]]:
    """Validate an entity without a password (an import) and report EVERY refused field.

    The same rules as `validate_registration`, field by field: a field that depends on another
    (an ID number on its document type, every type-specific field on the entity type) is only
    checked once what it depends on is valid. A blank `username` takes `default_username`.
    Returns the normalised fields and no problems, or None and the problems in form order.
    """
    problems: builtins.list[InvalidField] = []

    def attempt(check: Callable[..., _T], *args: object) -> _T | None:
        try:
            return check(*args)
        except InvalidField as exc:
            problems.append(exc)
            return None

    kind: str | None = attempt(_required, "entity_type", entity_type)
    if kind is not None and kind not in ENTITY_TYPES:
        problems.append(InvalidField("entity_type", "unknown"))
        kind = None
    clean_name: str | None = attempt(_name, "name", name, NAME_LENGTH)
    clean_uscc = clean_type = clean_number = account_name = None
    typed = False  # the type-specific fields passed
    if kind == NATURAL_PERSON:
        before = len(problems)
        for field, value in (("uscc", uscc), ("agent_name", agent_name)):
            if attempt(_optional, field, value) is not None:
                problems.append(InvalidField(field, "not_allowed"))
        clean_type = attempt(_id_type, id_type)
        if clean_type is not None:
            clean_number = attempt(_id_number, clean_type, id_number)
        account_name = clean_name
        typed = len(problems) == before
    elif kind is not None:
        before = len(problems)
        for field, value in (("id_type", id_type), ("id_number", id_number)):
            if attempt(_optional, field, value) is not None:
                problems.append(InvalidField(field, "not_allowed"))
        clean_uscc = attempt(_uscc, uscc)
        account_name = attempt(_name, "agent_name", agent_name, AGENT_NAME_LENGTH)
        typed = len(problems) == before
    clean_username: str | None = None
    if username is None or (isinstance(username, str) and not username.strip()):
        if kind is not None and typed:
            clean_username = attempt(_username, default_username(kind, clean_uscc))
    else:
        clean_username = attempt(_username, username)
    clean_phone: str | None = attempt(_phone, "phone", phone)
    if problems:
        return None, tuple(problems)
    assert kind and clean_name and account_name and clean_username and clean_phone
    return (
        EntityFields(
            entity_type=kind,
            name=clean_name,
            username=clean_username,
            account_name=account_name,
            phone=clean_phone,
            uscc=clean_uscc,
            id_type=clean_type,
            id_number=clean_number,
        ),
        (),
    )


# writing ------------------------------------------------------------------------------------


def _new_account(
    db: Session, username: str, name: str, password_hash: str | None, now: float
) -> str:
    """An account row in `db`'s transaction (what `accounts.create_user` does, minus the commit).
    A None `password_hash` makes an account that cannot sign in until a password is set.

    The plain `account.phone` stays empty: the mobile lives sealed in `entity_contact`.
    """
    taken = db.scalar(select(Account.id).where(func.lower(Account.username) == username.lower()))
    if taken:
        raise InvalidField("username", "taken")
    account = Account(
        id=str(uuid.uuid4()),
        username=username,
        name=name,
        phone=None,
        email=None,
        password_hash=password_hash,
        disabled=False,
        created_at=now,
        updated_at=now,
    )
    db.add(account)
    try:
        db.flush()
    except IntegrityError:  # a concurrent registration took the name between check and insert
        raise InvalidField("username", "taken") from None
    return account.id


def register(
    sessions: sessionmaker[Session],
    pii: PersonalData,
    *,
    entity_type: str,
    name: str,
    username: str,
    password: str,
    phone: str,
    uscc: str | None = None,
    agent_name: str | None = None,
    id_type: str | None = None,
    id_number: str | None = None,
    phone_verified: bool = False,
    status: str = "pending",
    reasons: Sequence[str] = (),
    actor: str = "system",
) -> EntityView:
    """Register an entity with the registrant as its administrator.

    The entity starts `pending` unless the caller already checked it (`status` and `reasons`
    from the registry and the SMS check, decided by `actor`; kept in the review history).
    `phone_verified` says the registrant proved the mobile with an SMS code.

    Raises `InvalidField` for a refused field and `DuplicateEntity` when the credit code or ID
    number is already registered (its message says how to recover that account).
    """
    if status not in ("pending", "verified"):
        raise InvalidField("state", "unknown")
    codes = _reasons(reasons)
    reg = validate_registration(
        entity_type=entity_type,
        name=name,
        username=username,
        password=password,
        phone=phone,
        uscc=uscc,
        agent_name=agent_name,
        id_type=id_type,
        id_number=id_number,
    )
    password_hash = hash_password(reg.password)  # slow on purpose: outside the transaction
    fields = EntityFields(
        entity_type=reg.entity_type,
        name=reg.name,
        username=reg.username,
        account_name=reg.account_name,
        phone=reg.phone,
        uscc=reg.uscc,
        id_type=reg.id_type,
        id_number=reg.id_number,
    )
    return _write(
        sessions,
        pii,
        fields,
        password_hash=password_hash,
        phone_verified=phone_verified,
        status=status,
        codes=codes,
        actor=actor,
    )


def import_entity(
    sessions: sessionmaker[Session],
    pii: PersonalData,
    fields: EntityFields,
    *,
    status: str,
    reasons: Sequence[str] = (),
    actor: str = "import",
) -> EntityView:
    """Write an entity taken over from an existing registry (`huren entity import`).

    Like `register` (one transaction, the same duplicate checks, events and audit), except
    that the administrator account has NO password: it cannot sign in until an operator runs
    ``huren user password USERNAME --password-stdin``; and the mobile is not SMS-verified.
    `fields` come from `check_entity`. Raises `DuplicateEntity`, or `InvalidField` for a taken
    username or a bad status / reason code; nothing is written then.
    """
    if status not in ("pending", "verified"):
        raise InvalidField("state", "unknown")
    codes = _reasons(reasons)
    if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR:
        raise InvalidField("actor", "required" if not actor else "length")
    return _write(
        sessions,
        pii,
        fields,
        password_hash=None,
        phone_verified=False,
        status=status,
        codes=codes,
        actor=actor,
        audit_kind="entity.imported",
    )


def _write(
    sessions: sessionmaker[Session],
    pii: PersonalData,
    reg: EntityFields,
    *,
    password_hash: str | None,
    phone_verified: bool,
    status: str,
    codes: builtins.list[str],
    actor: str,
    audit_kind: str = "entity.registered",
) -> EntityView:
    """The registration transaction shared by `register` and `import_entity` (the outbox
    event is `entity.registered` either way; the audit row says which it was)."""
    number_index = pii.index("id_number", reg.id_number) if reg.id_number else None
    now = time.time()
    entity = MarketEntity(
        id=str(uuid.uuid4()),
        entity_type=reg.entity_type,
        name=reg.name,
        uscc=reg.uscc,
        id_type=reg.id_type,
        id_number_sealed=pii.seal("id_number", reg.id_number) if reg.id_number else None,
        id_number_index=number_index,
        status=status,
        reasons=codes,
        registry_checked_at=None,
        created_at=now,
        updated_at=now,
    )
    with sessions.begin() as db:
        _refuse_duplicate(db, reg.uscc, reg.id_type, number_index)
        db.add(entity)
        try:
            db.flush()
        except IntegrityError:  # a concurrent registration of the same code won the race
            raise DuplicateEntity("uscc" if reg.uscc else "id_number") from None
        account_id = _new_account(db, reg.username, reg.account_name, password_hash, now)
        db.add(
            EntityMember(
                entity_id=entity.id,
                account_id=account_id,
                role="admin",
                disabled=False,
                created_at=now,
            )
        )
        db.add(_contact(pii, entity.id, account_id, reg.phone, now if phone_verified else None))
        if status != "pending" or codes:
            db.add(
                EntityReview(
                    entity_id=entity.id,
                    decision=status,
                    reasons=codes,
                    actor=actor,
                    note=None,
                    at=now,
                )
            )
        publish(
            db,
            "entity.registered",
            {
                "entity_id": entity.id,
                "entity_type": entity.entity_type,
                "status": entity.status,
                "uscc": entity.uscc,
                "version": 1,
            },
        )
        audit.add(
            db,
            audit_kind,
            user_id=account_id,
            username=reg.username,
            entity_id=entity.id,
            entity_type=entity.entity_type,
        )
        db.flush()
        view = _view(db, pii, entity)
    log.info("entity %s %s (%s)", entity.id, audit_kind.partition(".")[2], entity.entity_type)
    return view


def _refuse_duplicate(
    db: Session, uscc: str | None, id_type: str | None, number_index: str | None
) -> None:
    if uscc is not None and db.scalar(select(MarketEntity.id).where(MarketEntity.uscc == uscc)):
        raise DuplicateEntity("uscc")
    if number_index is not None and db.scalar(
        select(MarketEntity.id).where(
            MarketEntity.id_type == id_type, MarketEntity.id_number_index == number_index
        )
    ):
        raise DuplicateEntity("id_number")


def _contact(
    pii: PersonalData,
    entity_id: str,
    account_id: str,
    phone: str,
    verified_at: float | None = None,
) -> EntityContact:
    return EntityContact(
        entity_id=entity_id,
        account_id=account_id,
        phone_sealed=pii.seal("phone", phone),
        phone_index=pii.index("phone", phone),
        verified_at=verified_at,
    )


def refuse_duplicate(
    sessions: sessionmaker[Session], pii: PersonalData, reg: Registration | EntityFields
) -> None:
    """Raise `DuplicateEntity` (or `InvalidField` for a taken username) before anything is
    spent on a registration that cannot succeed; `register` checks again in its transaction."""
    number_index = pii.index("id_number", reg.id_number) if reg.id_number else None
    with sessions() as db:
        _refuse_duplicate(db, reg.uscc, reg.id_type, number_index)
        taken = db.scalar(
            select(Account.id).where(func.lower(Account.username) == reg.username.lower())
        )
        if taken:
            raise InvalidField("username", "taken")


def _locked(db: Session, entity_id: str) -> MarketEntity:
    """The entity row, locked until commit on PostgreSQL, so member and status changes queue."""
    if not isinstance(entity_id, str) or len(entity_id) > 36:
        raise EntityNotFound(f"no entity {entity_id!r}")
    entity = db.get(MarketEntity, entity_id, with_for_update=True)
    if entity is None:
        raise EntityNotFound(f"no entity {entity_id!r}")
    return entity


def apply_verdict(
    sessions: sessionmaker[Session],
    pii: PersonalData,
    entity_id: str,
    state: str,
    reasons: Sequence[str] = (),
    *,
    actor: str,
    note: str | None = None,
) -> EntityView:
    """Move the entity to `state`, keeping the decision and its reasons in the review history.

    `actor` is the operator's username, or "system" for automation (registry checks). A
    rejection needs at least one reason code.
    """
    if state not in STATUSES:
        raise InvalidField("state", "unknown")
    codes = _reasons(reasons)
    if state == "rejected" and not codes:
        raise InvalidField("reasons", "required")
    if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR:
        raise InvalidField("actor", "required" if not actor else "length")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise InvalidField("note", "length")
    try:
        with sessions.begin() as db:
            entity = _locked(db, entity_id)
            previous = entity.status
            if (previous, state) not in TRANSITIONS:
                raise InvalidTransition(
                    f"entity {entity.id} is {previous}; it cannot become {state}",
                    zh=f"市场主体当前状态为 {previous}，不能变更为 {state}",
                )
            now = time.time()
            entity.status = state
            entity.reasons = codes
            entity.updated_at = now
            db.add(
                EntityReview(
                    entity_id=entity.id,
                    decision=state,
                    reasons=codes,
                    actor=actor,
                    note=note,
                    at=now,
                )
            )
            db.flush()  # bumps `version`; a concurrent writer makes this fail
            publish(
                db,
                "entity.changed",
                {
                    "entity_id": entity.id,
                    "change": "status",
                    "status": state,
                    "previous": previous,
                    "reasons": codes,
                    "actor": actor,
                    "version": entity.version,
                },
            )
            audit.add(
                db,
                "entity.verdict",
                user_id=None,
                username=actor,
                entity_id=entity.id,
                status=state,
                previous=previous,
                reasons=codes,
            )
            view = _view(db, pii, entity)
    except StaleDataError:
        raise InvalidTransition(
            f"entity {entity_id} changed meanwhile; reload and decide again",
            zh="市场主体已被他人修改，请刷新后重新审核",
        ) from None
    log.info("entity %s: %s -> %s by %s", entity_id, previous, state, actor)
    return view


def _require_admin(db: Session, entity_id: str, account_id: str | None) -> None:
    """`account_id` must be an enabled admin of the entity; None means an operator acts."""
    if account_id is None:
        return
    member = db.get(EntityMember, (entity_id, account_id))
    if member is None or member.disabled or member.role != "admin":
        raise NotEntityAdmin(f"account {account_id} is not an administrator of {entity_id}")


def add_agent(
    sessions: sessionmaker[Session],
    pii: PersonalData,
    entity_id: str,
    admin_account_id: str,
    *,
    username: str,
    name: str,
    phone: str,
    password: str,
) -> EntityView:
    """An administrator adds an agent (经办人) with an account of their own."""
    clean_username = _username(username)
    clean_name = _name("name", name, AGENT_NAME_LENGTH)
    clean_phone = _phone("phone", phone)
    password_hash = hash_password(_password(password))
    with sessions.begin() as db:
        entity = _locked(db, entity_id)
        _require_admin(db, entity.id, admin_account_id)
        now = time.time()
        account_id = _new_account(db, clean_username, clean_name, password_hash, now)
        db.add(
            EntityMember(
                entity_id=entity.id,
                account_id=account_id,
                role="agent",
                disabled=False,
                created_at=now,
            )
        )
        db.add(_contact(pii, entity.id, account_id, clean_phone))
        _member_changed(db, entity, "member_added", account_id, admin_account_id, now)
        view = _view(db, pii, entity)
    return view


def disable_member(
    sessions: sessionmaker[Session],
    pii: PersonalData,
    entity_id: str,
    account_id: str,
    *,
    admin_account_id: str | None,
) -> EntityView:
    """Stop `account_id` acting for the entity (its account itself stays usable elsewhere).

    `admin_account_id` is the acting administrator, or None for an operator.
    """
    return _change_member(sessions, pii, entity_id, account_id, admin_account_id, remove=False)


def remove_member(
    sessions: sessionmaker[Session],
    pii: PersonalData,
    entity_id: str,
    account_id: str,
    *,
    admin_account_id: str | None,
) -> EntityView:
    """Remove the membership and the member's sealed contact for this entity."""
    return _change_member(sessions, pii, entity_id, account_id, admin_account_id, remove=True)


def _change_member(
    sessions: sessionmaker[Session],
    pii: PersonalData,
    entity_id: str,
    account_id: str,
    admin_account_id: str | None,
    *,
    remove: bool,
) -> EntityView:
    with sessions.begin() as db:
        entity = _locked(db, entity_id)
        _require_admin(db, entity.id, admin_account_id)
        member = db.get(EntityMember, (entity.id, account_id))
        if member is None:
            raise EntityNotFound(f"account {account_id} is not a member of {entity.id}")
        if member.role == "admin" and not member.disabled:
            others = db.scalar(
                select(func.count())
                .select_from(EntityMember)
                .where(
                    EntityMember.entity_id == entity.id,
                    EntityMember.role == "admin",
                    EntityMember.disabled.is_(False),
                    EntityMember.account_id != account_id,
                )
            )
            if not others:
                raise LastAdmin(f"account {account_id} is the last administrator of {entity.id}")
        now = time.time()
        if remove:
            contact = db.get(EntityContact, (entity.id, account_id))
            if contact is not None:
                db.delete(contact)
            db.delete(member)
        else:
            member.disabled = True
        change = "member_removed" if remove else "member_disabled"
        _member_changed(db, entity, change, account_id, admin_account_id, now)
        view = _view(db, pii, entity)
    return view


def _member_changed(
    db: Session,
    entity: MarketEntity,
    change: str,
    account_id: str,
    by: str | None,
    now: float,
) -> None:
    entity.updated_at = now
    db.flush()
    publish(
        db,
        "entity.changed",
        {
            "entity_id": entity.id,
            "change": change,
            "account_id": account_id,
            "status": entity.status,
            "version": entity.version,
        },
    )
    audit.add(
        db,
        f"entity.{change}",
        user_id=by,
        username=None,
        entity_id=entity.id,
        account_id=account_id,
    )


# reading ------------------------------------------------------------------------------------


def _view(db: Session, pii: PersonalData, entity: MarketEntity) -> EntityView:
    rows = db.execute(
        select(EntityMember, Account, EntityContact)
        .join(Account, Account.id == EntityMember.account_id)
        .outerjoin(
            EntityContact,
            (EntityContact.entity_id == EntityMember.entity_id)
            & (EntityContact.account_id == EntityMember.account_id),
        )
        .where(EntityMember.entity_id == entity.id)
        .order_by(EntityMember.created_at, Account.username)
    ).all()
    members = tuple(
        MemberView(
            account_id=account.id,
            username=account.username,
            name=account.name,
            role=member.role,
            disabled=member.disabled,
            phone_masked=(
                mask_phone(pii.unseal("phone", contact.phone_sealed)) if contact else None
            ),
        )
        for member, account, contact in rows
    )
    number = entity.id_number_sealed
    return EntityView(
        id=entity.id,
        entity_type=entity.entity_type,
        name=entity.name,
        uscc=entity.uscc,
        id_type=entity.id_type,
        id_number_masked=mask_id_number(pii.unseal("id_number", number)) if number else None,
        status=entity.status,
        reasons=tuple(entity.reasons or ()),
        members=members,
        created_at=entity.created_at,
        updated_at=entity.updated_at,
        version=entity.version,
    )


def get(sessions: sessionmaker[Session], pii: PersonalData, entity_id: str) -> EntityView:
    with sessions() as db:
        entity = db.get(MarketEntity, entity_id) if isinstance(entity_id, str) else None
        if entity is None:
            raise EntityNotFound(f"no entity {entity_id!r}")
        return _view(db, pii, entity)


def list(  # the name callers use; inside this module the builtin is `builtins.list`
    sessions: sessionmaker[Session],
    pii: PersonalData,
    status: str | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> tuple[EntityView, ...]:
    """Entities newest first, optionally of one status."""
    if status is not None and status not in STATUSES:
        raise InvalidField("status", "unknown")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidField("limit", "range")
    if offset < 0:
        raise InvalidField("offset", "range")
    stmt = select(MarketEntity).order_by(MarketEntity.created_at.desc(), MarketEntity.id)
    if status is not None:
        stmt = stmt.where(MarketEntity.status == status)
    with sessions() as db:
        rows = db.scalars(stmt.limit(limit).offset(offset)).all()
        return tuple(_view(db, pii, row) for row in rows)


list_entities = list


def reviews(sessions: sessionmaker[Session], entity_id: str) -> tuple[ReviewView, ...]:
    """The entity's decisions, oldest first."""
    with sessions() as db:
        rows = db.scalars(
            select(EntityReview)
            .where(EntityReview.entity_id == entity_id)
            .order_by(EntityReview.at, EntityReview.id)
        ).all()
        return tuple(
            ReviewView(r.decision, tuple(r.reasons or ()), r.actor, r.note, r.at) for r in rows
        )


def find_by_uscc(
    sessions: sessionmaker[Session], pii: PersonalData, uscc: str
) -> EntityView | None:
    code = _uscc(uscc)
    with sessions() as db:
        entity = db.scalar(select(MarketEntity).where(MarketEntity.uscc == code))
        return _view(db, pii, entity) if entity else None


def find_by_id_number(
    sessions: sessionmaker[Session], pii: PersonalData, id_type: str, number: str
) -> EntityView | None:
    """Exact lookup through the blind index: nothing is decrypted to search."""
    kind = _id_type(id_type)
    index = pii.index("id_number", _id_number(kind, number))
    with sessions() as db:
        entity = db.scalar(
            select(MarketEntity).where(
                MarketEntity.id_type == kind, MarketEntity.id_number_index == index
            )
        )
        return _view(db, pii, entity) if entity else None


def claims_for_account(
    sessions: sessionmaker[Session], pii: PersonalData, account_id: str, *, identity: bool
) -> dict[str, Any]:
    """What a trading platform learns about the entity an account acts for (§6.3.2 b): its
    basic registration data; the natural person's ID type and number only with ``identity``.
    An account in no entity (or only disabled memberships) gets no entity claims, only its own
    mobile if it has one (unverified: nothing proved it)."""
    with sessions() as db:
        row = db.execute(
            select(EntityMember, MarketEntity, Account)
            .join(MarketEntity, MarketEntity.id == EntityMember.entity_id)
            .join(Account, Account.id == EntityMember.account_id)
            .where(EntityMember.account_id == account_id, EntityMember.disabled.is_(False))
            .order_by(EntityMember.created_at)
            .limit(1)
        ).first()
        if row is None:
            sealed = db.scalar(select(Account.phone_sealed).where(Account.id == account_id))
            if not sealed:
                return {}
            return {
                "phone_number": pii.unseal("phone", sealed),
                "phone_number_verified": False,
            }
        _member, entity, account = row
        contact = db.get(EntityContact, (entity.id, account_id))
        out: dict[str, Any] = {
            "entity_id": entity.id,
            "entity_type": entity.entity_type,
            "entity_name": entity.name,
            "entity_status": entity.status,
        }
        if entity.uscc:
            out["uscc"] = entity.uscc
        if entity.entity_type != "natural_person" and account.name:
            out["agent_name"] = account.name
        if contact is not None:
            out["phone_number"] = pii.unseal("phone", contact.phone_sealed)
            out["phone_number_verified"] = contact.verified_at is not None
        elif account.phone_sealed:
            out["phone_number"] = pii.unseal("phone", account.phone_sealed)
            out["phone_number_verified"] = False
        if identity and entity.entity_type == "natural_person" and entity.id_number_sealed:
            out["id_type"] = entity.id_type
            out["id_number"] = pii.unseal("id_number", entity.id_number_sealed)
        return out

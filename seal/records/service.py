"""The life cycle of a seal: requested → made → active → suspended / revoked, with reasons.

An operator makes a seal at once (`make`), or an entity's administrator requests it (`request`)
and an operator later makes (`make_requested`), or rejects, it; the requester may withdraw it.
Every change of a seal that exists writes the record, a history row and an outbox event in one
transaction, so a platform following `seal.*` events never misses a revocation. Checks that
decide whether a seal may exist at all (`checks`: entity verified, certificates valid and the
entity's own, picture readable) happen before anything is written.
"""

from __future__ import annotations

import builtins
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from cert_interop.web.api import CertificateValidator
from cert_interop.x509 import Certificate, parse_certificate
from storage.outbox import publish

from .checks import (
    SEAL_TYPES as SEAL_TYPES,
)
from .checks import (
    check_certificates,
    check_entity,
    check_name,
    check_type,
    refuse,
    size,
    validity,
)
from .directory import EntityDirectory, EntityFacts
from .errors import SealNotFound, StaleSeal
from .models import MAX_REASON, SealCertificate, SealHistory, SealRecord
from .pictures import sniff_picture

STATUSES = ("requested", "made", "active", "suspended", "revoked", "rejected", "withdrawn")

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "activate": (frozenset({"made", "suspended"}), "active"),
    "suspend": (frozenset({"active"}), "suspended"),
    "revoke": (frozenset({"made", "active", "suspended"}), "revoked"),
    "reject": (frozenset({"requested"}), "rejected"),
    "withdraw": (frozenset({"requested"}), "withdrawn"),
}
"""action → (states it may start from, state it leads to). A request is made into a seal by
`make_requested`, not by a transition: that is when the maker signs."""

REASON_REQUIRED = frozenset({"suspend", "revoke", "reject"})

SEAL_ID_PREFIX = "52"
"""Seal codes start with the province's administrative code (贵州省 52)."""
MAX_OPEN_REQUESTS = 10
"""Requests of one entity waiting for an operator; more is a mistake or abuse."""


class SealMaker(Protocol):
    """The seal-making authority's key (a platform key: PKCS#11 or encrypted key file)."""

    @property
    def name(self) -> str: ...

    @property
    def certificate(self) -> Certificate: ...

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes: ...


CertificateChecker = CertificateValidator
"""The trust store, as far as this service uses it (the integrator API's protocol)."""


SealSigner = Callable[["SealDraft", SealMaker], bytes]
"""Builds and signs the GB/T 38540 structure of a draft with the maker's key."""


@dataclass(frozen=True)
class CertView:
    fingerprint: str
    subject: str
    key_algorithm: str
    not_after: float
    der: bytes = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "subject": self.subject,
            "key_algorithm": self.key_algorithm,
            "not_after": _iso(self.not_after),
        }


@dataclass(frozen=True)
class HistoryView:
    status: str
    reason: str | None
    actor: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "actor": self.actor,
            "at": _iso(self.at),
        }


@dataclass(frozen=True)
class SealView:
    id: str
    entity_id: str
    seal_type: str
    name: str
    status: str
    status_reason: str | None
    picture_type: str
    width_mm: int
    height_mm: int
    valid_from: float
    valid_until: float
    maker: str | None
    created_by: str
    created_at: float
    updated_at: float
    version: int
    certificates: tuple[CertView, ...]
    history: tuple[HistoryView, ...] = ()

    def usable(self, now: float | None = None) -> bool:
        """Active and inside its validity period."""
        at = time.time() if now is None else now
        return self.status == "active" and self.valid_from <= at <= self.valid_until

    def as_dict(self) -> dict[str, Any]:
        return {
            "seal_id": self.id,
            "entity_id": self.entity_id,
            "type": self.seal_type,
            "type_name": SEAL_TYPES[self.seal_type][0],
            "name": self.name,
            "status": self.status,
            "status_reason": self.status_reason,
            "picture": {
                "type": self.picture_type,
                "width_mm": self.width_mm,
                "height_mm": self.height_mm,
            },
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until),
            "maker": self.maker,
            "certificates": [c.as_dict() for c in self.certificates],
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "version": self.version,
            "history": [h.as_dict() for h in self.history],
        }


@dataclass(frozen=True)
class SealRequest:
    entity_id: str
    seal_type: str
    name: str
    picture: bytes
    certificates: Sequence[Certificate]
    intermediates: Sequence[Certificate] = ()
    width_mm: int | None = None
    height_mm: int | None = None
    valid_days: int | None = None


@dataclass(frozen=True)
class SealDraft:
    """Everything the GB/T 38540 structure carries, checked, before the maker signs it."""

    seal_id: str
    seal_type: str
    name: str
    picture: bytes
    picture_type: str
    width_mm: int
    height_mm: int
    certificates: tuple[Certificate, ...]
    created_at: float
    valid_from: float
    valid_until: float


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _new_seal_id(db: Session) -> str:
    for _ in range(20):
        year = datetime.now(UTC).strftime("%y")
        candidate = f"{SEAL_ID_PREFIX}{year}{secrets.randbelow(10**10):010d}"
        if db.get(SealRecord, candidate) is None:
            return candidate
    raise RuntimeError("could not find a free seal code")  # 10^10 codes a year


@dataclass(frozen=True)
class _Checked:
    """A request that passed every check, in the form the record stores."""

    facts: EntityFacts
    name: str
    picture_type: str
    width_mm: int
    height_mm: int
    certificates: tuple[tuple[Certificate, str], ...]


def _check(directory: EntityDirectory, checker: CertificateChecker, req: SealRequest) -> _Checked:
    facts = check_entity(directory, req.entity_id)
    check_type(req.seal_type, facts.entity_type)
    name = check_name(req.name)
    picture_type = sniff_picture(req.picture)
    width, height = size(req.seal_type, req.width_mm, req.height_mm)
    certs = check_certificates(
        checker, directory, req.entity_id, req.certificates, req.intermediates
    )
    return _Checked(facts, name, picture_type, width, height, certs)


def _add_certificates(db: Session, seal_id: str, certs: Sequence[tuple[Certificate, str]]) -> None:
    for cert, algorithm in certs:
        db.add(
            SealCertificate(
                seal_id=seal_id,
                fingerprint=cert.sha256_fingerprint,
                der=cert.der,
                subject=cert.subject.rfc4514[:1000],
                key_algorithm=algorithm,
                not_after=cert.not_after.timestamp(),
            )
        )


def _sign(
    record: SealRecord,
    certs: Sequence[tuple[Certificate, str]],
    maker: SealMaker,
    sign_seal: SealSigner,
    at: float,
) -> bytes:
    """The maker's signed GB/T 38540 structure for the record as it stands."""
    draft = SealDraft(
        seal_id=record.id,
        seal_type=record.seal_type,
        name=record.name,
        picture=record.picture,
        picture_type=record.picture_type,
        width_mm=record.width_mm,
        height_mm=record.height_mm,
        certificates=tuple(c for c, _ in certs),
        created_at=at,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
    )
    return sign_seal(draft, maker)


def _made(db: Session, record: SealRecord, *, actor: str, at: float, activate: bool) -> None:
    """History and the `seal.made` event of a seal that was just signed (record flushed)."""
    for step in ("made", *(("active",) if activate else ())):
        db.add(SealHistory(seal_id=record.id, status=step, reason=None, actor=actor, at=at))
    publish(
        db,
        "seal.made",
        {
            "seal_id": record.id,
            "entity_id": record.entity_id,
            "seal_type": record.seal_type,
            "status": record.status,
            "version": record.version,
        },
    )
    db.flush()


def _record(
    req: SealRequest, checked: _Checked, seal_id: str, *, actor: str, at: float
) -> SealRecord:
    valid_from, valid_until = validity(req.valid_days, at)
    return SealRecord(
        id=seal_id,
        entity_id=req.entity_id,
        seal_type=req.seal_type,
        name=checked.name,
        status="requested",
        status_reason=None,
        picture=req.picture,
        picture_type=checked.picture_type,
        width_mm=checked.width_mm,
        height_mm=checked.height_mm,
        valid_from=valid_from,
        valid_until=valid_until,
        seal_der=None,
        maker=None,
        created_by=actor,
        created_at=at,
        updated_at=at,
    )


def make(
    sessions: sessionmaker[Session],
    directory: EntityDirectory,
    checker: CertificateChecker,
    maker: SealMaker,
    sign_seal: SealSigner,
    req: SealRequest,
    *,
    actor: str,
    activate: bool = False,
    now: float | None = None,
) -> SealView:
    """Check the request, have the maker sign the seal, store it as ``made`` (or ``active``)."""
    at = time.time() if now is None else now
    checked = _check(directory, checker, req)
    with sessions.begin() as db:
        record = _record(req, checked, _new_seal_id(db), actor=actor, at=at)
        record.seal_der = _sign(record, checked.certificates, maker, sign_seal, at)
        record.maker = maker.name
        record.status = "active" if activate else "made"
        db.add(record)
        db.flush()
        _add_certificates(db, record.id, checked.certificates)
        db.add(SealHistory(seal_id=record.id, status="requested", reason=None, actor=actor, at=at))
        _made(db, record, actor=actor, at=at, activate=activate)
        return _view(db, record, with_history=True)


def request(
    sessions: sessionmaker[Session],
    directory: EntityDirectory,
    checker: CertificateChecker,
    req: SealRequest,
    *,
    actor: str,
    now: float | None = None,
) -> SealView:
    """An entity's own request for a seal: checked as a seal would be, stored as ``requested``
    for an operator to make (`make_requested`) or reject. Nothing is signed and no event is
    published: platforms hear of a seal once it exists."""
    at = time.time() if now is None else now
    checked = _check(directory, checker, req)
    with sessions.begin() as db:
        waiting = db.scalar(
            select(func.count())
            .select_from(SealRecord)
            .where(SealRecord.entity_id == req.entity_id, SealRecord.status == "requested")
        )
        if (waiting or 0) >= MAX_OPEN_REQUESTS:
            raise refuse(
                "too_many_requests",
                f"the entity already has {MAX_OPEN_REQUESTS} requests waiting for an operator",
                f"本主体已有 {MAX_OPEN_REQUESTS} 个印章申请待处理，请等待处理或撤回后再申请",
            )
        record = _record(req, checked, _new_seal_id(db), actor=actor, at=at)
        db.add(record)
        db.flush()
        _add_certificates(db, record.id, checked.certificates)
        db.add(SealHistory(seal_id=record.id, status="requested", reason=None, actor=actor, at=at))
        db.flush()
        return _view(db, record, with_history=True)


def make_requested(
    sessions: sessionmaker[Session],
    directory: EntityDirectory,
    checker: CertificateChecker,
    maker: SealMaker,
    sign_seal: SealSigner,
    seal_id: str,
    *,
    actor: str,
    activate: bool = False,
    expected_version: int | None = None,
    now: float | None = None,
) -> SealView:
    """Make a requested seal: every check again (the entity or a certificate may have changed
    since the request), then the maker signs it; its validity starts now."""
    at = time.time() if now is None else now
    with sessions() as db:
        found = db.get(SealRecord, seal_id[:32])
        if found is None:
            raise SealNotFound(f"no seal {seal_id!r}")
        _expect(found, expected_version, "requested", "made")
        req = SealRequest(
            entity_id=found.entity_id,
            seal_type=found.seal_type,
            name=found.name,
            picture=found.picture,
            certificates=[parse_certificate(der) for der in _cert_ders(db, found.id)],
            width_mm=found.width_mm,
            height_mm=found.height_mm,
            valid_days=max(1, round((found.valid_until - found.valid_from) / 86400)),
        )
    checked = _check(directory, checker, req)
    try:
        with sessions.begin() as db:
            record = db.get(SealRecord, seal_id[:32])
            if record is None:
                raise SealNotFound(f"no seal {seal_id!r}")
            _expect(record, expected_version, "requested", "made")
            record.valid_from, record.valid_until = validity(req.valid_days, at)
            record.seal_der = _sign(record, checked.certificates, maker, sign_seal, at)
            record.maker = maker.name
            record.status = "active" if activate else "made"
            record.status_reason = None
            record.updated_at = at
            db.flush()
            _made(db, record, actor=actor, at=at, activate=activate)
            return _view(db, record, with_history=True)
    except StaleDataError:
        raise StaleSeal(f"seal {seal_id} was changed at the same time") from None


def _expect(record: SealRecord, version: int | None, status: str, target: str) -> None:
    if version is not None and record.version != version:
        raise StaleSeal(f"seal {record.id} is at version {record.version}")
    if record.status != status:
        raise refuse(
            "invalid_transition",
            f"a {record.status} seal cannot be {target}",
            f"当前状态（{record.status}）的印章不能执行此操作",
            "action",
        )


def _cert_ders(db: Session, seal_id: str) -> builtins.list[bytes]:
    return builtins.list(
        db.scalars(
            select(SealCertificate.der)
            .where(SealCertificate.seal_id == seal_id)
            .order_by(SealCertificate.id)
        )
    )


def change(
    sessions: sessionmaker[Session],
    seal_id: str,
    action: str,
    *,
    actor: str,
    reason: str | None = None,
    expected_version: int | None = None,
    now: float | None = None,
) -> SealView:
    """Apply a life-cycle action (`activate`, `suspend`, `revoke`) with its reason."""
    if action not in TRANSITIONS:
        raise refuse("invalid_action", f"unknown action {action!r}", "未知的操作", "action")
    note = " ".join((reason or "").split()) or None
    if action in REASON_REQUIRED and not note:
        raise refuse(
            "reason_required",
            f"{action} needs a reason",
            "暂停或吊销印章须说明原因",
            "reason",
        )
    if note is not None and len(note) > MAX_REASON:
        raise refuse(
            "invalid_reason",
            f"the reason is longer than {MAX_REASON} characters",
            f"原因不能超过 {MAX_REASON} 个字符",
            "reason",
        )
    starts, target = TRANSITIONS[action]
    at = time.time() if now is None else now
    try:
        with sessions.begin() as db:
            record = db.get(SealRecord, seal_id)
            if record is None:
                raise SealNotFound(f"no seal {seal_id!r}")
            if expected_version is not None and record.version != expected_version:
                raise StaleSeal(f"seal {seal_id} is at version {record.version}")
            if record.status not in starts:
                raise refuse(
                    "invalid_transition",
                    f"a {record.status} seal cannot be {target}",
                    f"当前状态（{record.status}）的印章不能执行此操作",
                    "action",
                )
            previous = record.status
            record.status = target
            record.status_reason = note
            record.updated_at = at
            db.add(SealHistory(seal_id=seal_id, status=target, reason=note, actor=actor, at=at))
            db.flush()
            if previous == "requested":  # a request declined or withdrawn: no seal existed
                return _view(db, record, with_history=True)
            publish(
                db,
                "seal.changed",
                {
                    "seal_id": seal_id,
                    "entity_id": record.entity_id,
                    "status": target,
                    "previous": previous,
                    "reason": note,
                    "version": record.version,
                },
            )
            return _view(db, record, with_history=True)
    except StaleDataError:
        raise StaleSeal(f"seal {seal_id} was changed at the same time") from None


def _certs(db: Session, seal_id: str) -> tuple[CertView, ...]:
    rows = db.scalars(
        select(SealCertificate)
        .where(SealCertificate.seal_id == seal_id)
        .order_by(SealCertificate.id)
    )
    return tuple(
        CertView(r.fingerprint, r.subject, r.key_algorithm, r.not_after, r.der) for r in rows
    )


def _history(db: Session, seal_id: str) -> tuple[HistoryView, ...]:
    rows = db.scalars(
        select(SealHistory).where(SealHistory.seal_id == seal_id).order_by(SealHistory.id)
    )
    return tuple(HistoryView(r.status, r.reason, r.actor, r.at) for r in rows)


def _view(db: Session, record: SealRecord, *, with_history: bool = False) -> SealView:
    return SealView(
        id=record.id,
        entity_id=record.entity_id,
        seal_type=record.seal_type,
        name=record.name,
        status=record.status,
        status_reason=record.status_reason,
        picture_type=record.picture_type,
        width_mm=record.width_mm,
        height_mm=record.height_mm,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        maker=record.maker,
        created_by=record.created_by,
        created_at=record.created_at,
        updated_at=record.updated_at,
        version=record.version,
        certificates=_certs(db, record.id),
        history=_history(db, record.id) if with_history else (),
    )


def get(sessions: sessionmaker[Session], seal_id: str, *, with_history: bool = True) -> SealView:
    with sessions() as db:
        record = db.get(SealRecord, seal_id[:32])
        if record is None:
            raise SealNotFound(f"no seal {seal_id!r}")
        return _view(db, record, with_history=with_history)


def picture(sessions: sessionmaker[Session], seal_id: str) -> tuple[bytes, str]:
    """The seal's picture and its type (``png``, ``jpg``, ``svg``)."""
    with sessions() as db:
        record = db.get(SealRecord, seal_id[:32])
        if record is None:
            raise SealNotFound(f"no seal {seal_id!r}")
        return record.picture, record.picture_type


def signed_seal(sessions: sessionmaker[Session], seal_id: str) -> bytes:
    """The DER GB/T 38540 `SESeal` as the maker signed it."""
    with sessions() as db:
        record = db.get(SealRecord, seal_id[:32])
        if record is None or record.seal_der is None:
            raise SealNotFound(f"no made seal {seal_id!r}")
        return record.seal_der


def list(  # the name callers use; inside this module the builtin is `builtins.list`
    sessions: sessionmaker[Session],
    *,
    entity_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[builtins.list[SealView], int]:
    """A page of seals (newest first) and the total count."""
    with sessions() as db:
        where = []
        if entity_id:
            where.append(SealRecord.entity_id == entity_id)
        if status:
            where.append(SealRecord.status == status)
        total = db.scalar(select(func.count()).select_from(SealRecord).where(*where)) or 0
        rows = db.scalars(
            select(SealRecord)
            .where(*where)
            .order_by(SealRecord.created_at.desc(), SealRecord.id)
            .limit(max(1, min(limit, 1000)))
            .offset(max(0, offset))
        ).all()
        return [_view(db, r) for r in rows], int(total)


def seals_of_certificate(
    sessions: sessionmaker[Session], fingerprint: str
) -> builtins.list[SealView]:
    """The seals bound to the certificate with this SHA-256 fingerprint (verification uses it)."""
    with sessions() as db:
        ids = db.scalars(
            select(SealCertificate.seal_id).where(
                SealCertificate.fingerprint == fingerprint.lower()
            )
        ).all()
        records = [db.get(SealRecord, i) for i in dict.fromkeys(ids)]
        return [_view(db, r) for r in records if r is not None]

"""The life cycle of a seal: requested → made → active → suspended / revoked, with reasons.

Every change writes the record, a history row and an outbox event in one transaction, so a
platform following `seal.*` events never misses a revocation. Checks that decide whether a seal
may exist at all (entity verified, certificates valid and the entity's own, picture readable)
happen before anything is written.
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

from cert_interop.errors import CertInteropError
from cert_interop.web.api import CertificateValidator
from cert_interop.x509 import Certificate
from storage.outbox import publish

from .directory import ORGANISATION_TYPES, EntityDirectory
from .errors import SealNotFound, SealRefused, StaleSeal
from .models import MAX_NAME, MAX_REASON, SealCertificate, SealHistory, SealRecord
from .pictures import sniff_picture

SEAL_TYPES: dict[str, tuple[str, str]] = {
    "legal_person": ("法定名称章（公章）", "legal-person seal"),
    "contract": ("合同专用章", "contract seal"),
    "finance": ("财务专用章", "finance seal"),
    "personal": ("个人签名章", "personal seal (signature)"),
}
"""Seal types: code → (Chinese, English) names."""

INSTITUTION_TYPES = frozenset({"legal_person", "contract", "finance"})

STATUSES = ("requested", "made", "active", "suspended", "revoked")

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "activate": (frozenset({"made", "suspended"}), "active"),
    "suspend": (frozenset({"active"}), "suspended"),
    "revoke": (frozenset({"requested", "made", "active", "suspended"}), "revoked"),
}
"""action → (states it may start from, state it leads to)."""

REASON_REQUIRED = frozenset({"suspend", "revoke"})

DEFAULT_VALID_DAYS = 3 * 365
MAX_VALID_DAYS = 10 * 365
DEFAULT_SIZE_MM = {"personal": (18, 18)}
"""Display size when none is given: 42 mm round institution seals, small signature seals."""
INSTITUTION_SIZE_MM = (42, 42)
SIZE_RANGE_MM = (5, 120)
MAX_CERTIFICATES = 8
SEAL_ID_PREFIX = "52"
"""Seal codes start with the province's administrative code (贵州省 52)."""


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


def _refuse(code: str, message: str, zh: str, field: str | None = None) -> SealRefused:
    return SealRefused(code, message, zh, field=field)


def _check_type(seal_type: str, entity_type: str) -> None:
    if seal_type not in SEAL_TYPES:
        raise _refuse(
            "invalid_type",
            f"unknown seal type {seal_type!r}; one of {', '.join(SEAL_TYPES)}",
            "印章类型无效",
            "type",
        )
    if seal_type in INSTITUTION_TYPES and entity_type not in ORGANISATION_TYPES:
        raise _refuse(
            "type_not_allowed",
            f"a {SEAL_TYPES[seal_type][1]} belongs to an organisation, not a {entity_type}",
            "自然人不能持有单位印章（公章、合同专用章、财务专用章）",
            "type",
        )


def _check_name(name: str) -> str:
    text = " ".join(name.split())
    if not text or len(text) > MAX_NAME:
        raise _refuse(
            "invalid_name",
            f"the seal name must be 1 to {MAX_NAME} characters",
            f"印章名称须为 1 至 {MAX_NAME} 个字符",
            "name",
        )
    return text


def _size(req: SealRequest) -> tuple[int, int]:
    default = (
        DEFAULT_SIZE_MM.get(req.seal_type, INSTITUTION_SIZE_MM)
        if req.seal_type in SEAL_TYPES
        else INSTITUTION_SIZE_MM
    )
    width = default[0] if req.width_mm is None else req.width_mm
    height = default[1] if req.height_mm is None else req.height_mm
    low, high = SIZE_RANGE_MM
    for value, what in ((width, "width"), (height, "height")):
        if not low <= value <= high:
            raise _refuse(
                "invalid_size",
                f"the picture's {what} must be {low} to {high} mm",
                f"印模尺寸须在 {low} 至 {high} 毫米之间",
                what,
            )
    return width, height


def _validity(req: SealRequest, now: float) -> tuple[float, float]:
    days = DEFAULT_VALID_DAYS if req.valid_days is None else req.valid_days
    if not 1 <= days <= MAX_VALID_DAYS:
        raise _refuse(
            "invalid_validity",
            f"validity must be 1 to {MAX_VALID_DAYS} days",
            f"有效期须为 1 至 {MAX_VALID_DAYS} 天",
            "valid_days",
        )
    start = float(int(now))  # whole seconds, as the GB/T 38540 structure records them
    return start, start + days * 86400.0


def _check_certificates(
    checker: CertificateChecker,
    directory: EntityDirectory,
    entity_id: str,
    req: SealRequest,
) -> tuple[tuple[Certificate, str], ...]:
    """(certificate, key algorithm) of each bound certificate, after the trust store and the
    entity directory both said yes."""
    if not req.certificates:
        raise _refuse(
            "certificate_required",
            "a seal is bound to at least one certificate of its entity",
            "电子印章至少须绑定一张本主体的数字证书",
            "cert",
        )
    if len(req.certificates) > MAX_CERTIFICATES:
        raise _refuse(
            "too_many_certificates",
            f"at most {MAX_CERTIFICATES} certificates per seal",
            f"每枚印章最多绑定 {MAX_CERTIFICATES} 张证书",
            "cert",
        )
    seen: set[str] = set()
    out: builtins.list[tuple[Certificate, str]] = []
    for cert in req.certificates:
        if cert.sha256_fingerprint in seen:
            continue
        seen.add(cert.sha256_fingerprint)
        try:
            result = checker.validate(cert, intermediates=tuple(req.intermediates), purpose="sign")
        except CertInteropError as exc:
            raise _refuse(
                "trust_store_unavailable", str(exc), "证书信任库暂不可用，请稍后重试", "cert"
            ) from None
        if not result.valid:
            raise _refuse(
                f"certificate_{result.reason.value}",
                f"certificate {cert.subject.rfc4514}: {result.detail}",
                f"证书未通过验证（{result.reason.value}）：{cert.subject.rfc4514}",
                "cert",
            )
        if not directory.holds(entity_id, result.identity):
            raise _refuse(
                "identity_mismatch",
                f"certificate {cert.subject.rfc4514} names another holder, not this entity",
                "证书中的身份（统一社会信用代码或证件号码）不是该主体的",
                "cert",
            )
        out.append((cert, str(result.algorithm)))
    return tuple(out)


def _new_seal_id(db: Session) -> str:
    for _ in range(20):
        year = datetime.now(UTC).strftime("%y")
        candidate = f"{SEAL_ID_PREFIX}{year}{secrets.randbelow(10**10):010d}"
        if db.get(SealRecord, candidate) is None:
            return candidate
    raise RuntimeError("could not find a free seal code")  # 10^10 codes a year


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
    facts = directory.entity(req.entity_id)
    if facts is None:
        raise _refuse("entity_not_found", "no such market entity", "没有这个市场主体", "entity")
    if facts.status != "verified":
        raise _refuse(
            "entity_not_verified",
            f"the entity is {facts.status}: seals are made only for verified entities",
            "该市场主体尚未通过核验，不能制作电子印章",
            "entity",
        )
    _check_type(req.seal_type, facts.entity_type)
    name = _check_name(req.name)
    picture_type = sniff_picture(req.picture)
    width, height = _size(req)
    valid_from, valid_until = _validity(req, at)
    certs = _check_certificates(checker, directory, req.entity_id, req)
    with sessions.begin() as db:
        seal_id = _new_seal_id(db)
        draft = SealDraft(
            seal_id=seal_id,
            seal_type=req.seal_type,
            name=name,
            picture=req.picture,
            picture_type=picture_type,
            width_mm=width,
            height_mm=height,
            certificates=tuple(c for c, _ in certs),
            created_at=at,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        signed = sign_seal(draft, maker)
        status = "active" if activate else "made"
        record = SealRecord(
            id=seal_id,
            entity_id=req.entity_id,
            seal_type=req.seal_type,
            name=name,
            status=status,
            status_reason=None,
            picture=req.picture,
            picture_type=picture_type,
            width_mm=width,
            height_mm=height,
            valid_from=valid_from,
            valid_until=valid_until,
            seal_der=signed,
            maker=maker.name,
            created_by=actor,
            created_at=at,
            updated_at=at,
        )
        db.add(record)
        db.flush()
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
        for step in ("requested", "made", *(("active",) if activate else ())):
            db.add(SealHistory(seal_id=seal_id, status=step, reason=None, actor=actor, at=at))
        publish(
            db,
            "seal.made",
            {
                "seal_id": seal_id,
                "entity_id": req.entity_id,
                "seal_type": req.seal_type,
                "status": status,
                "version": record.version,
            },
        )
        db.flush()
        return _view(db, record, with_history=True)


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
        raise _refuse("invalid_action", f"unknown action {action!r}", "未知的操作", "action")
    note = " ".join((reason or "").split()) or None
    if action in REASON_REQUIRED and not note:
        raise _refuse(
            "reason_required",
            f"{action} needs a reason",
            "暂停或吊销印章须说明原因",
            "reason",
        )
    if note is not None and len(note) > MAX_REASON:
        raise _refuse(
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
                raise _refuse(
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

"""Which certificate logs in which account: `certificate_binding`, and the rules for making one.

A binding ties a certificate (by its SHA-256 fingerprint) to one account acting for one market
entity. It is made only when the certificate validates now through the trust store and the
identity its CA profile reads (unified social credit code, ID or passport number) is the
entity's own, the entity is verified and the account an enabled member of it. Several
certificates, from different CAs, may be bound to one account: the mutual recognition.

Every refusal raises `CertBindingError` with a stable `reason` code and is audited
(`cert.bind_refused`); bindings and unbindings are audited (`cert.bound`, `cert.unbound`) in
the transaction that writes them. The certificate itself is never put in the audit log.
"""

from __future__ import annotations

import builtins
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Float, ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from cert_interop.errors import CertInteropError
from cert_interop.identifiers import normalize_code
from cert_interop.profiles import Identity
from cert_interop.truststore import read_certificates
from cert_interop.x509 import Certificate
from storage.db import Base

from .. import audit
from ..entities.models import EntityMember, MarketEntity
from ..entities.pii import PersonalData
from ..errors import IdpError
from ..models import Account

if TYPE_CHECKING:
    from cert_interop.truststore import TrustStore
    from cert_interop.validation import ValidationResult

MAX_SUBJECT = 1000


class CertificateBinding(Base):
    """One certificate bound to one account of one entity (schema: `idp_0004`)."""

    __tablename__ = "certificate_binding"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[str] = mapped_column(
        ForeignKey("market_entity.id", ondelete="CASCADE"), index=True
    )
    issuer: Mapped[str] = mapped_column(String(MAX_SUBJECT))
    serial: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT))
    ca: Mapped[str | None] = mapped_column(String(200))
    not_before: Mapped[float] = mapped_column(Float)
    not_after: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[float] = mapped_column(Float)


class CertBindingError(IdpError):
    """A refused binding, unbinding or certificate: `reason` is a stable machine code."""

    code = "certificate_refused"
    zh = "证书未被接受"

    def __init__(self, reason: str, message: str, *, zh: str | None = None) -> None:
        super().__init__(message, zh=zh)
        self.reason = reason


_ZH = {
    "malformed": "证书无法解析",
    "expired": "证书已过期",
    "not_yet_valid": "证书尚未生效",
    "revoked": "证书已被吊销",
    "unknown_ca": "证书的签发机构不受信任",
    "no_identity": "无法从证书中读取主体身份标识",
    "identity_mismatch": "证书中的身份标识与市场主体不一致",
    "entity_not_verified": "市场主体尚未通过核验",
    "not_a_member": "该账户不属于任何市场主体",
    "account_disabled": "账户不存在或已停用",
    "not_entity_admin": "只有市场主体管理员可以为其他成员绑定或解绑证书",
    "already_bound": "该证书已绑定到其他账户",
    "not_found": "没有这个证书绑定",
    "trust_store_unavailable": "证书信任库不可用",
}


def _refuse(reason: str, message: str) -> CertBindingError:
    return CertBindingError(reason, message, zh=_ZH.get(reason, "证书未被接受"))


@dataclass(frozen=True)
class BindingView:
    fingerprint: str
    account_id: str
    username: str
    entity_id: str
    entity_name: str
    issuer: str
    serial: str
    subject: str
    ca: str | None
    not_before: float
    not_after: float
    created_by: str
    created_at: float

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CertIdentity:
    """The identifiers of a certificate's holder that can name an entity."""

    credit_code: str | None = None
    id_number: str | None = None
    passport_number: str | None = None

    @property
    def present(self) -> bool:
        return bool(self.credit_code or self.id_number or self.passport_number)


def cert_identity(identity: Identity | None) -> CertIdentity:
    if identity is None:
        return CertIdentity()

    def norm(value: str | None) -> str | None:
        return normalize_code(value) if value else None

    return CertIdentity(
        credit_code=norm(identity.credit_code),
        id_number=norm(identity.id_number),
        passport_number=norm(identity.passport_number),
    )


def _number_matches(pii: PersonalData, entity: MarketEntity, ident: CertIdentity) -> bool:
    if not entity.id_number_index:
        return False
    number = ident.passport_number if entity.id_type == "passport" else ident.id_number
    return bool(number) and pii.index("id_number", number or "") == entity.id_number_index


def identity_matches(pii: PersonalData, entity: MarketEntity, ident: CertIdentity) -> bool:
    """The certificate's identity is the entity's: its credit code (organisations) or its ID
    document number (natural persons, compared through the blind index)."""
    if entity.uscc:
        return ident.credit_code == entity.uscc
    return _number_matches(pii, entity, ident)


def entity_for_identity(db: Session, pii: PersonalData, ident: CertIdentity) -> MarketEntity | None:
    """The entity the certificate's identity names, if one is registered."""
    if ident.credit_code:
        found = db.scalar(select(MarketEntity).where(MarketEntity.uscc == ident.credit_code))
        if found is not None:
            return found
    for number, types in (
        (ident.id_number, ("resident_id", "hk_macao_permit", "taiwan_permit")),
        (ident.passport_number, ("passport",)),
        (ident.id_number, ("foreign_permanent_resident",)),
    ):
        if not number:
            continue
        index = pii.index("id_number", number)
        found = db.scalar(
            select(MarketEntity).where(
                MarketEntity.id_number_index == index, MarketEntity.id_type.in_(types)
            )
        )
        if found is not None:
            return found
    return None


def read_certificate(data: bytes) -> tuple[Certificate, builtins.list[Certificate]]:
    """The leaf (first certificate) and any others (its chain) of PEM or DER input."""
    try:
        certs = read_certificates(data, "the certificate")
    except CertInteropError as exc:
        raise _refuse("malformed", str(exc)) from None
    return certs[0], certs[1:]


def check_certificate(
    trust_store: TrustStore | None,
    leaf: Certificate,
    chain: Sequence[Certificate] = (),
    at: datetime | None = None,
) -> ValidationResult:
    """Validate for signing through the trust store; raise the validation's reason if not."""
    if trust_store is None:
        raise _refuse("trust_store_unavailable", "no trust store is configured")
    try:
        result = trust_store.validate(leaf, intermediates=tuple(chain), purpose="sign", at=at)
    except CertInteropError as exc:
        raise _refuse("trust_store_unavailable", str(exc)) from None
    if not result.valid:
        raise _refuse(result.reason.value, result.detail)
    return result


def _view(db: Session, row: CertificateBinding) -> BindingView:
    account = db.get(Account, row.account_id)
    entity = db.get(MarketEntity, row.entity_id)
    return BindingView(
        fingerprint=row.fingerprint,
        account_id=row.account_id,
        username=account.username if account else "?",
        entity_id=row.entity_id,
        entity_name=entity.name if entity else "?",
        issuer=row.issuer,
        serial=row.serial,
        subject=row.subject,
        ca=row.ca,
        not_before=row.not_before,
        not_after=row.not_after,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _member(db: Session, account_id: str) -> EntityMember | None:
    return db.scalars(
        select(EntityMember)
        .where(EntityMember.account_id == account_id, EntityMember.disabled.is_(False))
        .order_by(EntityMember.created_at, EntityMember.entity_id)
        .limit(1)
    ).first()


def _is_admin(db: Session, entity_id: str, account_id: str) -> bool:
    member = db.get(EntityMember, (entity_id, account_id))
    return member is not None and not member.disabled and member.role == "admin"


def bind(
    sessions: sessionmaker[Session],
    pii: PersonalData,
    trust_store: TrustStore | None,
    certificate: bytes | Certificate,
    *,
    account_id: str,
    actor: str,
    acting_account_id: str | None = None,
    chain: Sequence[Certificate] = (),
) -> BindingView:
    """Bind `certificate` (PEM/DER, a bundle's first certificate; the rest is its chain) to
    `account_id`. `acting_account_id` is the signed-in user doing it (that account itself, or
    an enabled administrator of its entity); None means an operator (the CLI)."""
    try:
        return _bind(
            sessions,
            pii,
            trust_store,
            certificate,
            account_id=account_id,
            actor=actor,
            acting_account_id=acting_account_id,
            chain=chain,
        )
    except CertBindingError as exc:
        audit.record(
            sessions,
            "cert.bind_refused",
            user_id=acting_account_id,
            username=actor,
            account_id=account_id,
            reason=exc.reason,
        )
        raise


def _bind(
    sessions: sessionmaker[Session],
    pii: PersonalData,
    trust_store: TrustStore | None,
    certificate: bytes | Certificate,
    *,
    account_id: str,
    actor: str,
    acting_account_id: str | None,
    chain: Sequence[Certificate],
) -> BindingView:
    if isinstance(certificate, Certificate):
        leaf, extra = certificate, builtins.list(chain)
    else:
        leaf, extra = read_certificate(certificate)
        extra = [*extra, *chain]
    result = check_certificate(trust_store, leaf, extra)
    ident = cert_identity(result.identity)
    if not ident.present:
        raise _refuse(
            "no_identity",
            f"the profile '{result.profile}' of CA '{result.ca}' reads no credit code or ID "
            "number from this certificate",
        )
    fingerprint = leaf.sha256_fingerprint
    try:
        with sessions.begin() as db:
            account = db.get(Account, account_id) if isinstance(account_id, str) else None
            if account is None or account.disabled:
                raise _refuse("account_disabled", f"no enabled account {account_id!r}")
            member = _member(db, account.id)
            if member is None:
                raise _refuse("not_a_member", f"account {account.username} acts for no entity")
            if (
                acting_account_id is not None
                and acting_account_id != account.id
                and not _is_admin(db, member.entity_id, acting_account_id)
            ):
                raise _refuse(
                    "not_entity_admin",
                    "only the entity's administrators can bind certificates for others",
                )
            entity = db.get(MarketEntity, member.entity_id)
            assert entity is not None
            if entity.status != "verified":
                raise _refuse(
                    "entity_not_verified", f"entity {entity.id} is {entity.status}, not verified"
                )
            if not identity_matches(pii, entity, ident):
                raise _refuse(
                    "identity_mismatch",
                    "the identity in the certificate is not the entity's credit code or ID number",
                )
            existing = db.scalar(
                select(CertificateBinding).where(CertificateBinding.fingerprint == fingerprint)
            )
            if existing is not None:
                if existing.account_id == account.id:
                    return _view(db, existing)
                raise _refuse("already_bound", "the certificate is bound to another account")
            row = CertificateBinding(
                id=str(uuid.uuid4()),
                fingerprint=fingerprint,
                account_id=account.id,
                entity_id=entity.id,
                issuer=leaf.issuer.rfc4514[:MAX_SUBJECT],
                serial=format(leaf.serial_number, "x")[:80],
                subject=leaf.subject.rfc4514[:MAX_SUBJECT],
                ca=(result.ca or "")[:200] or None,
                not_before=leaf.not_before.timestamp(),
                not_after=leaf.not_after.timestamp(),
                created_by=actor[:150],
                created_at=time.time(),
            )
            db.add(row)
            db.flush()
            audit.add(
                db,
                "cert.bound",
                user_id=acting_account_id,
                username=actor,
                account_id=account.id,
                entity_id=entity.id,
                fingerprint=fingerprint,
                ca=result.ca,
            )
            return _view(db, row)
    except IntegrityError:  # a concurrent bind of the same certificate
        raise _refuse("already_bound", "the certificate is bound to another account") from None


def unbind(
    sessions: sessionmaker[Session],
    fingerprint: str,
    *,
    actor: str,
    acting_account_id: str | None = None,
) -> BindingView:
    """Remove a binding. A signed-in user may remove their own, an administrator those of
    their entity's members; None (`acting_account_id`) is an operator."""
    fp = (fingerprint or "").strip().lower().replace(":", "")
    with sessions.begin() as db:
        row = db.scalar(select(CertificateBinding).where(CertificateBinding.fingerprint == fp))
        allowed = row is not None and (
            acting_account_id is None
            or row.account_id == acting_account_id
            or _is_admin(db, row.entity_id, acting_account_id)
        )
        if row is None or not allowed:
            refusal = _refuse("not_found", f"no certificate binding {fp[:64]!r}")
        else:
            view = _view(db, row)
            db.delete(row)
            audit.add(
                db,
                "cert.unbound",
                user_id=acting_account_id,
                username=actor,
                account_id=row.account_id,
                entity_id=row.entity_id,
                fingerprint=fp,
            )
            return view
    audit.record(
        sessions,
        "cert.unbind_refused",
        user_id=acting_account_id,
        username=actor,
        reason="not_found",
    )
    raise refusal


def find(sessions: sessionmaker[Session], fingerprint: str) -> BindingView | None:
    if not isinstance(fingerprint, str) or len(fingerprint) != 64:
        return None
    with sessions() as db:
        row = db.scalar(
            select(CertificateBinding).where(CertificateBinding.fingerprint == fingerprint.lower())
        )
        return _view(db, row) if row else None


def _list(sessions: sessionmaker[Session], where: object | None) -> builtins.list[BindingView]:
    with sessions() as db:
        query = select(CertificateBinding).order_by(
            CertificateBinding.created_at, CertificateBinding.fingerprint
        )
        if where is not None:
            query = query.where(where)  # type: ignore[arg-type]
        return [_view(db, row) for row in db.scalars(query).all()]


def list_for_account(
    sessions: sessionmaker[Session], account_id: str
) -> builtins.list[BindingView]:
    return _list(sessions, CertificateBinding.account_id == account_id)


def list_for_entity(sessions: sessionmaker[Session], entity_id: str) -> builtins.list[BindingView]:
    return _list(sessions, CertificateBinding.entity_id == entity_id)


def list_all(sessions: sessionmaker[Session]) -> builtins.list[BindingView]:
    return _list(sessions, None)


def when(ts: float) -> str:
    """A binding's time as shown on pages and in the CLI (UTC, to the minute)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


__all__ = [
    "BindingView",
    "CertBindingError",
    "CertIdentity",
    "CertificateBinding",
    "bind",
    "cert_identity",
    "check_certificate",
    "entity_for_identity",
    "find",
    "identity_matches",
    "list_all",
    "list_for_account",
    "list_for_entity",
    "read_certificate",
    "unbind",
]

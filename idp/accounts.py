"""Accounts and password checking (Argon2id).

A failed lookup still runs one Argon2 verification against a fixed hash, so response time does not
tell an attacker which usernames exist.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from .errors import AccountError
from .models import Account

if TYPE_CHECKING:
    from .entities.pii import PersonalData

_hasher = PasswordHasher()  # argon2-cffi's default type is Argon2id
_DUMMY_HASH = _hasher.hash("huren-dummy-password")
USERNAME = re.compile(r"^[A-Za-z0-9_.@+\-\u4e00-\u9fff]{1,150}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str | None
    email: str | None
    updated_at: float
    operator: bool = False
    """May use the operator pages (entity review); set with `huren user operator`."""

    @classmethod
    def from_row(cls, row: Account) -> User:
        return cls(row.id, row.username, row.name, row.email, row.updated_at, bool(row.operator))

    def get_user_id(self) -> str:  # Authlib's UserMixin
        return self.id


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"password must be at least {MIN_PASSWORD} characters",
            zh=f"密码至少 {MIN_PASSWORD} 位",
        )
    if len(password) > MAX_PASSWORD:
        raise AccountError("password is too long", zh="密码过长")
    return _hasher.hash(password)


def create_user(
    sessions: sessionmaker[Session],
    *,
    username: str,
    password: str,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    pii: PersonalData | None = None,
    operator: bool = False,
) -> User:
    """A new account. A `phone` is kept sealed, so it needs `pii` (the `Idp`'s)."""
    if not USERNAME.match(username):
        raise AccountError(f"invalid username {username!r}", zh="用户名格式无效")
    if email is not None and "@" not in email:
        raise AccountError(f"invalid email {email!r}", zh="电子邮箱格式无效")
    if phone is not None and not re.fullmatch(r"\+?[0-9\- ]{5,20}", phone):
        raise AccountError("invalid phone number", zh="手机号码格式无效")
    if phone is not None and pii is None:
        raise ValueError("create_user needs `pii` to keep a phone number")
    now = time.time()
    row = Account(
        id=str(uuid.uuid4()),
        username=username,
        name=name,
        phone=None,
        phone_sealed=pii.seal("phone", phone) if phone is not None and pii else None,
        phone_index=pii.index("phone", phone) if phone is not None and pii else None,
        email=email,
        password_hash=hash_password(password),
        disabled=False,
        operator=operator,
        created_at=now,
        updated_at=now,
    )
    with sessions.begin() as db:
        taken = db.scalar(
            select(Account.id).where(func.lower(Account.username) == username.lower())
        )
        if taken:
            raise AccountError(f"username {username!r} is taken", zh="用户名已被占用")
        db.add(row)
        return User.from_row(row)


def find_user(sessions: sessionmaker[Session], user_id: str) -> User | None:
    with sessions() as db:
        row = db.get(Account, user_id)
        return User.from_row(row) if row and not row.disabled else None


def check_password(sessions: sessionmaker[Session], username: str, password: str) -> User | None:
    """The user if the password is right, else None; rehashes when Argon2 parameters changed."""
    password = password[:MAX_PASSWORD]
    with sessions() as db:
        row = db.scalar(select(Account).where(func.lower(Account.username) == username.lower()))
        stored = row.password_hash if row and row.password_hash and not row.disabled else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        with sessions.begin() as db:
            fresh = db.get(Account, row.id)
            if fresh is not None:
                fresh.password_hash = _hasher.hash(password)
    return User.from_row(row)


def set_operator(sessions: sessionmaker[Session], username: str, operator: bool) -> User:
    """Grant or withdraw the operator role (the review queue and entity pages)."""
    with sessions.begin() as db:
        row = db.scalar(select(Account).where(func.lower(Account.username) == username.lower()))
        if row is None:
            raise AccountError(f"no user {username!r}", zh="用户不存在")
        row.operator = operator
        row.updated_at = time.time()
        return User.from_row(row)


def account_phone(sessions: sessionmaker[Session], pii: PersonalData, user_id: str) -> str | None:
    """The account's own mobile (not an entity contact), opened from its sealed form."""
    with sessions() as db:
        sealed = db.scalar(select(Account.phone_sealed).where(Account.id == user_id))
    return pii.unseal("phone", sealed) if sealed else None


def seal_plain_phones(sessions: sessionmaker[Session], pii: PersonalData) -> int:
    """Move mobiles stored in plain text (before revision idp_0003) into sealed form.

    Idempotent, one transaction; run by `huren db upgrade` because only the running service
    knows the master secret. Returns how many accounts were changed.
    """
    with sessions.begin() as db:
        rows = db.scalars(select(Account).where(Account.phone.is_not(None))).all()
        for row in rows:
            phone = row.phone or ""
            row.phone_sealed = pii.seal("phone", phone)
            row.phone_index = pii.index("phone", phone)
            row.phone = None
        return len(rows)


def set_password(sessions: sessionmaker[Session], username: str, password: str) -> User:
    """Set an account's password (e.g. an imported entity's first administrator)."""
    password_hash = hash_password(password)
    with sessions.begin() as db:
        row = db.scalar(select(Account).where(func.lower(Account.username) == username.lower()))
        if row is None:
            raise AccountError(f"no user {username!r}", zh="用户不存在")
        row.password_hash = password_hash
        row.updated_at = time.time()
        return User.from_row(row)

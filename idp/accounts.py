"""Accounts and password checking (Argon2id).

A failed lookup still runs one Argon2 verification against a fixed hash, so response time does not
tell an attacker which usernames exist.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from .errors import AccountError
from .models import Account

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
    phone: str | None
    email: str | None
    updated_at: float

    @classmethod
    def from_row(cls, row: Account) -> User:
        return cls(row.id, row.username, row.name, row.phone, row.email, row.updated_at)

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
) -> User:
    if not USERNAME.match(username):
        raise AccountError(f"invalid username {username!r}", zh="用户名格式无效")
    if email is not None and "@" not in email:
        raise AccountError(f"invalid email {email!r}", zh="电子邮箱格式无效")
    if phone is not None and not re.fullmatch(r"\+?[0-9\- ]{5,20}", phone):
        raise AccountError(f"invalid phone number {phone!r}", zh="手机号码格式无效")
    now = time.time()
    row = Account(
        id=str(uuid.uuid4()),
        username=username,
        name=name,
        phone=phone,
        email=email,
        password_hash=hash_password(password),
        disabled=False,
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

"""Signing keys for ID tokens, access tokens and logout tokens: generated, sealed at rest, rotated.

Rotation makes a new key `active`; the one it replaces becomes `previous` and stays in JWKS (so
tokens it signed still verify) until an operator retires it. Each worker caches the ring briefly
and re-reads it, so a rotation by the CLI reaches running workers within `refresh_interval`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, cast

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.at_rest import seal, unseal

from .errors import KeyManagementError
from .models import SigningKey

ALGORITHMS = ("RS256", "ES256")
PURPOSE = "idp.signing-key"
Key = RSAKey | ECKey


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    alg: str
    status: str
    created_at: float


def _generate(alg: str) -> Key:
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    raise KeyManagementError(f"unsupported signing algorithm {alg!r}")


def _info(row: SigningKey) -> KeyInfo:
    return KeyInfo(kid=row.kid, alg=row.alg, status=row.status, created_at=row.created_at)


class KeyRing:
    def __init__(
        self, sessions: sessionmaker[Session], master_secret: bytes, refresh_interval: float = 5.0
    ) -> None:
        self._sessions = sessions
        self._master = master_secret
        self._refresh_interval = refresh_interval
        self._lock = threading.Lock()
        self._loaded_at = -1e18
        self._active: dict[str, Key] = {}
        self._public = KeySet([])
        self._jwks: dict[str, Any] = {"keys": []}

    # -- reading -----------------------------------------------------------------------------

    def _load(self) -> None:
        now = time.monotonic()
        if now - self._loaded_at < self._refresh_interval:
            return
        with self._lock:
            if now - self._loaded_at < self._refresh_interval:
                return
            with self._sessions() as db:
                rows = db.scalars(
                    select(SigningKey)
                    .where(SigningKey.status != "retired")
                    .order_by(SigningKey.created_at)
                ).all()
            active: dict[str, Key] = {}
            public: list[Key] = []
            for row in rows:
                params = cast(Any, {"kid": row.kid, "alg": row.alg, "use": "sig"})
                if row.status == "active":
                    pem = unseal(self._master, PURPOSE, row.private_sealed)
                    cls = RSAKey if row.alg == "RS256" else ECKey
                    active[row.alg] = cls.import_key(pem, params)
                cls_pub = RSAKey if row.public_jwk["kty"] == "RSA" else ECKey
                public.append(cls_pub.import_key(dict(row.public_jwk), params))
            self._active = active
            self._public = KeySet(public)  # type: ignore[arg-type]
            self._jwks = {"keys": [dict(row.public_jwk) for row in rows]}
            self._loaded_at = now

    def invalidate(self) -> None:
        self._loaded_at = -1e18

    def signing_key(self, alg: str = "RS256") -> Key:
        self._load()
        key = self._active.get(alg)
        if key is None:
            raise KeyManagementError(f"no active {alg} signing key; run `huren keys rotate`")
        return key

    def verification_keys(self) -> KeySet:
        self._load()
        return self._public

    def jwks(self) -> dict[str, Any]:
        self._load()
        return self._jwks

    def algorithms(self) -> list[str]:
        self._load()
        return sorted(self._active)

    # -- managing ----------------------------------------------------------------------------

    def all(self) -> list[KeyInfo]:
        with self._sessions() as db:
            rows = db.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
            return [_info(r) for r in rows]

    def ensure(self) -> list[KeyInfo]:
        """Create an active key for each algorithm that has none (first start)."""
        with self._sessions() as db:
            have = set(db.scalars(select(SigningKey.alg).where(SigningKey.status == "active")))
        missing = [alg for alg in ALGORITHMS if alg not in have]
        return self.rotate(missing) if missing else []

    def rotate(self, algorithms: tuple[str, ...] | list[str] = ALGORITHMS) -> list[KeyInfo]:
        """New active keys for `algorithms`; the keys they replace become `previous`."""
        created: list[KeyInfo] = []
        now = time.time()
        with self._sessions.begin() as db:
            for alg in algorithms:
                key = _generate(alg)
                kid = key.thumbprint()
                pub = key.as_dict(private=False)
                pub.update({"kid": kid, "alg": alg, "use": "sig"})
                for old in db.scalars(
                    select(SigningKey).where(SigningKey.alg == alg, SigningKey.status == "active")
                ):
                    old.status = "previous"
                row = SigningKey(
                    kid=kid,
                    alg=alg,
                    status="active",
                    private_sealed=seal(self._master, PURPOSE, key.as_pem(private=True)),
                    public_jwk=pub,
                    created_at=now,
                )
                db.add(row)
                created.append(_info(row))
        self.invalidate()
        return created

    def retire(self, kid: str) -> KeyInfo:
        with self._sessions.begin() as db:
            row = db.get(SigningKey, kid)
            if row is None:
                raise KeyManagementError(f"no signing key with kid {kid!r}")
            if row.status == "active":
                raise KeyManagementError(
                    f"key {kid} is active; rotate first, then retire it once its tokens expired"
                )
            row.status = "retired"
            row.retired_at = time.time()
            info = _info(row)
        self.invalidate()
        return info

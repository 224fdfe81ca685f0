"""Signing keys for ID tokens, access tokens and logout tokens: generated, sealed at rest, rotated.

Rotation makes a new key `active`; the one it replaces becomes `previous` and stays in JWKS (so
tokens it signed still verify) until an operator retires it. Each worker caches the ring briefly
and re-reads it, so a rotation by the CLI reaches running workers within `refresh_interval`.

The ring holds one active key per algorithm: RS256 (the default for everything), ES256, and SM2SM3
(`cert_interop.jose_sm2`), which signs only the ID tokens of clients that ask for it. SM2 public
keys are published in JWKS only when the caller asks (`jwks(include_sm2=True)`), so that relying
parties whose JOSE library fails on an unknown curve keep working until a client uses SM2.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, cast

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.jose_sm2 import ALG as SM2_ALG
from cert_interop.jose_sm2 import Sm2Key, is_sm2_jwk, register
from storage.at_rest import seal, unseal

from .errors import KeyManagementError
from .models import Client, SigningKey

register()

ALGORITHMS = ("RS256", "ES256", SM2_ALG)
ALWAYS = ("RS256", "ES256")  # SM2SM3 is created when a client first needs it
PURPOSE = "idp.signing-key"
Key = RSAKey | ECKey  # ECKey includes Sm2Key


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
    if alg == SM2_ALG:
        return Sm2Key.generate_key(private=True)
    raise KeyManagementError(f"unsupported signing algorithm {alg!r}")


def _key_class(alg: str, jwk: dict[str, Any]) -> type[Key]:
    if alg == SM2_ALG or is_sm2_jwk(jwk):
        return Sm2Key
    return RSAKey if jwk.get("kty") == "RSA" else ECKey


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
        self._jwks_sm2: dict[str, Any] = {"keys": []}

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
                cls = _key_class(row.alg, row.public_jwk)
                if row.status == "active":
                    pem = unseal(self._master, PURPOSE, row.private_sealed)
                    active[row.alg] = cls.import_key(pem, params)
                public.append(cls.import_key(dict(row.public_jwk), params))
            self._active = active
            self._public = KeySet(public)  # type: ignore[arg-type]
            self._jwks_sm2 = {"keys": [dict(row.public_jwk) for row in rows]}
            self._jwks = {"keys": [dict(row.public_jwk) for row in rows if row.alg != SM2_ALG]}
            self._loaded_at = now

    def invalidate(self) -> None:
        self._loaded_at = -1e18

    def signing_key(self, alg: str = "RS256") -> Key:
        self._load()
        key = self._active.get(alg)
        if key is None and alg == SM2_ALG:  # first SM2 client since the ring was ensured
            self.ensure([SM2_ALG])
            self._load()
            key = self._active.get(alg)
        if key is None:
            raise KeyManagementError(f"no active {alg} signing key; run `huren keys rotate`")
        return key

    def verification_keys(self) -> KeySet:
        self._load()
        return self._public

    def jwks(self, include_sm2: bool = False) -> dict[str, Any]:
        """The public JWK Set; SM2 keys (`kty` EC, `crv` SM2) only with `include_sm2` (which creates
        the first SM2 key if there is none yet, so an SM2 client can fetch it before any token)."""
        self._load()
        if include_sm2 and SM2_ALG not in self._active:
            self.ensure([SM2_ALG])
            self._load()
        return self._jwks_sm2 if include_sm2 else self._jwks

    def algorithms(self) -> list[str]:
        self._load()
        return sorted(self._active)

    # -- managing ----------------------------------------------------------------------------

    def all(self) -> list[KeyInfo]:
        with self._sessions() as db:
            rows = db.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
            return [_info(r) for r in rows]

    def ensure(self, algorithms: tuple[str, ...] | list[str] | None = None) -> list[KeyInfo]:
        """Create an active key for each algorithm that has none (first start, and an upgrade that
        brings a new algorithm to an existing ring).

        By default: RS256 and ES256 always, SM2SM3 once a client asks for SM2-signed ID tokens
        (`signing_key` also creates it on first use, so a new SM2 client never waits for this)."""
        with self._sessions() as db:
            have = set(db.scalars(select(SigningKey.alg).where(SigningKey.status == "active")))
            if algorithms is None:
                wanted = [*ALWAYS]
                if db.scalar(
                    select(Client.client_id)
                    .where(Client.id_token_signed_response_alg == SM2_ALG)
                    .limit(1)
                ):
                    wanted.append(SM2_ALG)
            else:
                wanted = list(algorithms)
        missing = [alg for alg in wanted if alg not in have]
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

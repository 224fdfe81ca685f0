"""SM2 for JOSE: the JWS algorithm ``SM2SM3`` and SM2 JSON Web Keys, registered with ``joserfc``.

Decision (no IETF registration exists; draft-dang-webauthn-sm2 expired in 2022):

- **alg** ``"SM2SM3"``: SM2 signature (GB/T 32918.2) over SM3 with the Z value of the default
  user ID ``1234567812345678`` (GM/T 0009), i.e. exactly what :func:`cert_interop.sm2.sign` does.
  The name is the one Chinese implementations use for JWS — fibjs' ``jws`` module lists
  ``SM2SM3`` beside ``ES256`` and signs it with ``{"kty": "EC", "crv": "SM2"}`` keys — and the
  mnemonic of RFC 9563 (DNSSEC algorithm 17, ``SM2SM3``). Other names seen in the wild (``SM2``
  in golang-jwt extensions, ``GmSM2`` in deatil/go-jwt, ``SM3WithSM2`` in Java auth0-jwt
  wrappers) are not accepted: one name, no aliases. ``SM2`` alone is avoided because it is also
  the curve and the encryption scheme.
- **Signature encoding**: raw ``r || s``, 32 bytes each (64 bytes), like ``ES256``
  (RFC 7518 §3.4), not DER.
- **JWK**: ``{"kty": "EC", "crv": "SM2", "x": …, "y": …}`` with ``x``/``y`` (and private ``d``)
  as base64url of the full 32-byte big-endian values (RFC 7518 §6.2), the form used by fibjs,
  jsrsasign SM2 forks and DID documents with ``SM2VerificationKey2020``. The RFC 7638 thumbprint
  is SHA-256 over the required members ``crv``, ``kty``, ``x``, ``y``, as for any EC key.

Signing and verifying run in :mod:`cert_interop.sm2` (native, through ``tongsuopy``).

``joserfc`` keeps refusing ``SM2SM3`` unless the caller names it in ``algorithms=[...]``: the
algorithm is registered as not recommended, so the default ``RS256``/``ES256``/… set is unchanged.

Caveat for relying parties: ``joserfc`` (1.8) raises ``KeyError`` on ``KeySet.import_key_set``
when a set holds an EC key on a curve it does not know, instead of skipping it as RFC 7517 §5
suggests; ``cryptojwt`` skips it. Call :func:`register` and import such sets with
:func:`import_key_set`.
"""

from __future__ import annotations

import base64
import binascii
from functools import cached_property
from typing import Any, Literal, Self, cast

# joserfc keeps the two base classes in private modules (stable names since 1.0).
from joserfc._rfc7515.model import JWSAlgModel
from joserfc._rfc7517.models import NativeKeyBinding
from joserfc.errors import (
    InvalidExchangeKeyError,
    InvalidKeyCurveError,
    InvalidKeyTypeError,
    KeyParameterError,
)
from joserfc.jwk import ECKey, KeySet
from joserfc.jws import JWSRegistry
from joserfc.registry import Header

from cert_interop import keys as _keys
from cert_interop import sm2 as _sm2
from cert_interop.errors import CertInteropError

__all__ = [
    "ALG",
    "CURVE",
    "Sm2Key",
    "Sm2Sm3Algorithm",
    "import_jwk",
    "import_key_set",
    "register",
]

ALG = "SM2SM3"
CURVE = "SM2"
_SIZE = 32

Sm2Native = _sm2.Sm2PrivateKey | _sm2.Sm2PublicKey


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(value: object, member: str) -> bytes:
    if not isinstance(value, str) or not value.isascii():
        raise KeyParameterError(f"'{member}' must be a base64url string")
    if any(c in value for c in "+/="):
        raise KeyParameterError(f"'{member}' must be unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyParameterError(f"'{member}' is not valid base64url") from exc
    if len(raw) != _SIZE:
        raise KeyParameterError(f"'{member}' must encode exactly {_SIZE} bytes")
    return raw


class Sm2Binding(NativeKeyBinding):
    """Converts between SM2 JWKs / PEM / DER and :mod:`cert_interop.sm2` keys."""

    @classmethod
    def convert_raw_key_to_dict(cls, raw_key: Any, private: bool) -> Any:
        pub = raw_key.public_key() if isinstance(raw_key, _sm2.Sm2PrivateKey) else raw_key
        data: dict[str, str] = {"crv": CURVE, "x": _b64(pub.xy[:_SIZE]), "y": _b64(pub.xy[_SIZE:])}
        if private:
            data["d"] = _b64(bytes.fromhex(_sm2.private_key_to_hex(raw_key)))
        return data

    @classmethod
    def import_from_dict(cls, value: Any) -> Sm2Native:
        if value.get("kty") not in (None, "EC"):
            raise InvalidKeyTypeError("an SM2 JWK has kty 'EC'")
        if value.get("crv") != CURVE:
            raise InvalidKeyCurveError(f"an SM2 JWK has crv '{CURVE}'")
        xy = _unb64(value.get("x"), "x") + _unb64(value.get("y"), "y")
        try:
            pub = _sm2.public_key_from_hex("04" + xy.hex())
            if "d" not in value:
                return pub
            key = _sm2.private_key_from_hex(_unb64(value["d"], "d").hex())
        except CertInteropError as exc:
            raise KeyParameterError(f"invalid SM2 key: {exc}") from exc
        if key.public_key() != pub:
            raise KeyParameterError("'d' does not match 'x' and 'y'")
        return key

    @classmethod
    def import_from_bytes(cls, value: bytes, password: str | bytes | None = None) -> Sm2Native:
        pw = password.encode() if isinstance(password, str) else password
        key: Any
        try:
            if b"PUBLIC KEY" in value:
                key = _keys.load_public_key(value)
            else:
                try:
                    key = _keys.load_private_key(value, pw)
                except CertInteropError:
                    if pw is not None or value.lstrip()[:10] == b"-----BEGIN":
                        raise
                    key = _keys.load_public_key(value)
        except CertInteropError as exc:
            raise KeyParameterError(f"cannot load SM2 key: {exc}") from exc
        if not isinstance(key, _sm2.Sm2PrivateKey | _sm2.Sm2PublicKey):
            raise InvalidKeyCurveError("not an SM2 key")
        return key

    @staticmethod
    def as_bytes(
        key: Any,
        encoding: Literal["PEM", "DER"] | None = None,
        private: bool = False,
        password: str | None = None,
    ) -> bytes:
        fmt: Literal["pem", "der"] = "der" if encoding == "DER" else "pem"
        if private:
            if not key.is_private:
                raise ValueError("This key is not a private key.")
            pw = password.encode() if password else None
            return _keys.dump_private_key(key.private_key, fmt, pw)
        return _keys.dump_public_key(key.public_key, fmt)


class Sm2Key(ECKey):
    """An SM2 JWK (``kty`` ``EC``, ``crv`` ``SM2``) over :mod:`cert_interop.sm2` keys.

    A subclass of ``ECKey`` so that ``joserfc`` accepts it wherever it takes a key; ``raw_value``
    is an :class:`~cert_interop.sm2.Sm2PrivateKey` or :class:`~cert_interop.sm2.Sm2PublicKey`.
    """

    binding = Sm2Binding  # type: ignore[assignment]

    @property
    def is_private(self) -> bool:
        return isinstance(self.raw_value, _sm2.Sm2PrivateKey)

    @cached_property
    def public_key(self) -> _sm2.Sm2PublicKey:  # type: ignore[override]
        raw: Any = self.raw_value
        if isinstance(raw, _sm2.Sm2PrivateKey):
            return raw.public_key()
        assert isinstance(raw, _sm2.Sm2PublicKey)
        return raw

    @property
    def private_key(self) -> _sm2.Sm2PrivateKey | None:  # type: ignore[override]
        raw: Any = self.raw_value
        return raw if isinstance(raw, _sm2.Sm2PrivateKey) else None

    @property
    def curve_name(self) -> str:
        return CURVE

    @property
    def curve_key_size(self) -> int:
        return _SIZE * 8

    def exchange_derive_key(self, key: Any) -> bytes:
        raise InvalidExchangeKeyError()

    @classmethod
    def _wrap(cls, raw: Sm2Native, original: Any, parameters: Any) -> Self:
        return cls(cast(Any, raw), original, parameters)

    @classmethod
    def import_key(
        cls,
        value: Any,
        parameters: Any = None,
        password: str | bytes | None = None,
    ) -> Self:
        """From an SM2 JWK dict, PEM/DER bytes or str, or a ``cert_interop.sm2`` key."""
        if isinstance(value, _sm2.Sm2PrivateKey | _sm2.Sm2PublicKey):
            return cls._wrap(value, value, parameters)
        if isinstance(value, dict):
            cls.validate_dict_key(value)
            return cls._wrap(Sm2Binding.import_from_dict(value), value, parameters)
        raw = value.encode() if isinstance(value, str) else value
        if not isinstance(raw, bytes):
            raise KeyParameterError("an SM2 key must be a JWK dict, PEM/DER bytes or an SM2 key")
        return cls._wrap(Sm2Binding.import_from_bytes(raw, password), raw, parameters)

    @classmethod
    def generate_key(
        cls,
        crv: str | None = CURVE,
        parameters: Any = None,
        private: bool = True,
        auto_kid: bool = False,
    ) -> Self:
        if crv not in (None, CURVE):
            raise InvalidKeyCurveError(f"Invalid crv value: '{crv}'")
        raw = _sm2.generate_private_key()
        if private:
            key = cls._wrap(raw, raw, parameters)
        else:
            key = cls._wrap(raw.public_key(), None, parameters)
        if auto_kid:
            key.ensure_kid()
        return key

    @classmethod
    def derive_key(cls, *args: Any, **kwargs: Any) -> Self:
        raise NotImplementedError("SM2 keys are not derived from secrets here")


class Sm2Sm3Algorithm(JWSAlgModel):
    """JWS ``SM2SM3``: SM2 with SM3 and the default-ID Z value; signature ``r || s`` (64 bytes)."""

    name = ALG
    description = "SM2 signature with SM3 (GB/T 32918.2, default user ID), r || s"
    key_type = "EC"
    recommended = False
    algorithm_security = 128

    def check_key(self, key: Any) -> None:
        super().check_key(key)
        if not isinstance(key, Sm2Key):
            raise InvalidKeyCurveError(
                f"Key for '{self.name}' not supported, only '{CURVE}' allowed"
            )

    def sign(self, msg: bytes, key: Any) -> bytes:
        op_key = key.get_op_key("sign")
        return _sm2.sign(op_key, msg, fmt="raw")

    def verify(self, msg: bytes, sig: bytes, key: Any) -> bool:
        if not isinstance(key, Sm2Key) or len(sig) != 2 * _SIZE:
            return False
        pub: Any = key.get_op_key("verify")
        return _sm2.verify(pub, sig, msg, fmt="raw")


_ALGORITHM = Sm2Sm3Algorithm()


def register() -> None:
    """Make ``SM2SM3`` known to ``joserfc`` (idempotent). It stays out of the recommended set, so
    ``joserfc`` only uses it when the caller lists it in ``algorithms=[...]``."""
    if not isinstance(JWSRegistry.algorithms.get(ALG), Sm2Sm3Algorithm):
        JWSRegistry.algorithms[ALG] = _ALGORITHM
    KeySet.algorithm_keys.setdefault(ALG, ["EC"])


def is_sm2_jwk(data: Header) -> bool:
    return data.get("kty") == "EC" and data.get("crv") == CURVE


def import_jwk(data: dict[str, Any], parameters: Any = None) -> Any:
    """Import any JWK ``joserfc`` knows, or an SM2 one."""
    from joserfc.jwk import JWKRegistry

    if is_sm2_jwk(data):
        return Sm2Key.import_key(data, parameters)
    return JWKRegistry.import_key(data, parameters=parameters)


def import_key_set(value: dict[str, Any]) -> KeySet:
    """Like ``KeySet.import_key_set`` but SM2-aware, and skipping keys that cannot be imported (an
    unknown ``kty`` or curve) instead of failing the whole set (RFC 7517 §5)."""
    out: list[Any] = []
    for data in value.get("keys", []):
        if not isinstance(data, dict):
            continue
        try:
            out.append(import_jwk(data))
        except (KeyParameterError, InvalidKeyCurveError, KeyError, ValueError):
            continue
    return KeySet(out)

"""PKCS#11 backend (``python-pkcs11``): HSMs, USBKeys with a PKCS#11 driver, SoftHSM2.

- **Module.** Any vendor module path; with none given, the common install locations in
  :data:`DEFAULT_MODULE_PATHS` are probed in order and the first module holding a matching token
  wins. A missing module or one that is not a PKCS#11 library raises ``ModuleLoadFailed``. (A
  module that crashes the process inside ``C_Initialize`` cannot be caught from Python.)
- **Token** chosen by label, serial, manufacturer, model or slot id; with no selector there must be
  exactly one token.
- **Login** with the user PIN when one is given. Certificates can be listed without a PIN (they
  are public objects); signing and decrypting need it (``PinRequired``).
- **Certificates** are ``CKO_CERTIFICATE`` objects paired with ``CKO_PRIVATE_KEY`` objects by
  ``CKA_ID``.
- **Mechanisms.** Digests are computed here and the token does the private-key step:
  ``CKM_RSA_PKCS`` over a SHA-256 DigestInfo, ``CKM_RSA_PKCS_PSS`` (SHA-256, MGF1-SHA-256, 32-byte
  salt), ``CKM_ECDSA`` over SHA-256 (r || s turned into DER); ``CKM_RSA_PKCS_OAEP`` (SHA-256 or
  SHA-1) and ``CKM_RSA_PKCS`` decryption. So a token only needs the raw mechanisms.
- **SM2** has no standard PKCS#11 mechanism: each vendor assigns its own numbers, given here as
  :class:`Sm2Mechanisms` (parsed by :func:`parse_sm2_mechanisms`). SoftHSM2 has no SM2 at all.

PINs are handed to the module and never kept, logged or put in messages.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar, cast

import pkcs11
from asn1crypto import core as _core
from pkcs11 import MGF, Attribute, KeyType, Mechanism, ObjectClass, TokenFlag
from pkcs11 import exceptions as p11e
from pkcs11.attributes import AttributeMapper, handle_ulong

from cert_interop import sm2 as _sm2
from cert_interop.errors import CertInteropError
from cert_interop.sm3 import sm3
from cert_interop.x509 import OID_SM2_CURVE, Certificate, parse_certificate
from drivers._common import (
    SHA256_DIGEST_INFO_PREFIX,
    BaseToken,
    Sm2CipherForm,
    check_key_id,
    decrypt_request,
    raw_to_der_signature,
    sha256,
    sign_request,
    sm2_cipher_encode,
    sm2_cipher_parts,
    usage_of,
)
from drivers.api import (
    DecryptMechanism,
    KeyAlgorithm,
    SignMechanism,
    TokenCertificate,
)
from drivers.errors import (
    DecryptionFailed,
    KeyNotFound,
    ModuleLoadFailed,
    PinLocked,
    PinNotInitialised,
    PinRequired,
    TokenError,
    TokenNotFound,
    TokenRemoved,
    UnsupportedMechanism,
    WrongPin,
)

__all__ = [
    "DEFAULT_MODULE_PATHS",
    "Pkcs11Token",
    "Sm2Mechanisms",
    "parse_sm2_mechanisms",
]

DEFAULT_MODULE_PATHS: tuple[str, ...] = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib64/opensc-pkcs11.so",
)
"""Probed in this order when no module path is given (vendor USBKey drivers install under
names of their own: pass their path). Kept to well-known packaged locations."""

MODULE_DIRS: tuple[str, ...] = (
    "/usr/lib/x86_64-linux-gnu/pkcs11",
    "/usr/lib/aarch64-linux-gnu/pkcs11",
    "/usr/lib64/pkcs11",
    "/usr/lib/pkcs11",
    "/usr/local/lib/pkcs11",
    "/usr/lib/softhsm",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
)
"""Where an RFC 7512 ``module-name`` is looked for (``NAME.so`` or ``libNAME.so``)."""

_SM2_FIELDS = ("sign", "sign-sm3", "decrypt", "key-type", "cipher", "signature")
_MAX_ULONG = 0xFFFFFFFF


# --- SM2 vendor mechanisms -------------------------------------------------------------------


@dataclass(frozen=True)
class Sm2Mechanisms:
    """A vendor's SM2 mechanism numbers (none by default: SM2 is then unsupported).

    ``sign``: raw SM2 over a 32-byte e = SM3(Z || M) computed here (most USBKey PKCS#11
    drivers have this); ``sign_sm3``: SM3-with-SM2 over the message, Z computed by the token;
    ``decrypt``: SM2 decryption, the ciphertext written as ``cipher_form``; ``key_type``: the
    vendor ``CKK_`` value of SM2 keys, when they are not ``CKK_EC`` on the SM2 curve;
    ``signature_form``: what the token returns (``raw`` r || s, or ``der``).
    """

    sign: int | None = None
    sign_sm3: int | None = None
    decrypt: int | None = None
    key_type: int | None = None
    cipher_form: Sm2CipherForm = "c1c3c2"
    signature_form: Literal["raw", "der"] = "raw"


def _mech_number(name: str, value: str) -> int:
    text = value.strip().lower()
    try:
        number = int(text, 16) if text.startswith("0x") else int(text, 10)
    except ValueError:
        raise TokenError(
            f"SM2 mechanism setting {name}: {value!r} is not a number (use 0x… or decimal)",
            f"SM2 机制配置 {name} 的值不是数字",
        ) from None
    if not 0 <= number <= _MAX_ULONG:
        raise TokenError(
            f"SM2 mechanism setting {name}: {value!r} is out of range",
            f"SM2 机制配置 {name} 超出范围",
        )
    return number


def parse_sm2_mechanisms(text: str) -> Sm2Mechanisms:
    """Parse ``sign=0x80000A01,decrypt=0x80000A03,key-type=0x80000001,cipher=c1c3c2`` (keys:
    sign, sign-sm3, decrypt, key-type, cipher, signature; numbers in hex ``0x…`` or decimal).

    Empty text → no SM2. Unknown or repeated keys, bad numbers → ``TokenError`` naming them.
    """
    values: dict[str, str] = {}
    for raw_item in text.split(","):
        item = raw_item.strip()
        if not item:
            if raw_item or "," in text:
                raise TokenError("SM2 mechanism settings: empty item", "SM2 机制配置有空项")
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not value.strip():
            raise TokenError(
                f"SM2 mechanism settings: {name!r} needs a value (name=value)",
                f"SM2 机制配置 {name} 缺少取值",
            )
        if name not in _SM2_FIELDS:
            raise TokenError(
                f"SM2 mechanism settings: unknown key {name!r} (known: {', '.join(_SM2_FIELDS)})",
                f"SM2 机制配置包含未知项 {name}",
            )
        if name in values:
            raise TokenError(
                f"SM2 mechanism settings: {name!r} given twice", f"SM2 机制配置 {name} 重复"
            )
        values[name] = value.strip()
    cipher = values.get("cipher", "c1c3c2").lower()
    if cipher not in ("c1c3c2", "c1c2c3", "asn1"):
        raise TokenError(
            f"SM2 mechanism settings: cipher must be c1c3c2, c1c2c3 or asn1, not {cipher!r}",
            "SM2 机制配置 cipher 只能是 c1c3c2、c1c2c3 或 asn1",
        )
    signature = values.get("signature", "raw").lower()
    if signature not in ("raw", "der"):
        raise TokenError(
            f"SM2 mechanism settings: signature must be raw or der, not {signature!r}",
            "SM2 机制配置 signature 只能是 raw 或 der",
        )

    def number(name: str) -> int | None:
        return _mech_number(name, values[name]) if name in values else None

    return Sm2Mechanisms(
        sign=number("sign"),
        sign_sm3=number("sign-sm3"),
        decrypt=number("decrypt"),
        key_type=number("key-type"),
        cipher_form=cast(Sm2CipherForm, cipher),
        signature_form=cast(Literal["raw", "der"], signature),
    )


_E = TypeVar("_E", Mechanism, KeyType)
_T = TypeVar("_T")


def _member(enum: type[_E], value: int) -> _E:
    """``enum(value)``, or a pseudo-member for a vendor value the enum does not list:
    python-pkcs11 only accepts ``Mechanism`` instances and decodes ``CKA_KEY_TYPE`` strictly."""
    try:
        return enum(value)
    except ValueError:
        member = int.__new__(enum, value)
        member._name_ = f"VENDOR_{value:#x}"
        member._value_ = value
        return member


class _TolerantMapper(AttributeMapper):
    """Reads vendor ``CKK_`` values (SM2 keys on Chinese USBKeys) instead of failing."""

    def __init__(self) -> None:
        super().__init__()
        pack, unpack = handle_ulong
        self.register_handler(
            Attribute.KEY_TYPE,
            lambda v: pack(int(v)),
            lambda b: _member(KeyType, unpack(b)),
        )


# --- error mapping ---------------------------------------------------------------------------

_REMOVED = (
    p11e.DeviceRemoved,
    p11e.TokenNotPresent,
    p11e.SessionClosed,
    p11e.SessionHandleInvalid,
    p11e.TokenNotRecognised,
)
_UNSUPPORTED = (
    p11e.MechanismInvalid,
    p11e.MechanismParamInvalid,
    p11e.ArgumentsBad,
    p11e.KeyTypeInconsistent,
    p11e.FunctionNotSupported,
    p11e.KeySizeRange,
)
_BAD_INPUT = (
    p11e.EncryptedDataInvalid,
    p11e.EncryptedDataLenRange,
    p11e.DataLenRange,
    p11e.DataInvalid,
    p11e.GeneralError,
)


def _device_error(exc: p11e.PKCS11Error, *, decrypting: bool = False) -> TokenError:
    """A typed error for a PKCS#11 failure during an operation (never during login)."""
    if isinstance(exc, _REMOVED):
        return TokenRemoved()
    if isinstance(exc, p11e.UserNotLoggedIn):
        return PinRequired()
    if isinstance(exc, p11e.PinLocked):
        return PinLocked()
    if isinstance(exc, _UNSUPPORTED):
        return UnsupportedMechanism(
            f"the token refused the mechanism ({type(exc).__name__})",
            "USBKey 不支持该算法或参数",
        )
    if decrypting and isinstance(exc, _BAD_INPUT):
        return DecryptionFailed()
    return TokenError(
        f"the USBKey reported an error ({type(exc).__name__})", "USBKey 执行操作时出错"
    )


def _login_error(exc: p11e.PKCS11Error, flags_after: int) -> TokenError:
    """A typed error for a failed ``C_Login``; ``flags_after`` are the token flags read after
    the failure, which carry the retry hints."""
    if isinstance(exc, p11e.PinLocked) or flags_after & TokenFlag.USER_PIN_LOCKED:
        return PinLocked()
    if isinstance(exc, p11e.UserPinNotInitialized):
        return PinNotInitialised()
    if isinstance(exc, p11e.PinIncorrect | p11e.PinInvalid | p11e.PinLenRange):
        final = bool(flags_after & TokenFlag.USER_PIN_FINAL_TRY)
        return WrongPin(
            retries_left=1 if final else None,
            count_low=bool(flags_after & TokenFlag.USER_PIN_COUNT_LOW),
        )
    if isinstance(exc, p11e.PinExpired):
        return TokenError(
            "the USBKey PIN has expired and must be changed first", "USBKey PIN 码已过期，请先修改"
        )
    return _device_error(exc)


# --- module and token lookup -----------------------------------------------------------------


def _load_module(path: str) -> pkcs11._pkcs11.lib:
    if not os.path.exists(path):
        raise ModuleLoadFailed(
            f"PKCS#11 module {path} does not exist", f"USBKey 驱动程序库 {path} 不存在"
        )
    try:
        return pkcs11.lib(os.path.realpath(path))
    except p11e.PKCS11Error as exc:
        raise ModuleLoadFailed(
            f"PKCS#11 module {path} could not be loaded: {exc}",
            f"无法加载 USBKey 驱动程序库 {path}",
        ) from None


def module_candidates(
    module_path: str | None,
    module_name: str | None = None,
    module_paths: Sequence[str] = DEFAULT_MODULE_PATHS,
) -> list[str]:
    """Module files to try, in order, without duplicates (symlinks resolved)."""
    if module_path is not None:
        return [module_path]
    if module_name is not None:
        names = {f"{module_name}.so", f"lib{module_name}.so", module_name}
        listed = [p for p in module_paths if os.path.basename(p) in names]
        found = [os.path.join(d, n) for d in MODULE_DIRS for n in sorted(names)]
        paths = [p for p in [*listed, *found] if os.path.isfile(p)]
    else:
        paths = [p for p in module_paths if os.path.isfile(p)]
    seen: set[str] = set()
    out: list[str] = []
    for p in paths:
        real = os.path.realpath(p)
        if real not in seen:
            seen.add(real)
            out.append(p)
    return out


@dataclass(frozen=True)
class _Selector:
    label: str | None
    serial: str | None
    manufacturer: str | None
    model: str | None
    slot_id: int | None
    library_manufacturer: str | None
    library_description: str | None

    def describe(self) -> str:
        parts = [
            f"{name}={value!r}"
            for name, value in (
                ("label", self.label),
                ("serial", self.serial),
                ("manufacturer", self.manufacturer),
                ("model", self.model),
                ("slot", self.slot_id),
            )
            if value is not None
        ]
        return ", ".join(parts) or "any token"

    def library_matches(self, lib: pkcs11._pkcs11.lib) -> bool:
        return (
            self.library_manufacturer is None
            or lib.manufacturer_id.strip() == self.library_manufacturer
        ) and (
            self.library_description is None
            or lib.library_description.strip() == self.library_description
        )

    def tokens(self, lib: pkcs11._pkcs11.lib) -> list[pkcs11.Token]:
        if not self.library_matches(lib):
            return []
        out: list[pkcs11.Token] = []
        for slot in lib.get_slots(token_present=True):
            if self.slot_id is not None and slot.slot_id != self.slot_id:
                continue
            try:
                token = slot.get_token()
            except p11e.PKCS11Error:
                continue
            if self.label is not None and token.label.strip() != self.label:
                continue
            if self.serial is not None and token.serial.decode("ascii", "replace") != self.serial:
                continue
            if self.manufacturer is not None and token.manufacturer_id.strip() != self.manufacturer:
                continue
            if self.model is not None and token.model.strip() != self.model:
                continue
            out.append(token)
        return out


def _find_token(candidates: list[str], selector: _Selector) -> pkcs11.Token:
    if not candidates:
        raise ModuleLoadFailed(
            "no PKCS#11 module found; install the USBKey driver or give its module path",
            "未找到 USBKey 驱动程序库，请安装 USBKey 驱动或指定驱动路径",
        )
    load_error: ModuleLoadFailed | None = None
    loaded = 0
    for path in candidates:
        try:
            lib = _load_module(path)
        except ModuleLoadFailed as exc:
            load_error = exc
            continue
        loaded += 1
        try:
            tokens = selector.tokens(lib)
        except p11e.PKCS11Error as exc:
            raise _device_error(exc) from None
        if len(tokens) == 1:
            return tokens[0]
        if len(tokens) > 1:
            raise TokenNotFound(
                f"{len(tokens)} tokens match ({selector.describe()}); choose one by label or "
                "serial",
                "找到多个 USBKey，请按标签或序列号指定其中一个",
            )
    if loaded == 0 and load_error is not None:
        raise load_error
    raise TokenNotFound(
        f"no USBKey or HSM token found ({selector.describe()})",
        "未找到匹配的 USBKey，请插入 USBKey 后重试",
    )


# --- the token -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    cert: Certificate
    label: str
    key_id: bytes


class Pkcs11Token(BaseToken):
    """A :class:`drivers.api.Token` on one PKCS#11 token, with one session held open."""

    def __init__(
        self,
        *,
        pin: str | None = None,
        token_label: str | None = None,
        serial: str | None = None,
        manufacturer: str | None = None,
        model: str | None = None,
        slot_id: int | None = None,
        library_manufacturer: str | None = None,
        library_description: str | None = None,
        module_path: str | None = None,
        module_name: str | None = None,
        module_paths: Sequence[str] = DEFAULT_MODULE_PATHS,
        object_label: str | None = None,
        object_id: bytes | None = None,
        sm2: Sm2Mechanisms | None = None,
    ) -> None:
        """Find the token and open a session, logging in when ``pin`` is given.

        ``object_label`` / ``object_id`` (RFC 7512 ``object`` / ``id``) narrow the token to
        the matching key: other certificates are not listed and other keys are not found.
        """
        selector = _Selector(
            token_label,
            serial,
            manufacturer,
            model,
            slot_id,
            library_manufacturer,
            library_description,
        )
        candidates = module_candidates(module_path, module_name, module_paths)
        token = _find_token(candidates, selector)
        self._lock = threading.RLock()
        self._sm2 = sm2 or Sm2Mechanisms()
        self._object_label = object_label
        self._object_id = object_id
        self._logged_in = pin is not None
        self._session: pkcs11.Session | None = self._open(token, pin)
        self.label: str = token.label.strip()
        """The token label (what RFC 7512 calls ``token``)."""
        self.serial: str = token.serial.decode("ascii", "replace")
        self._login_required = bool(token.flags & TokenFlag.LOGIN_REQUIRED)

    @staticmethod
    def _open(token: pkcs11.Token, pin: str | None) -> pkcs11.Session:
        mapper = _TolerantMapper()
        flags = int(token.flags)
        try:
            if pin is None:
                return token.open(attribute_mapper=mapper)
            if flags & TokenFlag.USER_PIN_LOCKED:
                raise PinLocked()
            if not flags & TokenFlag.USER_PIN_INITIALIZED:
                raise PinNotInitialised()
            # On a failed C_Login python-pkcs11 leaves the just-opened session to the module,
            # which closes it with the others when the module is finalised.
            return token.open(user_pin=pin, attribute_mapper=mapper)
        except p11e.UserAlreadyLoggedIn:
            # another Pkcs11Token in this process is logged in to the same token: sessions
            # share the login state (PKCS#11 logins are per application, not per session)
            return token.open(attribute_mapper=mapper)
        except (p11e.PinIncorrect, p11e.PinInvalid, p11e.PinLenRange, p11e.PinLocked) as exc:
            raise _login_error(exc, _flags_now(token)) from None
        except p11e.PKCS11Error as exc:
            raise _login_error(exc, flags) from None

    # --- Token ---------------------------------------------------------------------------

    def certificates(self) -> list[TokenCertificate]:
        with self._lock:
            session = self._live()
            out: list[TokenCertificate] = []
            for entry in self._guard(lambda: list(self._entries(session))):
                key = self._guard(partial(self._private_key, session, entry.key_id))
                if key is None and (self._logged_in or entry.cert.is_ca):
                    # logged in: a certificate whose key is elsewhere; not logged in, private
                    # keys are hidden, so list every end-entity certificate that has an id
                    continue
                can_sign = _flag(key, Attribute.SIGN) if key is not None else True
                can_decrypt = _flag(key, Attribute.DECRYPT) if key is not None else True
                if self._object_label is not None and entry.label != self._object_label:
                    key_label = _text(key, Attribute.LABEL) if key is not None else None
                    if key_label != self._object_label:
                        continue
                out.append(
                    TokenCertificate(
                        label=entry.label or entry.cert.subject.common_name or entry.key_id.hex(),
                        key_id=entry.key_id,
                        certificate=entry.cert.der,
                        key_algorithm=entry.cert.key_algorithm,
                        usage=usage_of(entry.cert, can_sign, can_decrypt),
                    )
                )
            return out

    def sign(
        self,
        key_id: bytes,
        data: bytes | None = None,
        *,
        digest: bytes | None = None,
        mechanism: SignMechanism | None = None,
    ) -> bytes:
        with self._lock:
            key, algorithm, cert = self._key(key_id, "sign")
            mechanism = sign_request(algorithm, data, digest, mechanism)
            if mechanism == "sm2-sm3":
                return self._sign_sm2(key, cert, data, digest)
            h = digest if digest is not None else sha256(cast(bytes, data))
            if mechanism == "rsa-pkcs1-sha256":
                return bytes(
                    self._guard(
                        lambda: key.sign(
                            SHA256_DIGEST_INFO_PREFIX + h, mechanism=Mechanism.RSA_PKCS
                        )
                    )
                )
            if mechanism == "rsa-pss-sha256":
                return bytes(
                    self._guard(
                        lambda: key.sign(
                            h,
                            mechanism=Mechanism.RSA_PKCS_PSS,
                            mechanism_param=(Mechanism.SHA256, MGF.SHA256, 32),
                        )
                    )
                )
            raw = self._guard(lambda: key.sign(h, mechanism=Mechanism.ECDSA))
            return raw_to_der_signature(raw)

    def decrypt(self, key_id: bytes, blob: bytes, *, mechanism: DecryptMechanism) -> bytes:
        with self._lock:
            key, algorithm, _cert = self._key(key_id, "decrypt")
            blob = decrypt_request(algorithm, blob, mechanism)
            if mechanism == "sm2":
                if self._sm2.decrypt is None:
                    raise _no_sm2("decryption")
                mech = _member(Mechanism, self._sm2.decrypt)
                ct = sm2_cipher_encode(sm2_cipher_parts(blob), self._sm2.cipher_form)
                return bytes(self._guard(lambda: key.decrypt(ct, mechanism=mech), decrypting=True))
            if mechanism == "rsa-pkcs1":
                return bytes(
                    self._guard(
                        lambda: key.decrypt(blob, mechanism=Mechanism.RSA_PKCS), decrypting=True
                    )
                )
            params = (
                (Mechanism.SHA256, MGF.SHA256, None)
                if mechanism == "rsa-oaep-sha256"
                else (Mechanism.SHA_1, MGF.SHA1, None)
            )
            return bytes(
                self._guard(
                    lambda: key.decrypt(
                        blob, mechanism=Mechanism.RSA_PKCS_OAEP, mechanism_param=params
                    ),
                    decrypting=True,
                )
            )

    def close(self) -> None:
        with self._lock:
            session, self._session = self._session, None
            if session is not None:
                with contextlib.suppress(p11e.PKCS11Error):  # device gone: nothing to release
                    session.close()

    # --- helpers -------------------------------------------------------------------------

    def _guard(self, op: Callable[[], _T], *, decrypting: bool = False) -> _T:
        try:
            return op()
        except p11e.PKCS11Error as exc:
            raise _device_error(exc, decrypting=decrypting) from None

    def _live(self) -> pkcs11.Session:
        if self._session is None:
            raise TokenError("the token has been closed", "USBKey 会话已关闭")
        return self._session

    def _entries(self, session: pkcs11.Session) -> Iterator[_Entry]:
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
            try:
                attrs = obj.get_attributes([Attribute.VALUE, Attribute.ID])
            except p11e.PKCS11Error:
                continue  # not an X.509 certificate, or a token that hides the value
            key_id = attrs.get(Attribute.ID)
            value = attrs.get(Attribute.VALUE)
            if not key_id or not value:
                continue
            try:
                cert = parse_certificate(bytes(value))
            except CertInteropError:
                continue
            if self._object_id is not None and bytes(key_id) != self._object_id:
                continue
            yield _Entry(cert, _text(obj, Attribute.LABEL) or "", bytes(key_id))

    def _private_key(self, session: pkcs11.Session, key_id: bytes) -> Any:
        for obj in session.get_objects(
            {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: key_id}
        ):
            return obj
        return None

    def _key(
        self, key_id: bytes, use: Literal["sign", "decrypt"]
    ) -> tuple[Any, KeyAlgorithm, Certificate | None]:
        """The private key object, its algorithm and its certificate (when on the token)."""
        key_id = check_key_id(key_id)
        session = self._live()
        if self._object_id is not None and key_id != self._object_id:
            raise KeyNotFound()
        key = self._guard(lambda: self._private_key(session, key_id))
        if key is None:
            if not self._logged_in and self._login_required:
                raise PinRequired()
            raise KeyNotFound()
        entry = next(
            (e for e in self._guard(lambda: list(self._entries(session))) if e.key_id == key_id),
            None,
        )
        if self._object_label is not None and self._object_label not in (
            _text(key, Attribute.LABEL),
            entry.label if entry is not None else None,
        ):
            raise KeyNotFound()
        if not hasattr(key, use):  # python-pkcs11 adds sign()/decrypt() per CKA_SIGN/CKA_DECRYPT
            raise UnsupportedMechanism(
                f"this key is not allowed to {use}",
                "该密钥不允许签名" if use == "sign" else "该密钥不允许解密",
            )
        cert = entry.cert if entry is not None else None
        algorithm = cert.key_algorithm if cert is not None else self._algorithm_of(key)
        return key, algorithm, cert

    def _algorithm_of(self, key: Any) -> KeyAlgorithm:
        key_type = int(self._guard(lambda: key[Attribute.KEY_TYPE]))
        if key_type == KeyType.RSA:
            return "rsa"
        if self._sm2.key_type is not None and key_type == self._sm2.key_type:
            return "sm2"
        if key_type == KeyType.EC:
            params = bytes(self._guard(lambda: key[Attribute.EC_PARAMS]))
            return "sm2" if params == _SM2_CURVE_DER else "ec"
        raise UnsupportedMechanism(
            f"keys of type {key_type:#x} are not supported", "不支持该类型的密钥"
        )

    def _sign_sm2(
        self, key: Any, cert: Certificate | None, data: bytes | None, digest: bytes | None
    ) -> bytes:
        conf = self._sm2
        if data is not None and conf.sign_sm3 is not None:
            mech = _member(Mechanism, conf.sign_sm3)
            out = self._guard(lambda: key.sign(data, mechanism=mech))
        elif conf.sign is not None:
            if digest is None:
                if cert is None or not isinstance(cert.public_key, _sm2.Sm2PublicKey):
                    raise UnsupportedMechanism(
                        "SM2 signing needs the key's certificate on the token (for Z)",
                        "SM2 签名需要 USBKey 中存有对应证书",
                    )
                digest = sm3(_sm2.z_value(cert.public_key) + cast(bytes, data))
            mech = _member(Mechanism, conf.sign)
            e = digest
            out = self._guard(lambda: key.sign(e, mechanism=mech))
        else:
            raise _no_sm2("signing" if data is not None else "signing a digest")
        if conf.signature_form == "der":
            return bytes(out)
        return raw_to_der_signature(out)


def _no_sm2(what: str) -> UnsupportedMechanism:
    return UnsupportedMechanism(
        f"SM2 {what} is not configured for this PKCS#11 module (set its vendor mechanism numbers)",
        "未为该 USBKey 驱动配置 SM2 算法",
    )


_SM2_CURVE_DER = bytes(_core.ObjectIdentifier(OID_SM2_CURVE).dump())
"""``CKA_EC_PARAMS`` of a ``CKK_EC`` key on the SM2 curve (how some tokens store SM2 keys)."""


def _flags_now(token: pkcs11.Token) -> int:
    """Token flags read again after a failed login (the retry hints change then)."""
    try:
        return int(token.slot.get_token().flags)
    except p11e.PKCS11Error:
        return 0


def _flag(obj: Any, attr: Attribute) -> bool:
    try:
        return bool(obj[attr])
    except p11e.PKCS11Error:
        return False


def _text(obj: Any, attr: Attribute) -> str | None:
    try:
        value = obj[attr]
    except p11e.PKCS11Error:
        return None
    return str(value) if value is not None else None

"""Typed errors of ``drivers``: every failure of a token is a :class:`TokenError`.

Each error carries an English message (``str(err)``) and a Chinese one (``err.message_zh``) written
for the bidder at the keyboard, so the bridge and the CLI can show them as they are. Messages never
contain a PIN or a password; they may name a file or a module path, which are not secrets.
"""

from __future__ import annotations

__all__ = [
    "DecryptionFailed",
    "InvalidTokenUri",
    "KeyNotFound",
    "ModuleLoadFailed",
    "PinLocked",
    "PinNotInitialised",
    "PinRequired",
    "TokenError",
    "TokenFileInvalid",
    "TokenNotFound",
    "TokenRemoved",
    "UnsupportedMechanism",
    "WrongPin",
]


class TokenError(Exception):
    """Base class of every error raised by ``drivers``."""

    default_message = "the USBKey or key store reported an error"
    default_message_zh = "证书介质（USBKey）或密钥文件出错"

    def __init__(self, message: str | None = None, message_zh: str | None = None) -> None:
        self.message = message or self.default_message
        self.message_zh = message_zh or self.default_message_zh
        super().__init__(self.message)


class TokenNotFound(TokenError):
    """No token matches: no USBKey inserted, wrong label or serial, key file missing."""

    default_message = "no matching USBKey or key file was found; insert the USBKey and try again"
    default_message_zh = "未找到匹配的 USBKey 或密钥文件，请插入 USBKey 后重试"


class TokenRemoved(TokenNotFound):
    """The token went away while in use (USBKey unplugged, session closed by the device)."""

    default_message = "the USBKey was removed while in use; insert it again and retry"
    default_message_zh = "USBKey 在使用过程中被拔出，请重新插入后重试"


class WrongPin(TokenError):
    """The PIN (or key-file password) is wrong.

    ``retries_left`` is set only when the token says how many tries remain (PKCS#11 reports the
    final try as ``CKF_USER_PIN_FINAL_TRY`` → 1); ``count_low`` is True when it only says that
    tries are running low (``CKF_USER_PIN_COUNT_LOW``).
    """

    default_message = "wrong PIN"
    default_message_zh = "PIN 码错误"

    def __init__(
        self,
        message: str | None = None,
        message_zh: str | None = None,
        *,
        retries_left: int | None = None,
        count_low: bool = False,
    ) -> None:
        self.retries_left = retries_left
        self.count_low = count_low
        if message is None and message_zh is None:
            message, message_zh = _wrong_pin_text(retries_left, count_low)
        super().__init__(message, message_zh)


def _wrong_pin_text(retries_left: int | None, count_low: bool) -> tuple[str, str]:
    if retries_left is not None:
        return (
            f"wrong PIN: {retries_left} tries left before the USBKey locks",
            f"PIN 码错误，还可尝试 {retries_left} 次，之后 USBKey 将被锁定",
        )
    if count_low:
        return (
            "wrong PIN: only a few tries are left before the USBKey locks",
            "PIN 码错误，剩余尝试次数不多，多次输错后 USBKey 将被锁定",
        )
    return WrongPin.default_message, WrongPin.default_message_zh


class PinRequired(TokenError):
    """The operation needs a login (or the key file is encrypted) and no PIN was given."""

    default_message = "this USBKey or key file needs a PIN"
    default_message_zh = "该 USBKey 或密钥文件需要输入 PIN 码"


class PinLocked(TokenError):
    """The user PIN is locked after too many wrong tries; only the issuer (SO) can unlock it."""

    default_message = (
        "the USBKey PIN is locked after too many wrong tries; ask the issuer to unlock it"
    )
    default_message_zh = "USBKey 的 PIN 码因多次输错已被锁定，请联系证书颁发机构解锁"


class PinNotInitialised(PinLocked):
    """The token has no user PIN yet (fresh or reset token): as unusable as a locked one, and
    fixed the same way, by the issuer (SO) setting a user PIN."""

    default_message = "the USBKey has no user PIN set; ask the certificate issuer to initialise it"
    default_message_zh = "该 USBKey 尚未设置用户 PIN 码，请联系证书颁发机构初始化"


class UnsupportedMechanism(TokenError):
    """The key or the token cannot do the requested algorithm (e.g. ECDSA with an RSA key, SM2
    on a PKCS#11 module with no SM2 mechanism configured)."""

    default_message = "this USBKey or key cannot perform the requested algorithm"
    default_message_zh = "该 USBKey 或密钥不支持所请求的算法"


class ModuleLoadFailed(TokenError):
    """The PKCS#11 module (vendor driver library) is missing or could not be loaded."""

    default_message = "the USBKey driver library could not be loaded; reinstall the USBKey driver"
    default_message_zh = "无法加载 USBKey 驱动程序库，请重新安装 USBKey 驱动"


class KeyNotFound(TokenError):
    """No private key with the given key id on the token."""

    default_message = "the USBKey holds no key with this id"
    default_message_zh = "USBKey 中没有对应的密钥"


class DecryptionFailed(TokenError):
    """The wrapped key could not be unwrapped: encrypted to another key, or damaged."""

    default_message = "decryption failed: the data was encrypted to another key or is damaged"
    default_message_zh = "解密失败：数据不是用该证书加密的，或已损坏"


class TokenFileInvalid(TokenError):
    """A soft-token file exists but is not a PKCS#12 / PKCS#8 key or X.509 certificate file we
    can read, or its certificate does not belong to its key."""

    default_message = "the key file is not a valid PKCS#12 or PKCS#8 key file"
    default_message_zh = "密钥文件格式无效（应为 PKCS#12 或 PKCS#8 文件）"


class InvalidTokenUri(TokenError, ValueError):
    """A ``file:`` or ``pkcs11:`` token URI that does not parse; the message says what is wrong."""

    default_message = "invalid token URI"
    default_message_zh = "证书介质地址（URI）格式错误"

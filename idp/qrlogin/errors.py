"""Typed refusals of QR login and device enrollment: a stable `code`, an HTTP status, and a
Chinese and an English message (the device API answers them as
``{"error", "error_description", "message_zh", "message_en"}``)."""

from __future__ import annotations

from typing import Any

from ..errors import IdpError

MESSAGES: dict[str, tuple[int, str, str]] = {
    # code: (HTTP status, Chinese, English)
    "invalid_request": (400, "请求格式错误", "The request is malformed."),
    "request_mismatch": (
        400,
        "请求体中的票据或操作与请求地址不一致",
        "The ticket or action in the body differs from the one in the URL.",
    ),
    "stale_request": (
        400,
        "请求时间与服务器时间相差超过 60 秒，请校准手机时间后重试",
        "The request's time is more than 60 seconds from the server's clock; "
        "set the phone's clock and retry.",
    ),
    "device_revoked": (
        401,
        "设备未登记或已被注销，请重新登记本设备",
        "This device is not enrolled or has been revoked; enroll it again.",
    ),
    "bad_signature": (
        401,
        "设备签名无效",
        "The device signature does not verify.",
    ),
    "ticket_not_found": (
        404,
        "二维码不存在或已失效，请刷新登录页面上的二维码",
        "Unknown QR code; refresh the QR code on the sign-in page.",
    ),
    "ticket_expired": (
        410,
        "二维码已过期，请刷新登录页面上的二维码",
        "The QR code has expired; refresh it on the sign-in page.",
    ),
    "replayed": (
        409,
        "该请求已处理过（重复的 nonce），已拒绝",
        "This request was already received (nonce reused) and is refused.",
    ),
    "wrong_state": (
        409,
        "二维码当前状态不允许此操作（例如尚未扫描、已被其他设备扫描、已确认或已取消）",
        "The QR code's state does not allow this (not scanned yet, scanned by another device, "
        "already confirmed or cancelled).",
    ),
    "invalid_credentials": (401, "用户名或密码错误", "Wrong username or password."),
    "locked": (
        429,
        "失败次数过多，请稍后再试",
        "Too many failed attempts; try again later.",
    ),
    "no_phone": (
        409,
        "该账户没有登记手机号码，无法发送短信验证码",
        "The account has no mobile number to send the SMS code to.",
    ),
    "sms_unavailable": (
        503,
        "短信服务暂不可用，请稍后再试",
        "SMS codes cannot be sent at the moment; try again later.",
    ),
    "sms_too_soon": (
        429,
        "验证码已发送，请稍候再重新获取",
        "A code was sent moments ago; wait before asking for another.",
    ),
    "sms_throttled": (
        429,
        "获取验证码过于频繁，请稍后再试",
        "Too many codes were asked for; try again later.",
    ),
    "enrollment_not_found": (
        404,
        "登记请求不存在、已过期、已使用或因错误次数过多已作废，请重新开始登记",
        "The enrollment is unknown, expired, used, or void after too many wrong codes; "
        "start again.",
    ),
    "wrong_code": (
        400,
        "短信验证码错误",
        "The SMS code is wrong.",
    ),
    "bad_public_key": (
        400,
        "公钥无效：须为 DER 编码的 SubjectPublicKeyInfo（ECDSA P-256 或 SM2），以 base64 表示",
        "The public key must be a base64 DER SubjectPublicKeyInfo of an ECDSA P-256 or SM2 key.",
    ),
    "too_many_devices": (
        409,
        "该账户登记的设备过多，请先注销不用的设备",
        "The account has too many enrolled devices; revoke unused ones first.",
    ),
    "device_not_found": (404, "没有这台设备", "No such device."),
    "not_confirmed": (
        409,
        "尚未在手机上确认登录",
        "The sign-in has not been confirmed on the phone yet.",
    ),
    "cancelled": (409, "已在手机上取消登录", "The sign-in was cancelled on the phone."),
    "certificate_required": (
        403,
        "该应用要求使用数字证书登录，不能扫码登录",
        "The application requires certificate login; QR code login is not enough.",
    ),
    "already_used": (409, "该二维码已用于登录", "This QR code was already used to sign in."),
    "slow_down": (
        429,
        "请求过于频繁，请稍后再试",
        "Too many requests; slow down.",
    ),
}


class QrLoginError(IdpError):
    """A refusal with a stable `code` from `MESSAGES` (unknown codes answer 400)."""

    code = "invalid_request"
    zh = "请求无效"

    def __init__(self, code: str, detail: str | None = None, **extra: Any) -> None:
        status, zh, en = MESSAGES.get(code, (400, "请求无效", "The request is invalid."))
        super().__init__(en, zh=zh)
        self.code = code
        self.status = status
        self.detail = detail
        """A more precise English description (never a secret), for `error_description`."""
        self.extra = extra
        """Extra answer fields (e.g. ``retry_after``, ``tries_left``)."""

    def body(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "error_description": self.detail or self.message,
            "message_zh": self.zh_message,
            "message_en": self.message,
            **self.extra,
        }


__all__ = ["MESSAGES", "QrLoginError"]

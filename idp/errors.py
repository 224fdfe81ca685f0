"""Typed errors of the identity provider: a stable code, a Chinese and an English message."""

from __future__ import annotations


class IdpError(Exception):
    code = "idp_error"
    zh = "身份服务错误"

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.zh_message = zh or self.zh


class KeyManagementError(IdpError):
    code = "key_management_error"
    zh = "签名密钥操作失败"


class ClientRegistrationError(IdpError):
    code = "invalid_client_metadata"
    zh = "客户端登记信息无效"


class AccountError(IdpError):
    code = "invalid_account"
    zh = "账户信息无效"

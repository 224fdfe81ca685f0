"""Stable error codes of the integrator API with their Chinese and English wording."""

from __future__ import annotations

ZH: dict[str, str] = {
    "invalid_request": "请求无效：缺少参数或格式错误",
    "invalid_token": "访问令牌无效、已过期或已撤销",
    "insufficient_scope": "访问令牌的权限范围不足",
    "malformed_input": "证书、签名、密文或编码无法解析",
    "invalid_key": "密钥与算法不匹配或不可用",
    "unsupported_algorithm": "不支持该算法",
    "unknown_key": "平台密钥不存在",
    "recipient_not_trusted": "接收者证书未通过验证",
    "decryption_failed": "解密失败：密钥不匹配或密文被篡改",
    "key_unavailable": "平台密钥暂不可用（密码设备未连接或口令错误）",
    "request_too_large": "请求体过大",
    "invalid_content_type": "请求的 Content-Type 必须为 application/json",
    "temporarily_unavailable": "服务暂时不可用，请稍后重试",
}

EN: dict[str, str] = {
    "invalid_request": "The request is missing a field or has one in the wrong form.",
    "invalid_token": "The access token is invalid, expired or revoked.",
    "insufficient_scope": "The access token's scope is insufficient.",
    "malformed_input": "A certificate, signature, ciphertext or encoding does not parse.",
    "invalid_key": "The key does not fit the algorithm or cannot be used.",
    "unsupported_algorithm": "Unsupported algorithm.",
    "unknown_key": "No platform key of that name.",
    "recipient_not_trusted": "A recipient certificate did not validate.",
    "decryption_failed": "Decryption failed: wrong key, or the ciphertext was tampered with.",
    "key_unavailable": "The platform key is unavailable (HSM not reachable or wrong PIN).",
    "request_too_large": "The request body is too large.",
    "invalid_content_type": "Content-Type must be application/json.",
    "temporarily_unavailable": "Temporarily unavailable; please retry later.",
}


def error_body(code: str, english: str | None = None) -> dict[str, str]:
    """``error`` (stable), ``error_description`` and the bilingual messages, as the idp does."""
    return {
        "error": code,
        "error_description": english or EN.get(code, "Request failed."),
        "message_zh": ZH.get(code, "请求失败"),
        "message_en": english or EN.get(code, "Request failed."),
    }

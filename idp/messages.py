"""Chinese and English wording for every stable error code a client or browser can receive."""

from __future__ import annotations

ZH: dict[str, str] = {
    "invalid_request": "请求无效：缺少参数、参数重复或格式错误",
    "invalid_client": "客户端身份验证失败",
    "invalid_grant": "授权码或刷新令牌无效、已过期、已使用或已撤销",
    "unauthorized_client": "该客户端无权使用此授权方式",
    "unsupported_grant_type": "不支持的授权类型",
    "unsupported_response_type": "不支持的响应类型",
    "unsupported_token_type": "不支持的令牌类型",
    "invalid_scope": "请求的权限范围无效",
    "access_denied": "用户拒绝了授权",
    "login_required": "需要登录",
    "consent_required": "需要用户同意授权",
    "interaction_required": "需要用户交互",
    "invalid_token": "访问令牌无效、已过期或已撤销",
    "insufficient_scope": "访问令牌的权限范围不足",
    "invalid_content_type": "请求的 Content-Type 不受支持",
    "request_too_large": "请求体过大",
    "not_found": "资源不存在",
    "method_not_allowed": "不允许使用该 HTTP 方法",
    "server_error": "服务器内部错误，请稍后重试",
    "temporarily_unavailable": "服务暂时不可用，请稍后重试",
    "invalid_client_metadata": "客户端登记信息无效",
    "csrf_failed": "表单已过期或来源无效，请刷新页面后重试",
}

EN: dict[str, str] = {
    "invalid_request": "The request is missing a parameter, repeats one, or is malformed.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": "The code or refresh token is invalid, expired, used or revoked.",
    "unauthorized_client": "The client may not use this grant type.",
    "unsupported_grant_type": "Unsupported grant type.",
    "unsupported_response_type": "Unsupported response type.",
    "unsupported_token_type": "Unsupported token type.",
    "invalid_scope": "The requested scope is invalid.",
    "access_denied": "The user denied the request.",
    "login_required": "Login is required.",
    "consent_required": "Consent is required.",
    "interaction_required": "User interaction is required.",
    "invalid_token": "The access token is invalid, expired or revoked.",
    "insufficient_scope": "The access token's scope is insufficient.",
    "invalid_content_type": "Unsupported Content-Type.",
    "request_too_large": "The request body is too large.",
    "not_found": "Not found.",
    "method_not_allowed": "Method not allowed.",
    "server_error": "Internal error; please retry later.",
    "temporarily_unavailable": "Temporarily unavailable; please retry later.",
    "invalid_client_metadata": "Invalid client metadata.",
    "csrf_failed": "The form expired or came from elsewhere; reload the page and retry.",
}


def bilingual(code: str, english: str | None = None) -> dict[str, str]:
    return {
        "message_zh": ZH.get(code, "请求失败"),
        "message_en": english or EN.get(code, "Request failed."),
    }


def error_body(code: str, english: str | None = None) -> dict[str, str]:
    body = {"error": code, "error_description": english or EN.get(code, "Request failed.")}
    body.update(bilingual(code, english))
    return body

"""Typed refusals of the entity service; each has a stable code and Chinese and English text."""

from __future__ import annotations

from idp.errors import IdpError

RECOVERY_HINT = (
    "sign in with the existing administrator account; if the password is forgotten, reset it "
    "from the sign-in page; if the account cannot be recovered, contact the platform operator "
    "with proof of identity"
)
RECOVERY_HINT_ZH = (
    "请使用已有的管理员账号登录；忘记密码请在登录页找回密码；"
    "无法找回账号请携带身份证明材料联系平台运营方"
)

_FIELD_ZH = {
    "uscc": "统一社会信用代码",
    "id_number": "证件号码",
}


class EntityError(IdpError):
    code = "entity_error"
    zh = "市场主体操作失败"


class InvalidField(EntityError):
    """A field was refused: `field` names it, `reason` is a stable code ("length", …)."""

    code = "invalid_field"
    zh = "填写内容无效"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", zh=f"{field} 无效（{reason}）")
        self.field = field
        self.reason = reason


class DuplicateEntity(EntityError):
    """The credit code or ID number is already registered; the message says how to get back in."""

    code = "duplicate_entity"
    zh = "该市场主体已注册"

    def __init__(self, field: str, hint: str = RECOVERY_HINT, *, zh_hint: str = RECOVERY_HINT_ZH):
        label = _FIELD_ZH.get(field, field)
        super().__init__(f"{field}: already registered; {hint}", zh=f"该{label}已注册。{zh_hint}")
        self.field = field
        self.hint = hint


class EntityNotFound(EntityError):
    code = "entity_not_found"
    zh = "市场主体或成员不存在"


class InvalidTransition(EntityError):
    code = "invalid_transition"
    zh = "当前状态下不允许该操作"


class LastAdmin(InvalidTransition):
    """Removing or disabling this member would leave the entity without an administrator."""

    code = "last_admin"
    zh = "不能移除或停用最后一名管理员"


class NotEntityAdmin(EntityError):
    """The acting account is not an enabled administrator of the entity."""

    code = "not_entity_admin"
    zh = "仅市场主体管理员可执行此操作"

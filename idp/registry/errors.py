"""Typed errors of the market-entity registry client.

`RegistryUnavailable` means "no trustworthy answer": the caller must treat the organisation as
pending review, never as verified. `RegistryContradiction` is a kind of it, so code that only
knows the parent still lands on the safe side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.errors import IdpError

if TYPE_CHECKING:
    from idp.registry.api import RegistryRecord

__all__ = ["MalformedUscc", "RegistryContradiction", "RegistryError", "RegistryUnavailable"]


class RegistryError(IdpError):
    """Base class of every error raised by `idp.registry`."""

    code = "registry_error"
    zh = "市场主体登记信息核验失败"


class MalformedUscc(RegistryError):
    """The code is not an 18-character unified social credit code with a valid check digit
    (GB 32100-2015); it is refused before any request so it can never reach a URL path."""

    code = "uscc_malformed"
    zh = "统一社会信用代码格式不正确"


class RegistryUnavailable(RegistryError):
    """The registry could not be reached, was too slow, or answered something unusable."""

    code = "registry_unreachable"
    zh = "市场主体登记系统暂时无法核验，已转人工审核"


class RegistryContradiction(RegistryUnavailable):
    """Two answers about one code disagree (a remembered one and a fresh one), so neither is
    believed; `previous` and `current` are what was said (a record or None = not found)."""

    code = "registry_contradiction"
    zh = "市场主体登记系统前后答复不一致，已转人工审核"

    def __init__(
        self,
        message: str,
        *,
        previous: RegistryRecord | None = None,
        current: RegistryRecord | None = None,
        zh: str | None = None,
    ) -> None:
        super().__init__(message, zh=zh)
        self.previous = previous
        self.current = current

"""The seal operators' pages wired to the identity provider's sign-in and operator role.

`seal.web.pages` asks its host who is signed in (`PageAccess`); `seal` and `idp` share a floor
and do not import each other, so this composition-root adapter answers over the provider's
session, accounts (the `operator` flag, read on every request) and CSRF token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask, redirect, url_for
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.web.api import ApiError
from idp.entities.membership import membership_of
from idp.web.context import check_csrf, csrf_token, current_login
from seal.records.making import sign_draft
from seal.records.service import CertificateChecker, SealDraft, SealMaker
from seal.web.page_kit import SealMember
from seal.web.pages import MakerUnavailable, SealPages, seal_pages_blueprint

from .seal_wiring import IdpEntityDirectory
from .settings import Settings

if TYPE_CHECKING:
    from idp.service import Idp

    from .crypto_api import TokenPlatformKey


class IdpPageAccess:
    """`seal.web.pages.PageAccess` over the provider's login session."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def operator(self) -> str | None:
        login = current_login()
        if login is None or not login[1].operator:
            return None
        return login[1].username

    def signed_in(self) -> bool:
        return current_login() is not None

    def member(self) -> SealMember | None:
        login = current_login()
        if login is None:
            return None
        membership = membership_of(self._sessions, login[1].id)
        if membership is None or membership.disabled:
            return None
        return SealMember(login[1].username, membership.entity_id, membership.is_admin)

    def sign_in(self, back: str) -> Any:
        return redirect(url_for("idp.login", next=back))

    def csrf_token(self) -> str:
        return csrf_token()

    def check_csrf(self) -> None:
        check_csrf()

    def entity_url(self, entity_id: str) -> str:
        return url_for("idp.operator_entity", entity_id=entity_id)


def _maker(settings: Settings, keys: Mapping[str, TokenPlatformKey]) -> SealMaker:
    name = settings.seal_maker
    if name is None or name not in keys:
        raise MakerUnavailable(
            "no seal-making key: set HUREN_SEAL_MAKER to the name of a key in "
            "HUREN_PLATFORM_KEYS (docs/operators.md, electronic seals)"
        )
    return keys[name]


def _sign_seal(draft: SealDraft, maker: SealMaker) -> bytes:
    try:
        return sign_draft(draft, maker)
    except ApiError as exc:  # the platform key's token is down or cannot sign
        raise MakerUnavailable(
            f"the seal-making key cannot sign now: {exc.code}: {exc}",
            zh=f"制章密钥暂不可用（{exc.code}），请稍后重试或联系运维人员",
        ) from None


def init_seal_pages(
    app: Flask, settings: Settings, idp: Idp, trust_store: CertificateChecker
) -> None:
    """/operator/seals…: the operators' pages for electronic seals."""
    keys: Mapping[str, TokenPlatformKey] = app.extensions.get("huren.platform_keys", {})
    app.register_blueprint(
        seal_pages_blueprint(
            SealPages(
                access=IdpPageAccess(idp.sessions),
                sessions=idp.sessions,
                directory=IdpEntityDirectory(idp.sessions, settings.secret_key),
                checker=trust_store,
                maker=lambda: _maker(settings, keys),
                sign_seal=_sign_seal,
            )
        )
    )

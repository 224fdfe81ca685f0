"""`/account/certificates`: a signed-in member's bound certificates; bind and unbind.

A member binds certificates for themself; an enabled administrator of the entity also for any
member of it (the entity is always the administrator's own, from the membership, and the
service checks the role again). The certificate comes as an uploaded PEM/DER file, pasted PEM,
or base64 DER taken from the bridge by the page's script.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import flash, get_flashed_messages, redirect, render_template, request, url_for

from ..accounts import User
from ..entities import service
from ..entities.errors import EntityNotFound
from ..entities.membership import Membership, membership_of
from ..web import bp
from ..web.context import check_csrf, csrf_token, current_idp, current_login
from ..web.i18n import _
from ..web.operator import sign_in_first
from . import bindings
from .verify import refusal_text

PAGE = "/account/certificates"
MAX_UPLOAD = 64 * 1024


def binding_refusal(reason: str) -> str:
    return {
        "malformed": _("The file is not a certificate (PEM or DER)."),
        "not_a_member": _("This account acts for no market entity."),
        "not_entity_admin": _(
            "Only the entity's administrators can bind or unbind certificates of other members."
        ),
        "already_bound": _("This certificate is already bound to another account."),
        "not_found": _("No such certificate binding."),
        "identity_mismatch": _(
            "The identity in the certificate (credit code or ID number) is not your market "
            "entity's."
        ),
    }.get(reason) or refusal_text(reason)


def _page(
    user: User, membership: Membership | None, *, error: str | None = None, status: int = 200
) -> Any:
    idp = current_idp()
    is_admin = membership is not None and membership.is_admin
    members: list[Any] = []
    if is_admin and membership is not None:
        try:
            members = [
                m
                for m in service.get(idp.sessions, idp.pii, membership.entity_id).members
                if not m.disabled
            ]
        except EntityNotFound:
            members = []
        listed = bindings.list_for_entity(idp.sessions, membership.entity_id)
    else:
        listed = bindings.list_for_account(idp.sessions, user.id)
    page = render_template(
        "account_certificates.html",
        user=user,
        membership=membership,
        is_admin=is_admin,
        members=members,
        bindings=listed,
        when=bindings.when,
        error=error,
        notices=get_flashed_messages() if error is None else (),
        csrf_token=csrf_token(),
        bridge_port=idp.config.bridge_port,
    )
    return page, status


def _uploaded() -> bytes | None:
    upload = request.files.get("certificate_file")
    if upload is not None and upload.filename:
        data = upload.read(MAX_UPLOAD + 1)
        return data if data.strip() else None
    text = (request.form.get("certificate") or "").strip()
    if not text:
        return None
    if "-----BEGIN" in text:
        return text.encode()
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


@bp.route(PAGE, methods=["GET", "POST"])
def account_certificates() -> Any:
    login = current_login()
    if login is None:
        return sign_in_first(PAGE)
    user = login[1]
    idp = current_idp()
    membership = membership_of(idp.sessions, user.id)
    if request.method == "GET":
        return _page(user, membership)
    check_csrf()
    action = request.form.get("action")
    try:
        if action == "bind":
            data = _uploaded()
            if data is None:
                return _page(user, membership, error=_("Choose a certificate file."), status=400)
            if len(data) > MAX_UPLOAD:
                return _page(user, membership, error=binding_refusal("malformed"), status=400)
            target = request.form.get("account_id") or user.id
            view = bindings.bind(
                idp.sessions,
                idp.pii,
                idp.trust_store,
                data,
                account_id=target[:64],
                actor=user.username,
                acting_account_id=user.id,
            )
            flash(_("Certificate bound: %(subject)s", subject=view.subject))
        elif action == "unbind":
            view = bindings.unbind(
                idp.sessions,
                (request.form.get("fingerprint") or "")[:100],
                actor=user.username,
                acting_account_id=user.id,
            )
            flash(_("Certificate unbound: %(subject)s", subject=view.subject))
        else:
            return _page(user, membership, error=_("The request is malformed."), status=400)
    except bindings.CertBindingError as exc:
        status = 403 if exc.reason in ("not_entity_admin", "identity_mismatch") else 400
        return _page(user, membership, error=binding_refusal(exc.reason), status=status)
    return redirect(url_for("idp.account_certificates"), 303)

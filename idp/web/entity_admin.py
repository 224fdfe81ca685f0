"""`/account/entity`: a member's view of their market entity; its administrators manage agents.

Every member sees the entity (personal data masked) and its members. Enabled administrators
also add agents (经办人, each with a login of their own) and disable or remove members; the
entity they act on is always their own, taken from their membership, never from the request.
The service checks the administrator role again and keeps the last administrator.
"""

from __future__ import annotations

from typing import Any

from flask import flash, get_flashed_messages, redirect, render_template, request, url_for

from ..accounts import User
from ..entities import service
from ..entities.errors import EntityNotFound, InvalidField, LastAdmin, NotEntityAdmin
from ..entities.membership import Membership, membership_of
from . import bp
from .context import check_csrf, csrf_token, current_idp, current_login
from .i18n import _
from .operator import field_problem, helpers, last_admin_message, member_name, sign_in_first

MAX_FIELD = 1024
PAGE = "/account/entity"


def _page(
    user: User,
    membership: Membership | None,
    *,
    error: str | None = None,
    status: int = 200,
    agent: dict[str, str] | None = None,
) -> Any:
    idp = current_idp()
    entity = None
    if membership is not None and not membership.disabled:
        try:
            entity = service.get(idp.sessions, idp.pii, membership.entity_id)
        except EntityNotFound:  # removed between the two reads
            membership = None
    page = render_template(
        "entity_account.html",
        user=user,
        membership=membership,
        entity=entity,
        is_admin=entity is not None and membership is not None and membership.is_admin,
        error=error,
        notices=get_flashed_messages() if error is None else (),
        agent=agent or {},
        csrf_token=csrf_token(),
        **helpers(),
    )
    return page, status


def _signed_in() -> User | None:
    login = current_login()
    return login[1] if login else None


@bp.route(PAGE)
def entity_account() -> Any:
    user = _signed_in()
    if user is None:
        return sign_in_first(PAGE)
    return _page(user, membership_of(current_idp().sessions, user.id))


def _admin(user: User) -> tuple[Membership | None, Any]:
    """The user's membership if they administer an entity, else None and the refusal page."""
    membership = membership_of(current_idp().sessions, user.id)
    if membership is None or membership.disabled:
        return None, _page(user, membership, status=403)
    if not membership.is_admin:
        message = _("Only the entity's administrators can add, disable or remove members.")
        return None, _page(user, membership, error=message, status=403)
    return membership, None


@bp.route(PAGE + "/agents", methods=["POST"])
def entity_add_agent() -> Any:
    user = _signed_in()
    if user is None:
        return sign_in_first(PAGE)
    check_csrf()
    membership, refusal = _admin(user)
    if membership is None:
        return refusal
    form = {
        name: (request.form.get(name) or "")[:MAX_FIELD]
        for name in ("username", "name", "phone", "password")
    }
    keep = {"username": form["username"], "name": form["name"]}  # never echo mobile/password
    idp = current_idp()
    try:
        service.add_agent(
            idp.sessions,
            idp.pii,
            membership.entity_id,
            user.id,
            username=form["username"].strip(),
            name=form["name"],
            phone=form["phone"],
            password=form["password"],
        )
    except InvalidField as exc:
        return _page(user, membership, error=field_problem(exc), status=400, agent=keep)
    except NotEntityAdmin:
        message = _("Only the entity's administrators can add, disable or remove members.")
        return _page(user, membership, error=message, status=403, agent=keep)
    except EntityNotFound:
        return _page(user, None, status=404)
    flash(
        _(
            "Agent %(username)s was added; they can now sign in with their own username and "
            "password.",
            username=form["username"].strip(),
        )
    )
    return redirect(url_for("idp.entity_account"), 303)


@bp.route(PAGE + "/members/<account_id>/disable", methods=["POST"])
def entity_disable_member(account_id: str) -> Any:
    return _member_change(account_id, remove=False)


@bp.route(PAGE + "/members/<account_id>/remove", methods=["POST"])
def entity_remove_member(account_id: str) -> Any:
    return _member_change(account_id, remove=True)


def _member_change(account_id: str, *, remove: bool) -> Any:
    user = _signed_in()
    if user is None:
        return sign_in_first(PAGE)
    check_csrf()
    membership, refusal = _admin(user)
    if membership is None:
        return refusal
    idp = current_idp()
    try:
        before = service.get(idp.sessions, idp.pii, membership.entity_id)
    except EntityNotFound:
        return _page(user, None, status=404)
    username = member_name(before, account_id)
    change = service.remove_member if remove else service.disable_member
    try:
        change(idp.sessions, idp.pii, before.id, account_id, admin_account_id=user.id)
    except LastAdmin:
        return _page(user, membership, error=last_admin_message(username), status=409)
    except NotEntityAdmin:
        message = _("Only the entity's administrators can add, disable or remove members.")
        return _page(user, membership, error=message, status=403)
    except EntityNotFound:
        message = _("That account is not a member of %(name)s.", name=before.name)
        return _page(user, membership, error=message, status=404)
    if remove:
        flash(_("%(username)s was removed from %(name)s.", username=username, name=before.name))
    else:
        flash(
            _(
                "%(username)s can no longer act for %(name)s.",
                username=username,
                name=before.name,
            )
        )
    return redirect(url_for("idp.entity_account"), 303)

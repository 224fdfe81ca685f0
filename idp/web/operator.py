"""The operators' pages: the review queue, an entity's page, verdicts and member changes.

Only signed-in accounts with the operator role (`huren user operator`) get here; anyone else
signs in first (and comes back through ``/login?next=…``) or sees a 403 page. Personal data is
shown masked only (`EntityView`). Every POST is CSRF-checked, ends in a redirect with a notice
when it worked, and re-renders the page with a message naming what was refused and why when it
did not. The service audits verdicts and member changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from flask import flash, get_flashed_messages, redirect, render_template, request, url_for

from ..accounts import User
from ..entities import service
from ..entities.errors import EntityNotFound, InvalidField, InvalidTransition, LastAdmin
from ..entities.service import STATUSES, TRANSITIONS, EntityView
from . import bp
from .context import check_csrf, csrf_token, current_idp, current_login
from .i18n import _
from .labels import entity_type_label, id_type_label, role_label, status_label

PAGE_SIZE = 20
MAX_PAGE_NUMBER = 10_000
CHINA = timezone(timedelta(hours=8), "CST")

REJECT_REASONS = (
    "registry_not_found",
    "registry_name_mismatch",
    "registry_status_revoked",
    "registry_status_cancelled",
    "registry_dishonest",
    "identity_mismatch",
    "agent_unauthorised",
    "documents_insufficient",
    "information_inconsistent",
    "duplicate_registration",
)
"""The reason codes offered as check boxes when rejecting (any other code can be typed)."""


# wording shared with the entity administrator's page ------------------------------------------


def entity_reason_label(code: str) -> str:
    """A review reason in words; unknown codes (typed by an operator) show as themselves."""
    return {
        "registry_unreachable": _("The registry could not be reached or did not answer in time"),
        "registry_contradiction": _("The registry's answers contradict each other"),
        "registry_not_configured": _("No registry is configured: check the organisation by hand"),
        "registry_dishonest": _("On a list of dishonest persons subject to enforcement"),
        "registry_not_found": _("The registry has no record of this credit code"),
        "registry_name_mismatch": _("The name differs from the registry's record"),
        "registry_status_revoked": _("The business licence was revoked"),
        "registry_status_cancelled": _("The organisation was deregistered"),
        "registry_status_suspended": _("The organisation's business is suspended"),
        "uscc_malformed": _("The credit code is malformed"),
        "name_missing": _("No name was declared"),
        "identity_mismatch": _("The ID document does not match the declared person"),
        "agent_unauthorised": _("The agent is not authorised to act for the organisation"),
        "documents_insufficient": _("Supporting documents are missing or insufficient"),
        "information_inconsistent": _("The declared information is incomplete or inconsistent"),
        "duplicate_registration": _("The entity is already registered under another account"),
    }.get(code, code)


def when(timestamp: float) -> str:
    """A time as operators read it: Beijing time, to the minute."""
    return datetime.fromtimestamp(timestamp, CHINA).strftime("%Y-%m-%d %H:%M")


def helpers() -> dict[str, Any]:
    """What the entity templates call to put codes into words."""
    return {
        "status_label": status_label,
        "entity_type_label": entity_type_label,
        "id_type_label": id_type_label,
        "role_label": role_label,
        "entity_reason_label": entity_reason_label,
        "when": when,
    }


def here() -> str:
    """This request's path and query, to come back to after signing in."""
    query = request.query_string.decode("utf-8", "replace")
    return request.path + ("?" + query if query else "")


def sign_in_first(back: str) -> Any:
    return redirect(url_for("idp.login", next=back))


def field_problem(exc: InvalidField) -> str:
    """A refused form field in words: which field and why."""
    fields = {
        "username": _("Username"),
        "name": _("Agent's name"),
        "phone": _("Mobile number"),
        "password": _("Initial password"),
        "reasons": _("Reasons"),
        "note": _("Note"),
        "state": _("Decision"),
    }
    problems = {
        "required": _("is required"),
        "length": _("has the wrong length"),
        "format": _("has an invalid format"),
        "taken": _("is already taken"),
        "control_character": _("contains control characters"),
        "type": _("has an invalid format"),
        "unknown": _("is unknown"),
    }
    special = {
        ("reasons", "required"): _("Choose at least one reason to reject."),
        ("reasons", "format"): _(
            "Reason codes are lower-case letters, digits and underscores, starting with a "
            "letter (at most 64 characters, at most 20 reasons)."
        ),
        ("note", "length"): _("The note is too long (at most 2000 characters)."),
        ("password", "length"): _("The initial password must have 8 to 1024 characters."),
        ("phone", "format"): _("The mobile number must be a mainland mobile number."),
        ("username", "format"): _(
            "The username may contain letters, digits, Chinese characters and . _ @ + - "
            "(at most 150)."
        ),
    }
    if (exc.field, exc.reason) in special:
        return special[(exc.field, exc.reason)]
    field = fields.get(exc.field, exc.field)
    problem = problems.get(exc.reason, exc.reason)
    return _("%(field)s %(problem)s.", field=field, problem=problem)


def last_admin_message(member: str) -> str:
    return _(
        "%(username)s is the entity's last enabled administrator and cannot be disabled or "
        "removed: an entity must keep one.",
        username=member,
    )


def member_name(view: EntityView, account_id: str) -> str:
    for member in view.members:
        if member.account_id == account_id:
            return member.username
    return account_id


# access -------------------------------------------------------------------------------------


def _operator(back: str) -> tuple[User | None, Any]:
    """The signed-in operator, or None and the response to send instead (sign in / 403)."""
    login = current_login()
    if login is None:
        return None, sign_in_first(back)
    user = login[1]
    if not user.operator:
        page = render_template(
            "operator_entities.html",
            forbidden=True,
            user=user,
            entities=(),
            status="pending",
            statuses=STATUSES,
            page=1,
            more=False,
            notices=(),
            **helpers(),
        )
        return None, (page, 403)
    return user, None


def _entity_url(entity_id: str) -> str:
    return url_for("idp.operator_entity", entity_id=entity_id)


# pages --------------------------------------------------------------------------------------


@bp.route("/operator/entities")
def operator_entities() -> Any:
    user, refusal = _operator(here())
    if user is None:
        return refusal
    status = request.args.get("status", "pending")
    if status not in STATUSES:
        status = "pending"
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    page = min(max(page, 1), MAX_PAGE_NUMBER)
    idp = current_idp()
    found = service.list(
        idp.sessions, idp.pii, status, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "operator_entities.html",
        forbidden=False,
        user=user,
        entities=found[:PAGE_SIZE],
        status=status,
        statuses=STATUSES,
        page=page,
        more=len(found) > PAGE_SIZE,
        notices=get_flashed_messages(),
        **helpers(),
    )


def _entity_page(
    user: User,
    entity_id: str,
    *,
    error: str | None = None,
    status: int = 200,
    chosen: tuple[str, ...] = (),
    other: str = "",
    note: str = "",
) -> Any:
    idp = current_idp()
    try:
        view = service.get(idp.sessions, idp.pii, entity_id)
    except EntityNotFound:
        return _missing(user)
    history = service.reviews(idp.sessions, view.id)
    targets = {target for current, target in TRANSITIONS if current == view.status}
    common = REJECT_REASONS + tuple(c for c in view.reasons if c not in REJECT_REASONS)
    page = render_template(
        "operator_entity.html",
        user=user,
        entity=view,
        history=history,
        can_approve="verified" in targets,
        can_reject="rejected" in targets,
        can_reopen="pending" in targets,
        reject_reasons=common,
        chosen=chosen,
        other=other,
        note=note,
        error=error,
        notices=get_flashed_messages() if error is None else (),
        csrf_token=csrf_token(),
        **helpers(),
    )
    return page, status


def _missing(user: User) -> Any:
    page = render_template(
        "operator_entity.html",
        user=user,
        entity=None,
        error=_("There is no such entity (it may have been deleted, or the link is wrong)."),
        notices=(),
        csrf_token=csrf_token(),
        **helpers(),
    )
    return page, 404


@bp.route("/operator/entities/<entity_id>")
def operator_entity(entity_id: str) -> Any:
    user, refusal = _operator(here())
    if user is None:
        return refusal
    return _entity_page(user, entity_id)


def _reason_codes() -> tuple[tuple[str, ...], str]:
    """The ticked reason codes plus any typed in "other" (comma or space separated)."""
    ticked = [code for code in request.form.getlist("reasons") if code]
    other = (request.form.get("reason_other") or "")[:1000]
    typed = [code for code in other.replace(",", " ").replace("，", " ").split() if code]
    return tuple(dict.fromkeys(ticked + typed)), other


@bp.route("/operator/entities/<entity_id>/verdict", methods=["POST"])
def operator_verdict(entity_id: str) -> Any:
    user, refusal = _operator(_entity_url(entity_id))
    if user is None:
        return refusal
    check_csrf()
    idp = current_idp()
    decision = request.form.get("decision", "")
    codes, other = _reason_codes()
    note_raw = request.form.get("note") or ""
    note = note_raw.strip() or None
    kept = note_raw[:5000]

    def refused(message: str, status: int) -> Any:  # the page again, with what was chosen
        return _entity_page(
            user, entity_id, error=message, status=status, chosen=codes, other=other, note=kept
        )

    try:
        current = service.get(idp.sessions, idp.pii, entity_id)
    except EntityNotFound:
        return _missing(user)
    if decision not in STATUSES:
        return refused(_("Choose approve, reject or reopen."), 400)
    if request.form.get("version") != str(current.version):
        return refused(_stale(current), 409)
    try:
        view = service.apply_verdict(
            idp.sessions,
            idp.pii,
            entity_id,
            decision,
            codes if decision == "rejected" else (),
            actor=user.username,
            note=note,
        )
    except EntityNotFound:
        return _missing(user)
    except InvalidField as exc:
        return refused(field_problem(exc), 400)
    except InvalidTransition:
        try:
            now = service.get(idp.sessions, idp.pii, entity_id)
        except EntityNotFound:
            return _missing(user)
        stale = now.version != current.version
        return refused(_stale(now) if stale else _not_allowed(now, decision), 409)
    flash(
        {
            "verified": _("%(name)s is now verified.", name=view.name),
            "rejected": _("%(name)s was rejected.", name=view.name),
            "pending": _("%(name)s is pending review again.", name=view.name),
        }[decision]
    )
    return redirect(_entity_url(view.id), 303)


def _stale(now: EntityView) -> str:
    return _(
        "%(name)s changed after you opened the page (it is now “%(status)s”); check its "
        "current state below and decide again.",
        name=now.name,
        status=status_label(now.status),
    )


def _not_allowed(now: EntityView, decision: str) -> str:
    possible = sorted(target for current, target in TRANSITIONS if current == now.status)
    return _(
        "%(name)s is “%(current)s” and cannot become “%(target)s”; from “%(current)s” it can "
        "only become: %(possible)s.",
        name=now.name,
        current=status_label(now.status),
        target=status_label(decision),
        possible=" / ".join(status_label(p) for p in possible) or "—",
    )


@bp.route("/operator/entities/<entity_id>/members/<account_id>/disable", methods=["POST"])
def operator_disable_member(entity_id: str, account_id: str) -> Any:
    return _member_change(entity_id, account_id, remove=False)


@bp.route("/operator/entities/<entity_id>/members/<account_id>/remove", methods=["POST"])
def operator_remove_member(entity_id: str, account_id: str) -> Any:
    return _member_change(entity_id, account_id, remove=True)


def _member_change(entity_id: str, account_id: str, *, remove: bool) -> Any:
    user, refusal = _operator(_entity_url(entity_id))
    if user is None:
        return refusal
    check_csrf()
    idp = current_idp()
    try:
        before = service.get(idp.sessions, idp.pii, entity_id)
    except EntityNotFound:
        return _missing(user)
    username = member_name(before, account_id)
    change = service.remove_member if remove else service.disable_member
    try:
        change(idp.sessions, idp.pii, entity_id, account_id, admin_account_id=None)
    except LastAdmin:
        return _entity_page(user, entity_id, error=last_admin_message(username), status=409)
    except EntityNotFound:
        message = _("That account is not a member of %(name)s.", name=before.name)
        return _entity_page(user, entity_id, error=message, status=404)
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
    return redirect(_entity_url(entity_id), 303)


__all__ = [
    "REJECT_REASONS",
    "entity_reason_label",
    "entity_type_label",
    "field_problem",
    "helpers",
    "id_type_label",
    "last_admin_message",
    "member_name",
    "role_label",
    "sign_in_first",
    "status_label",
    "when",
]

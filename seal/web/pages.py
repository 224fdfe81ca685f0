"""The operators' pages for electronic seals: the list, making a seal, a seal and its life cycle.

Chinese by default, English with ``?lang=en``; plain HTML forms, no JavaScript. Only operators
get here: the host application says who is signed in and whether they are an operator
(`PageAccess`), because `seal` and the identity provider sit on the same floor and do not import
each other (config/seal_pages.py implements it). Every POST is CSRF-checked, ends in a redirect
with a notice when it worked, and re-renders the page — every value kept, the refused field
named and marked — when it did not. URLs carry ids only; pages are never cached.

Routes (blueprint ``seal_pages``):

- ``GET /operator/seals`` — seals, newest first; ``?status=`` made/active/suspended/revoked,
  ``?entity=ID``, ``?page=N``.
- ``GET|POST /operator/seals/new[?entity=ID]`` — make a seal (multipart form).
- ``GET /operator/seals/<id>`` — the seal: picture, certificates, history, actions.
- ``GET /operator/seals/<id>/picture`` — its picture (SVG sandboxed).
- ``POST /operator/seals/<id>/activate|suspend|revoke`` — a life-cycle change (with the
  seal's version: a change by someone else meanwhile is reported, not overwritten).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, get_flashed_messages, redirect, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..records import service
from ..records.checks import MAX_CERTIFICATES, SEAL_TYPES
from ..records.errors import SealNotFound, SealRefused, StaleSeal
from ..records.pictures import MAX_PICTURE_BYTES
from ..records.service import TRANSITIONS, SealView
from .account import add_account_routes
from .page_kit import (
    EXTENSION,
    MAX_BODY_BYTES,
    FormRefused,
    MakerUnavailable,
    PageAccess,
    Refusal,
    SealPages,
    _,
    action_label,
    admitted,
    current_pages,
    field_label,
    here,
    message,
    picture_response,
    refusal_text,
    render,
    seal_request,
    status_label,
    type_label,
)

MAX_PAGE_NUMBER = 10_000
FILTERS = ("all", "requested", "made", "active", "suspended", "revoked", "rejected", "withdrawn")
ACTIONS = ("activate", "suspend", "revoke", "reject")
"""What operators do to a seal; `withdraw` is the requester's own."""
FORM_FIELDS = ("entity", "type", "name", "width", "height", "valid_days")
"""The text fields of the making form (kept on a refusal; files must be chosen again)."""


def _operator(back: str) -> tuple[str | None, Any]:
    """The signed-in operator's username, or None and the response to send instead."""
    return admitted(
        current_pages().access.operator(),
        back,
        _("Operators only"),
        _("These pages are for platform operators; your account does not have the operator role."),
        "/",
    )


def _message(status: int, title: str, text: str, *, back: str | None = None) -> tuple[str, int]:
    return message(status, title, text, back or url_for("seal_pages.seals"))


def _missing(seal_id: str) -> tuple[str, int]:
    return _message(
        404,
        _("No such seal"),
        _("There is no seal %(seal_id)s (the link may be wrong).", seal_id=seal_id[:32]),
    )


def _seal_url(seal_id: str) -> str:
    return url_for("seal_pages.seal", seal_id=seal_id)


# the list ------------------------------------------------------------------------------------


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, str(default)))
    except ValueError:
        return default


def seals() -> Any:
    user, refusal = _operator(here())
    if user is None:
        return refusal
    pages = current_pages()
    status = request.args.get("status", "all")
    if status not in FILTERS:
        status = "all"
    entity_id = (request.args.get("entity") or "").strip()[:36] or None
    page = min(max(_int_arg("page", 1), 1), MAX_PAGE_NUMBER)
    found, total = service.list(
        pages.sessions,
        entity_id=entity_id,
        status=None if status == "all" else status,
        limit=pages.page_size,
        offset=(page - 1) * pages.page_size,
    )
    entity_names: dict[str, str] = {}
    for view in found:
        if view.entity_id not in entity_names:
            facts = pages.directory.entity(view.entity_id)
            entity_names[view.entity_id] = facts.name if facts else ""
    entity = pages.directory.entity(entity_id) if entity_id else None

    def link(**change: Any) -> str:
        args: dict[str, Any] = {"status": status, "entity": entity_id, "page": page}
        args.update(change)
        clean = {k: v for k, v in args.items() if v and not (k == "page" and v == 1)}
        if clean.get("status") == "all":
            del clean["status"]
        return url_for("seal_pages.seals", **clean)

    return render(
        "seal_operator_seals.html",
        200,
        user=user,
        seals=found,
        total=total,
        status=status,
        filters=FILTERS,
        entity_id=entity_id,
        entity=entity,
        entity_names=entity_names,
        page=page,
        more=(page - 1) * pages.page_size + len(found) < total,
        link=link,
        waiting=service.list(pages.sessions, status="requested", limit=1)[1],
        notices=get_flashed_messages(),
    )


def _form_page(
    user: str,
    values: dict[str, str],
    *,
    refusal: Refusal | None = None,
    files_chosen: bool = False,
) -> tuple[str, int]:
    pages = current_pages()
    entity_id = values.get("entity", "").strip()
    entity = pages.directory.entity(entity_id[:36]) if entity_id else None
    try:
        pages.maker()
        maker_missing: str | None = None
    except MakerUnavailable as exc:
        maker_missing = refusal_text(exc)
    summary: list[tuple[str | None, str, str]] = []
    errors: dict[str, str] = {}
    if refusal is not None:
        field = refusal.field if refusal.field in (*FORM_FIELDS, "picture", "cert") else None
        summary.append((field, field_label(field) if field else "", refusal.message))
        if field:
            errors[field] = refusal.message
    return render(
        "seal_operator_new.html",
        refusal.status if refusal else 200,
        user=user,
        values=values,
        entity=entity,
        seal_types=SEAL_TYPES,
        summary=summary,
        errors=errors,
        files_chosen=files_chosen,
        maker_missing=maker_missing,
        max_certificates=MAX_CERTIFICATES,
        max_picture_kb=MAX_PICTURE_BYTES // 1024,
        max_body_mb=pages.max_body_bytes // (1 << 20),
        csrf_token=pages.access.csrf_token(),
    )


def new_seal() -> Any:
    user, refusal = _operator(here() if request.method == "GET" else url_for("seal_pages.new"))
    if user is None:
        return refusal
    pages = current_pages()
    if request.method == "GET":
        values = {"entity": (request.args.get("entity") or "").strip()[:36]}
        return _form_page(user, values)
    pages.access.check_csrf()
    values = {f: (request.form.get(f) or "")[:500] for f in FORM_FIELDS}
    if request.form.get("activate"):
        values["activate"] = "1"
    picture_upload = request.files.get("picture")
    cert_uploads = [u for u in request.files.getlist("cert") if u.filename]
    chosen = bool((picture_upload and picture_upload.filename) or cert_uploads)

    def refused(field: str | None, message: str, status: int = 400) -> tuple[str, int]:
        return _form_page(
            user, values, refusal=Refusal(field, message, status), files_chosen=chosen
        )

    try:
        maker = pages.maker()
    except MakerUnavailable as exc:
        return refused(None, refusal_text(exc), 503)
    try:
        req = seal_request(values["entity"].strip()[:36], values, picture_upload, cert_uploads)
    except FormRefused as exc:
        return refused(exc.field, exc.message)
    try:
        view = service.make(
            pages.sessions,
            pages.directory,
            pages.checker,
            maker,
            pages.sign_seal,
            req,
            actor=user,
            activate=bool(values.get("activate")),
        )
    except MakerUnavailable as exc:
        return refused(None, refusal_text(exc), 503)
    except SealRefused as exc:
        return refused(exc.field, refusal_text(exc))
    if view.status == "active":
        flash(
            _(
                "The seal %(name)s (%(seal_id)s) was made and is in use.",
                name=view.name,
                seal_id=view.id,
            )
        )
    else:
        flash(
            _(
                "The seal %(name)s (%(seal_id)s) was made; activate it to put it in use.",
                name=view.name,
                seal_id=view.id,
            )
        )
    return redirect(_seal_url(view.id), 303)


# a seal --------------------------------------------------------------------------------------


def _seal_page(
    user: str,
    view: SealView,
    *,
    error: str | None = None,
    error_action: str | None = None,
    error_field: str | None = None,
    reasons: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    pages = current_pages()
    facts = pages.directory.entity(view.entity_id)
    actions = [a for a in ACTIONS if view.status in TRANSITIONS[a][0]]
    if view.status == "requested":
        actions.insert(0, "make")
    return render(
        "seal_operator_seal.html",
        status,
        user=user,
        seal=view,
        entity=facts,
        actions=actions,
        usable=view.usable(),
        error=error,
        error_action=error_action,
        error_field=error_field,
        reasons=reasons or {},
        notices=get_flashed_messages() if error is None else (),
        csrf_token=pages.access.csrf_token(),
    )


def seal(seal_id: str) -> Any:
    user, refusal = _operator(here())
    if user is None:
        return refusal
    try:
        view = service.get(current_pages().sessions, seal_id)
    except SealNotFound:
        return _missing(seal_id)
    return _seal_page(user, view)


def picture(seal_id: str) -> Any:
    user, refusal = _operator(here())
    if user is None:
        return refusal
    try:
        data, kind = service.picture(current_pages().sessions, seal_id)
    except SealNotFound:
        return _missing(seal_id)
    return picture_response(data, kind)


def change(seal_id: str, action: str) -> Any:
    user, refusal = _operator(_seal_url(seal_id))
    if user is None:
        return refusal
    pages = current_pages()
    pages.access.check_csrf()
    reason = (request.form.get("reason") or "")[:2000]
    try:
        before = service.get(pages.sessions, seal_id)
    except SealNotFound:
        return _missing(seal_id)

    def refused(message: str, status: int, field: str | None = None) -> tuple[str, int]:
        try:
            now = service.get(pages.sessions, seal_id)
        except SealNotFound:
            return _missing(seal_id)
        return _seal_page(
            user,
            now,
            error=message,
            error_action=action,
            error_field=field,
            reasons={action: reason},
            status=status,
        )

    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        return refused(_("The form is incomplete; reload the page and try again."), 400)
    if action == "revoke" and reason.strip() and not request.form.get("confirm"):
        return refused(
            _("Tick the box to confirm the revocation: a revoked seal cannot be used again."),
            400,
            "confirm",
        )
    try:
        view = service.change(
            pages.sessions,
            seal_id,
            action,
            actor=user,
            reason=reason,
            expected_version=version,
        )
    except SealNotFound:
        return _missing(seal_id)
    except StaleSeal:
        return refused(_stale(seal_id, before), 409)
    except SealRefused as exc:
        if exc.code == "invalid_transition":
            return refused(_not_allowed(before, action), 400, "action")
        if exc.code == "reason_required":
            message = {
                "suspend": _("Give the reason for suspending the seal."),
                "revoke": _("Give the reason for revoking the seal."),
                "reject": _("Give the reason for rejecting the request."),
            }[action]
            return refused(message, 400, "reason")
        return refused(refusal_text(exc), 400, exc.field)
    flash(
        {
            "activate": _("The seal %(name)s is in use.", name=view.name),
            "suspend": _("The seal %(name)s is suspended.", name=view.name),
            "revoke": _("The seal %(name)s is revoked.", name=view.name),
            "reject": _("The request for the seal %(name)s was rejected.", name=view.name),
        }[action]
    )
    return redirect(_seal_url(view.id), 303)


def make_requested(seal_id: str) -> Any:
    """Make a seal an entity requested: checked again, signed by the maker, made or active."""
    user, refusal = _operator(_seal_url(seal_id))
    if user is None:
        return refusal
    pages = current_pages()
    pages.access.check_csrf()
    try:
        before = service.get(pages.sessions, seal_id)
    except SealNotFound:
        return _missing(seal_id)

    def refused(message: str, status: int) -> tuple[str, int]:
        try:
            now = service.get(pages.sessions, seal_id)
        except SealNotFound:
            return _missing(seal_id)
        return _seal_page(user, now, error=message, error_action="make", status=status)

    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        return refused(_("The form is incomplete; reload the page and try again."), 400)
    try:
        view = service.make_requested(
            pages.sessions,
            pages.directory,
            pages.checker,
            pages.maker(),
            pages.sign_seal,
            seal_id,
            actor=user,
            activate=bool(request.form.get("activate")),
            expected_version=version,
        )
    except SealNotFound:
        return _missing(seal_id)
    except MakerUnavailable as exc:
        return refused(refusal_text(exc), 503)
    except StaleSeal:
        return refused(_stale(seal_id, before), 409)
    except SealRefused as exc:
        if exc.code == "invalid_transition":
            return refused(_not_allowed(before, "make"), 400)
        return refused(refusal_text(exc), 400)
    flash(
        _("The seal %(name)s (%(seal_id)s) was made.", name=view.name, seal_id=view.id)
        if view.status == "made"
        else _(
            "The seal %(name)s (%(seal_id)s) was made and is in use.",
            name=view.name,
            seal_id=view.id,
        )
    )
    return redirect(_seal_url(view.id), 303)


def _stale(seal_id: str, before: SealView) -> str:
    try:
        now = service.get(current_pages().sessions, seal_id, with_history=False)
    except SealNotFound:
        now = before
    return _(
        "Someone changed this seal after you opened the page (it is now “%(status)s”); check "
        "its current state below and try again.",
        status=status_label(now.status),
    )


def _not_allowed(view: SealView, action: str) -> str:
    possible = [action_label(a) for a in ACTIONS if view.status in TRANSITIONS[a][0]]
    if view.status == "requested":
        possible.insert(0, action_label("make"))
    return _(
        "The seal is “%(status)s”: it cannot be changed with “%(action)s”. Possible now: "
        "%(possible)s.",
        status=status_label(view.status),
        action=action_label(action),
        possible=" / ".join(possible) or "—",
    )


def _too_large(exc: RequestEntityTooLarge) -> Any:
    pages = current_pages()
    return _message(
        413,
        _("The upload is too large"),
        _(
            "The form with its files may be at most %(mb)s MB (the seal picture at most "
            "%(kb)s KB). Nothing was saved.",
            mb=pages.max_body_bytes // (1 << 20),
            kb=MAX_PICTURE_BYTES // 1024,
        ),
        back=url_for(
            "seal_pages.account_seals" if request.path.startswith("/account/") else "seal_pages.new"
        ),
    )


def seal_pages_blueprint(pages: SealPages) -> Blueprint:
    bp = Blueprint(
        "seal_pages",
        __name__,
        template_folder="../templates",
        static_folder="../static",
        static_url_path="/seal-assets",
    )

    @bp.record_once
    def _install(state: Any) -> None:
        state.app.extensions[EXTENSION] = pages

    @bp.before_request
    def body_limit() -> None:
        request.max_content_length = pages.max_body_bytes

    @bp.after_request
    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    bp.register_error_handler(RequestEntityTooLarge, _too_large)
    bp.add_url_rule("/operator/seals", "seals", seals)
    bp.add_url_rule("/operator/seals/new", "new", new_seal, methods=["GET", "POST"])
    bp.add_url_rule("/operator/seals/<seal_id>", "seal", seal)
    bp.add_url_rule("/operator/seals/<seal_id>/picture", "picture", picture)
    bp.add_url_rule(
        f"/operator/seals/<seal_id>/<any({', '.join(ACTIONS)}):action>",
        "change",
        change,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/operator/seals/<seal_id>/make", "make_requested", make_requested, methods=["POST"]
    )
    add_account_routes(bp)
    return bp


__all__ = [
    "MAX_BODY_BYTES",
    "MakerUnavailable",
    "PageAccess",
    "SealPages",
    "seal_pages_blueprint",
    "status_label",
    "type_label",
]

"""An entity's own seal pages: its members see its seals, its administrators request new ones.

A request is checked exactly as an operator's making form is (entity verified, certificates
valid and the entity's own, picture readable) and then waits, unsigned, for an operator to make
or reject it; the administrator may withdraw it meanwhile. The entity is always the signed-in
account's own (its membership, read by the host), never taken from the request; another
entity's seal is "not found", so seal codes cannot be probed.

Routes (blueprint ``seal_pages``):

- ``GET|POST /account/seals`` — the entity's seals; administrators' request form.
- ``GET /account/seals/<id>`` — a seal of the entity: status, certificates, history.
- ``GET /account/seals/<id>/picture`` — its picture.
- ``POST /account/seals/<id>/withdraw`` — withdraw a request (administrators).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, get_flashed_messages, redirect, request, url_for

from ..records import service
from ..records.checks import MAX_CERTIFICATES, SEAL_TYPES
from ..records.errors import SealNotFound, SealRefused, StaleSeal
from ..records.pictures import MAX_PICTURE_BYTES
from ..records.service import SealView
from .page_kit import (
    FormRefused,
    Refusal,
    SealMember,
    _,
    admitted,
    current_pages,
    field_label,
    message,
    picture_response,
    refusal_text,
    render,
    seal_request,
    status_label,
)

PAGE = "/account/seals"
REQUEST_FIELDS = ("type", "name", "width", "height", "valid_days")
MAX_LISTED = 200
"""An entity holds a handful of seals; the page lists the newest this many."""


def _member(back: str) -> tuple[SealMember | None, Any]:
    """The signed-in member, or None and the response to send instead."""
    return admitted(
        current_pages().access.member(),
        back,
        _("No market entity"),
        _(
            "Your account does not act for a market entity. Register your entity, or ask its "
            "administrator to add you, on the entity page."
        ),
        "/account/entity",
    )


def _message(status: int, title: str, text: str, *, back: str | None = None) -> tuple[str, int]:
    return message(status, title, text, back or url_for("seal_pages.account_seals"))


def _missing(seal_id: str) -> tuple[str, int]:
    return _message(
        404,
        _("No such seal"),
        _(
            "Your entity has no seal %(seal_id)s (the link may be wrong).",
            seal_id=seal_id[:32],
        ),
    )


def _own_seal(member: SealMember, seal_id: str) -> SealView | None:
    """The seal if it is the member's entity's; None for another entity's or none at all."""
    try:
        view = service.get(current_pages().sessions, seal_id)
    except SealNotFound:
        return None
    return view if view.entity_id == member.entity_id else None


def _list_page(
    member: SealMember,
    values: dict[str, str] | None = None,
    *,
    refusal: Refusal | None = None,
    files_chosen: bool = False,
) -> tuple[str, int]:
    pages = current_pages()
    found, total = service.list(pages.sessions, entity_id=member.entity_id, limit=MAX_LISTED)
    summary: list[tuple[str | None, str, str]] = []
    errors: dict[str, str] = {}
    if refusal is not None:
        field = refusal.field if refusal.field in (*REQUEST_FIELDS, "picture", "cert") else None
        summary.append((field, field_label(field) if field else "", refusal.message))
        if field:
            errors[field] = refusal.message
    return render(
        "seal_account_seals.html",
        refusal.status if refusal else 200,
        member=member,
        entity=pages.directory.entity(member.entity_id),
        seals=found,
        total=total,
        values=values or {},
        seal_types=SEAL_TYPES,
        summary=summary,
        errors=errors,
        files_chosen=files_chosen,
        notices=get_flashed_messages() if refusal is None else (),
        max_certificates=MAX_CERTIFICATES,
        max_picture_kb=MAX_PICTURE_BYTES // 1024,
        max_body_mb=pages.max_body_bytes // (1 << 20),
        csrf_token=pages.access.csrf_token(),
    )


def account_seals() -> Any:
    member, refusal = _member(PAGE)
    if member is None:
        return refusal
    if request.method == "GET":
        return _list_page(member)
    pages = current_pages()
    pages.access.check_csrf()
    values = {f: (request.form.get(f) or "")[:500] for f in REQUEST_FIELDS}
    picture_upload = request.files.get("picture")
    cert_uploads = [u for u in request.files.getlist("cert") if u.filename]
    chosen = bool((picture_upload and picture_upload.filename) or cert_uploads)

    def refused(field: str | None, message: str, status: int = 400) -> tuple[str, int]:
        return _list_page(
            member, values, refusal=Refusal(field, message, status), files_chosen=chosen
        )

    if not member.admin:
        return refused(None, _("Only the entity's administrators can request seals."), 403)
    try:
        req = seal_request(member.entity_id, values, picture_upload, cert_uploads)
    except FormRefused as exc:
        return refused(exc.field, exc.message)
    try:
        view = service.request(
            pages.sessions,
            pages.directory,
            pages.checker,
            req,
            actor=member.username,
        )
    except SealRefused as exc:
        return refused(exc.field, refusal_text(exc))
    flash(
        _(
            "Your request for the seal %(name)s (%(seal_id)s) was sent; an operator will make "
            "it or tell you why not.",
            name=view.name,
            seal_id=view.id,
        )
    )
    return redirect(url_for("seal_pages.account_seal", seal_id=view.id), 303)


def _seal_page(
    member: SealMember, view: SealView, *, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    return render(
        "seal_account_seal.html",
        status,
        member=member,
        seal=view,
        usable=view.usable(),
        can_withdraw=member.admin and view.status == "requested",
        error=error,
        notices=get_flashed_messages() if error is None else (),
        csrf_token=current_pages().access.csrf_token(),
    )


def account_seal(seal_id: str) -> Any:
    member, refusal = _member(request.path)
    if member is None:
        return refusal
    view = _own_seal(member, seal_id)
    if view is None:
        return _missing(seal_id)
    return _seal_page(member, view)


def account_picture(seal_id: str) -> Any:
    member, refusal = _member(request.path)
    if member is None:
        return refusal
    view = _own_seal(member, seal_id)
    if view is None:
        return _missing(seal_id)
    data, kind = service.picture(current_pages().sessions, view.id)
    return picture_response(data, kind)


def account_withdraw(seal_id: str) -> Any:
    back = url_for("seal_pages.account_seal", seal_id=seal_id[:32])
    member, refusal = _member(back)
    if member is None:
        return refusal
    pages = current_pages()
    pages.access.check_csrf()
    view = _own_seal(member, seal_id)
    if view is None:
        return _missing(seal_id)
    if not member.admin:
        return _seal_page(
            member,
            view,
            error=_("Only the entity's administrators can withdraw a request."),
            status=403,
        )
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        return _seal_page(
            member,
            view,
            error=_("The form is incomplete; reload the page and try again."),
            status=400,
        )
    try:
        done = service.change(
            pages.sessions,
            view.id,
            "withdraw",
            actor=member.username,
            expected_version=version,
        )
    except (StaleSeal, SealRefused, SealNotFound):
        current = _own_seal(member, seal_id)
        if current is None:
            return _missing(seal_id)
        return _seal_page(
            member,
            current,
            error=_(
                "The request can no longer be withdrawn: the seal is now “%(status)s”.",
                status=status_label(current.status),
            ),
            status=409,
        )
    flash(_("Your request for the seal %(name)s was withdrawn.", name=done.name))
    return redirect(url_for("seal_pages.account_seal", seal_id=done.id), 303)


def add_account_routes(bp: Blueprint) -> None:
    bp.add_url_rule(PAGE, "account_seals", account_seals, methods=["GET", "POST"])
    bp.add_url_rule(PAGE + "/<seal_id>", "account_seal", account_seal)
    bp.add_url_rule(PAGE + "/<seal_id>/picture", "account_picture", account_picture)
    bp.add_url_rule(
        PAGE + "/<seal_id>/withdraw", "account_withdraw", account_withdraw, methods=["POST"]
    )

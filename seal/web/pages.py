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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from asn1crypto import pem as _pem
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from cert_interop.errors import CertInteropError
from cert_interop.x509 import Certificate, parse_certificate

from ..errors import SealError
from ..records import service
from ..records.directory import EntityDirectory
from ..records.errors import SealNotFound, SealRefused, StaleSeal
from ..records.pictures import MAX_PICTURE_BYTES
from ..records.service import (
    MAX_CERTIFICATES,
    SEAL_TYPES,
    TRANSITIONS,
    CertificateChecker,
    SealMaker,
    SealSigner,
    SealView,
)

_EXTENSION = "huren.seal_pages"

PAGE_SIZE = 20
MAX_PAGE_NUMBER = 10_000
MAX_BODY_BYTES = 2 << 20
"""A form with its picture (≤ 512 KiB) and certificates; anything larger is refused (413)."""
MAX_CERT_FILE_BYTES = 256 << 10
FILTERS = ("all", "made", "active", "suspended", "revoked")
ACTIONS = tuple(TRANSITIONS)
CHINA = timezone(timedelta(hours=8), "CST")
PICTURE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml"}
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
"""An SVG is a document: it never runs script in our origin, even when opened directly."""
MM_TO_PX = 96 / 25.4
FORM_FIELDS = ("entity", "type", "name", "width", "height", "valid_days")
"""The text fields of the making form (kept on a refusal; files must be chosen again)."""


class PageAccess(Protocol):
    """What the pages need from the host application (its sign-in and its operators)."""

    def operator(self) -> str | None:
        """The username of the signed-in operator; None when nobody or a non-operator is."""
        ...

    def signed_in(self) -> bool: ...

    def sign_in(self, back: str) -> Any:
        """The response sending the browser to sign in, and back to `back` afterwards."""
        ...

    def csrf_token(self) -> str: ...

    def check_csrf(self) -> None:
        """Abort with 400 when the form's CSRF token is not the session's."""
        ...

    def entity_url(self, entity_id: str) -> str:
        """The operators' page of a market entity."""
        ...


class MakerUnavailable(SealError):
    """No seal-making key is configured (HUREN_SEAL_MAKER), or its token cannot be reached."""

    code = "seal_maker_unavailable"
    message_zh = (
        "未配置制章密钥，暂不能制作电子印章：请运维人员将 HUREN_SEAL_MAKER 设为 "
        "HUREN_PLATFORM_KEYS 中的一个密钥名称（见运维手册第 20 节）"
    )


@dataclass(frozen=True)
class SealPages:
    access: PageAccess
    sessions: sessionmaker[Session]
    directory: EntityDirectory
    checker: CertificateChecker
    maker: Callable[[], SealMaker]
    """The seal-making authority's key; raises `MakerUnavailable` when none is configured."""
    sign_seal: SealSigner
    max_body_bytes: int = MAX_BODY_BYTES
    page_size: int = PAGE_SIZE


def _pages() -> SealPages:
    pages: SealPages = current_app.extensions[_EXTENSION]
    return pages


# words ---------------------------------------------------------------------------------------


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def _(text: str, **variables: object) -> str:
    return str(gettext(text, **variables))


def status_label(status: str) -> str:
    return {
        "requested": _("Requested"),
        "made": _("Made, not yet in use"),
        "active": _("In use"),
        "suspended": _("Suspended"),
        "revoked": _("Revoked"),
    }.get(status, status)


def filter_label(name: str) -> str:
    return _("All seals") if name == "all" else status_label(name)


def type_label(seal_type: str) -> str:
    names = SEAL_TYPES.get(seal_type)
    if names is None:
        return seal_type
    return names[1][:1].upper() + names[1][1:] if _english() else names[0]


def entity_status_label(status: str) -> str:
    return {
        "verified": _("verified entity"),
        "pending": _("entity waiting for review"),
        "rejected": _("entity not verified"),
    }.get(status, status)


def action_label(action: str) -> str:
    return {
        "activate": _("Activate the seal"),
        "suspend": _("Suspend the seal"),
        "revoke": _("Revoke the seal"),
    }.get(action, action)


def field_label(field: str) -> str:
    return {
        "entity": _("Market entity ID"),
        "type": _("Seal type"),
        "name": _("Seal name"),
        "picture": _("Seal picture"),
        "cert": _("Certificates"),
        "width": _("Width (mm)"),
        "height": _("Height (mm)"),
        "valid_days": _("Validity (days)"),
        "reason": _("Reason"),
        "confirm": _("Confirmation"),
        "action": _("Action"),
        "version": _("Version"),
    }.get(field, field)


def refusal_text(exc: SealError) -> str:
    """A refusal from the seal library in the reader's language."""
    return str(exc) if _english() else exc.message_zh


def when(timestamp: float) -> str:
    """A time as operators read it: Beijing time, to the minute."""
    return datetime.fromtimestamp(timestamp, CHINA).strftime("%Y-%m-%d %H:%M")


def fingerprint(value: str) -> str:
    """A SHA-256 fingerprint in groups of four, so it wraps and can be compared by eye."""
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def picture_px(mm: int) -> int:
    return max(1, round(mm * MM_TO_PX))


def _helpers() -> dict[str, Any]:
    return {
        "status_label": status_label,
        "filter_label": filter_label,
        "type_label": type_label,
        "entity_status_label": entity_status_label,
        "action_label": action_label,
        "field_label": field_label,
        "when": when,
        "fingerprint": fingerprint,
        "picture_px": picture_px,
        "entity_url": _pages().access.entity_url,
    }


def _render(template: str, http_status: int = 200, /, **values: Any) -> tuple[str, int]:
    return render_template(template, **_helpers(), **values), http_status


# access --------------------------------------------------------------------------------------


def here() -> str:
    """This request's path and query, to come back to after signing in."""
    query = request.query_string.decode("utf-8", "replace")
    return request.path + ("?" + query if query else "")


def _operator(back: str) -> tuple[str | None, Any]:
    """The signed-in operator's username, or None and the response to send instead."""
    access = _pages().access
    username = access.operator()
    if username:
        return username, None
    if not access.signed_in():
        return None, access.sign_in(back)
    return None, _message(
        403,
        _("Operators only"),
        _("These pages are for platform operators; your account does not have the operator role."),
        back="/",
    )


def _message(status: int, title: str, text: str, *, back: str | None = None) -> tuple[str, int]:
    return _render(
        "seal_operator_message.html",
        status,
        title=title,
        text=text,
        back=back or url_for("seal_pages.seals"),
    )


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
    pages = _pages()
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

    return _render(
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
        notices=get_flashed_messages(),
    )


# making a seal -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Refusal:
    field: str | None
    message: str
    status: int = 400


def _form_page(
    user: str,
    values: dict[str, str],
    *,
    refusal: _Refusal | None = None,
    files_chosen: bool = False,
) -> tuple[str, int]:
    pages = _pages()
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
    return _render(
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


class _FormRefused(Exception):
    """A form value the pages refuse before the service sees the request."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _number(values: dict[str, str], field: str) -> int | None:
    text = values.get(field, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        what = {"width": _("The width"), "height": _("The height")}.get(field)
        message = (
            _("%(what)s must be a whole number of millimetres.", what=what)
            if what
            else _("The validity must be a whole number of days.")
        )
        raise _FormRefused(field, message) from None


def _read(upload: FileStorage, limit: int) -> bytes:
    """At most one byte more than `limit`, so "too large" can be told."""
    return bytes(upload.read(limit + 1))


def _certificates(uploads: Sequence[FileStorage]) -> tuple[list[Certificate], list[Certificate]]:
    """(the first certificate of each file, the further ones as its chain); PEM or DER."""
    leaves: list[Certificate] = []
    chain: list[Certificate] = []
    for upload in uploads:
        name = (upload.filename or "")[:100]
        data = _read(upload, MAX_CERT_FILE_BYTES)
        try:
            if len(data) > MAX_CERT_FILE_BYTES:
                raise ValueError("too large")
            if b"-----BEGIN" in data:
                blocks = [
                    bytes(der)
                    for kind, _headers, der in _pem.unarmor(data, multiple=True)
                    if kind == "CERTIFICATE"
                ]
            else:
                blocks = [data]
            if not blocks:
                raise ValueError("no CERTIFICATE block")
            certs = [parse_certificate(block) for block in blocks]
        except (CertInteropError, ValueError, TypeError):
            raise _FormRefused(
                "cert",
                _(
                    "%(file)s is not a certificate file (PEM or DER, at most 256 KB).",
                    file=name or "?",
                ),
            ) from None
        leaves.append(certs[0])
        chain.extend(certs[1:])
    return leaves, chain


def new_seal() -> Any:
    user, refusal = _operator(here() if request.method == "GET" else url_for("seal_pages.new"))
    if user is None:
        return refusal
    pages = _pages()
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
            user, values, refusal=_Refusal(field, message, status), files_chosen=chosen
        )

    try:
        maker = pages.maker()
    except MakerUnavailable as exc:
        return refused(None, refusal_text(exc), 503)
    try:
        width = _number(values, "width")
        height = _number(values, "height")
        valid_days = _number(values, "valid_days")
        picture = (
            _read(picture_upload, MAX_PICTURE_BYTES)
            if picture_upload and picture_upload.filename
            else b""
        )
        if len(cert_uploads) > MAX_CERTIFICATES:
            raise _FormRefused(
                "cert", _("At most %(n)s certificates per seal.", n=MAX_CERTIFICATES)
            )
        leaves, chain = _certificates(cert_uploads)
    except _FormRefused as exc:
        return refused(exc.field, exc.message)
    try:
        view = service.make(
            pages.sessions,
            pages.directory,
            pages.checker,
            maker,
            pages.sign_seal,
            service.SealRequest(
                entity_id=values["entity"].strip()[:36],
                seal_type=values["type"],
                name=values["name"],
                picture=picture,
                certificates=leaves,
                intermediates=chain,
                width_mm=width,
                height_mm=height,
                valid_days=valid_days,
            ),
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
    pages = _pages()
    facts = pages.directory.entity(view.entity_id)
    actions = [a for a in ACTIONS if view.status in TRANSITIONS[a][0]]
    return _render(
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
        view = service.get(_pages().sessions, seal_id)
    except SealNotFound:
        return _missing(seal_id)
    return _seal_page(user, view)


def picture(seal_id: str) -> Any:
    user, refusal = _operator(here())
    if user is None:
        return refusal
    try:
        data, kind = service.picture(_pages().sessions, seal_id)
    except SealNotFound:
        return _missing(seal_id)
    response = Response(data, mimetype=PICTURE_TYPES.get(kind, "application/octet-stream"))
    if kind == "svg":
        response.headers["Content-Security-Policy"] = SVG_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def change(seal_id: str, action: str) -> Any:
    user, refusal = _operator(_seal_url(seal_id))
    if user is None:
        return refusal
    pages = _pages()
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
            message = (
                _("Give the reason for suspending the seal.")
                if action == "suspend"
                else _("Give the reason for revoking the seal.")
            )
            return refused(message, 400, "reason")
        return refused(refusal_text(exc), 400, exc.field)
    flash(
        {
            "activate": _("The seal %(name)s is in use.", name=view.name),
            "suspend": _("The seal %(name)s is suspended.", name=view.name),
            "revoke": _("The seal %(name)s is revoked.", name=view.name),
        }[action]
    )
    return redirect(_seal_url(view.id), 303)


def _stale(seal_id: str, before: SealView) -> str:
    try:
        now = service.get(_pages().sessions, seal_id, with_history=False)
    except SealNotFound:
        now = before
    return _(
        "Someone changed this seal after you opened the page (it is now “%(status)s”); check "
        "its current state below and try again.",
        status=status_label(now.status),
    )


def _not_allowed(view: SealView, action: str) -> str:
    possible = [action_label(a) for a in ACTIONS if view.status in TRANSITIONS[a][0]]
    return _(
        "The seal is “%(status)s”: it cannot be changed with “%(action)s”. Possible now: "
        "%(possible)s.",
        status=status_label(view.status),
        action=action_label(action),
        possible=" / ".join(possible) or "—",
    )


def _too_large(exc: RequestEntityTooLarge) -> Any:
    pages = _pages()
    return _message(
        413,
        _("The upload is too large"),
        _(
            "The form with its files may be at most %(mb)s MB (the seal picture at most "
            "%(kb)s KB). Nothing was saved.",
            mb=pages.max_body_bytes // (1 << 20),
            kb=MAX_PICTURE_BYTES // 1024,
        ),
        back=url_for("seal_pages.new"),
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
        state.app.extensions[_EXTENSION] = pages

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

"""The public check page: anyone uploads a stamped PDF and reads the report (Chinese first).

No account needed — a seal is only worth something if everyone can check it. The page is a
plain form (works without JavaScript); uploads are limited in size and per client address, and
nothing uploaded is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext
from sqlalchemy.orm import Session, sessionmaker

from storage.ephemeral import EphemeralStore

from ..records import service
from ..records.service import CertificateChecker
from ..verification import PROBLEMS_ZH, verify_document

_EXTENSION = "huren.seal_public"
BEIJING = timedelta(hours=8)


@dataclass(frozen=True)
class PublicCheck:
    sessions: sessionmaker[Session]
    checker: CertificateChecker
    store: EphemeralStore
    csrf_token: Callable[[], str]
    check_csrf: Callable[[], None]
    client_ip: Callable[[], str]
    max_pdf_bytes: int = 16 << 20
    per_address: int = 30
    """Checks one client address may run per `window` seconds."""
    window: int = 600


def _check() -> PublicCheck:
    check: PublicCheck = current_app.extensions[_EXTENSION]
    return check


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return (value.astimezone(UTC) + BEIJING).strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"


def problem_text(code: str) -> str:
    """A problem code in the reader's language (Chinese text is the table in verification)."""
    english = {
        "malformed": "The file is not a readable PDF.",
        "no_signatures": "The file carries no signature.",
        "not_intact": "The document does not match its signature (changed or damaged).",
        "modified_after_signing": "The document was changed after it was stamped.",
        "modification_unknown": "Whether the document changed after stamping cannot be told.",
        "certificate_invalid": "The signer's certificate did not validate.",
        "certificate_unknown": "The signer certificate's status cannot be determined now.",
        "timestamp_invalid": "The timestamp is not valid.",
        "no_seal": "This signature is not a seal of this platform.",
        "unknown_seal": "The seal this signature names does not exist.",
        "seal_not_active": "The seal is not in use.",
        "seal_suspended": "The seal is suspended.",
        "seal_revoked": "The seal is revoked.",
        "seal_expired": "The seal was outside its validity period when stamping.",
        "signer_not_bound": "The signer's certificate is not bound to this seal.",
    }
    from flask_babel import get_locale

    locale = get_locale()
    if locale is not None and locale.language == "en":
        return english.get(code, code)
    return PROBLEMS_ZH.get(code, code)


def _page(**values: Any) -> str:
    check = _check()
    return render_template(
        "seal_check.html",
        csrf_token=check.csrf_token(),
        max_mb=check.max_pdf_bytes // (1 << 20),
        when=_when,
        problem_text=problem_text,
        seal_types={k: v for k, v in service.SEAL_TYPES.items()},
        **values,
    )


def _throttled(check: PublicCheck) -> bool:
    key = f"seal:check:{check.client_ip()}:{int(time.time()) // check.window}"
    return check.store.incr(key, check.window) > check.per_address


def check_page() -> Any:
    check = _check()
    if request.method == "GET":
        return _page(report=None, error=None)
    check.check_csrf()
    if _throttled(check):
        return _page(
            report=None,
            error=gettext("Too many checks from your address; try again in a few minutes."),
        ), 429
    upload = request.files.get("pdf")
    if upload is None or not upload.filename:
        return _page(report=None, error=gettext("Choose a PDF file.")), 400
    data = upload.read(check.max_pdf_bytes + 1)
    if len(data) > check.max_pdf_bytes:
        return _page(report=None, error=gettext("The file is too large.")), 413
    report = verify_document(data, check.sessions, check.checker)
    return _page(report=report, filename=upload.filename[:200], error=None)


def seal_public_blueprint(check: PublicCheck) -> Blueprint:
    bp = Blueprint("seal_public", __name__, template_folder="../templates")

    @bp.record_once
    def _install(state: Any) -> None:
        state.app.extensions[_EXTENSION] = check

    @bp.before_request
    def body_limit() -> None:
        request.max_content_length = check.max_pdf_bytes + (64 << 10)

    @bp.after_request
    def no_store(response: Any) -> Any:
        response.headers["Cache-Control"] = "no-store"
        return response

    bp.add_url_rule("/seals/check", "check", check_page, methods=["GET", "POST"])
    return bp

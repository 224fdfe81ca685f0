"""What the seal pages share: the host's sign-in (`PageAccess`), their words, rendering, and
reading uploaded forms. The operators' pages (`pages`) and the entity members' pages (`account`)
are built on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar

from asn1crypto import pem as _pem
from flask import Response, current_app, render_template, request
from flask_babel import get_locale, gettext
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import FileStorage

from cert_interop.errors import CertInteropError
from cert_interop.x509 import Certificate, parse_certificate

from ..errors import SealError
from ..records.checks import MAX_CERTIFICATES, SEAL_TYPES
from ..records.directory import EntityDirectory
from ..records.pictures import MAX_PICTURE_BYTES
from ..records.service import CertificateChecker, SealMaker, SealRequest, SealSigner

_Who = TypeVar("_Who")

EXTENSION = "huren.seal_pages"
PAGE_SIZE = 20
MAX_BODY_BYTES = 2 << 20
"""A form with its picture (≤ 512 KiB) and certificates; anything larger is refused (413)."""
MAX_CERT_FILE_BYTES = 256 << 10
CHINA = timezone(timedelta(hours=8), "CST")
PICTURE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml"}
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
"""An SVG is a document: it never runs script in our origin, even when opened directly."""
MM_TO_PX = 96 / 25.4


@dataclass(frozen=True)
class SealMember:
    """A signed-in account acting for a market entity (from its membership, never the request)."""

    username: str
    entity_id: str
    admin: bool


class PageAccess(Protocol):
    """What the pages need from the host application (its sign-in and its operators)."""

    def operator(self) -> str | None:
        """The username of the signed-in operator; None when nobody or a non-operator is."""
        ...

    def signed_in(self) -> bool: ...

    def member(self) -> SealMember | None:
        """The signed-in account's enabled membership of a market entity, if any."""
        ...

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


def current_pages() -> SealPages:
    pages: SealPages = current_app.extensions[EXTENSION]
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
        "rejected": _("Request rejected"),
        "withdrawn": _("Request withdrawn"),
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
        "reject": _("Reject the request"),
        "make": _("Make the requested seal"),
        "withdraw": _("Withdraw the request"),
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


def helpers() -> dict[str, Any]:
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
        "entity_url": current_pages().access.entity_url,
    }


def render(template: str, http_status: int = 200, /, **values: Any) -> tuple[str, int]:
    return render_template(template, **helpers(), **values), http_status


# access --------------------------------------------------------------------------------------


def here() -> str:
    """This request's path and query, to come back to after signing in."""
    query = request.query_string.decode("utf-8", "replace")
    return request.path + ("?" + query if query else "")


# making a seal -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    field: str | None
    message: str
    status: int = 400


class FormRefused(Exception):
    """A form value the pages refuse before the service sees the request."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def number(values: dict[str, str], field: str) -> int | None:
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
        raise FormRefused(field, message) from None


def read_upload(upload: FileStorage, limit: int) -> bytes:
    """At most one byte more than `limit`, so "too large" can be told."""
    return bytes(upload.read(limit + 1))


def read_certificates(
    uploads: Sequence[FileStorage],
) -> tuple[list[Certificate], list[Certificate]]:
    """(the first certificate of each file, the further ones as its chain); PEM or DER."""
    leaves: list[Certificate] = []
    chain: list[Certificate] = []
    for upload in uploads:
        name = (upload.filename or "")[:100]
        data = read_upload(upload, MAX_CERT_FILE_BYTES)
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
            raise FormRefused(
                "cert",
                _(
                    "%(file)s is not a certificate file (PEM or DER, at most 256 KB).",
                    file=name or "?",
                ),
            ) from None
        leaves.append(certs[0])
        chain.extend(certs[1:])
    return leaves, chain


def picture_response(data: bytes, kind: str) -> Response:
    """A seal picture as its own type; an SVG sandboxed and never sniffed as something else."""
    response = Response(data, mimetype=PICTURE_TYPES.get(kind, "application/octet-stream"))
    if kind == "svg":
        response.headers["Content-Security-Policy"] = SVG_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def seal_request(
    entity_id: str,
    values: dict[str, str],
    picture: FileStorage | None,
    certs: Sequence[FileStorage],
) -> SealRequest:
    """The seal fields of the making form or the request form as the service's request;
    `FormRefused` for what the service never sees (numbers that are not, files too large)."""
    width = number(values, "width")
    height = number(values, "height")
    valid_days = number(values, "valid_days")
    data = read_upload(picture, MAX_PICTURE_BYTES) if picture and picture.filename else b""
    if len(certs) > MAX_CERTIFICATES:
        raise FormRefused("cert", _("At most %(n)s certificates per seal.", n=MAX_CERTIFICATES))
    leaves, chain = read_certificates(certs)
    return SealRequest(
        entity_id=entity_id,
        seal_type=values["type"],
        name=values["name"],
        picture=data,
        certificates=leaves,
        intermediates=chain,
        width_mm=width,
        height_mm=height,
        valid_days=valid_days,
    )


def message(status: int, title: str, text: str, back: str) -> tuple[str, int]:
    """A page that only says something (a refusal, a missing seal) and links back."""
    return render("seal_operator_message.html", status, title=title, text=text, back=back)


def admitted(
    who: _Who | None, back: str, title: str, text: str, home: str
) -> tuple[_Who | None, Any]:
    """``(who, None)`` when someone qualifies for the page; otherwise None and the response:
    signing in (and coming back to ``back``) when nobody is signed in, else a 403 page."""
    if who:
        return who, None
    access = current_pages().access
    if not access.signed_in():
        return None, access.sign_in(back)
    return None, message(403, title, text, home)

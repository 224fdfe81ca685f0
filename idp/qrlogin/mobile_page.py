"""The reference mobile web page of QR login: what a phone's browser shows at the URL a login
page's QR code encodes (``/m/qr?t=TICKET``), and the enrollment of that browser as a device
(``/m/``).

Everything happens in the browser (``static/mobile-qr.js``): the device key is a WebCrypto
ECDSA P-256 key generated non-extractable and kept in IndexedDB with the device id, and the page
calls the device API (``/api/v1/mobile/...``) without cookies, exactly as an app would. These
routes only serve the pages and the texts the script shows (translated here, handed over in a
``data-`` attribute since the CSP allows no inline script).
"""

from __future__ import annotations

import re
from typing import Any

from flask import render_template, request, url_for

from ..web import bp
from ..web.i18n import _

TICKET = re.compile(r"[A-Za-z0-9_-]{16,128}")
API_PATH = "/api/v1/mobile"


def _ticket() -> str:
    """The ``t`` of the query when it looks like a ticket, else ""."""
    value = request.args.get("t", "")
    return value if TICKET.fullmatch(value) else ""


def page_messages() -> dict[str, str]:
    """Every text mobile-qr.js may show, in the page's language. ``{name}``-style placeholders
    are filled in by the script."""
    return {
        "no_webcrypto": _(
            "This browser cannot keep a device key (WebCrypto or IndexedDB is unavailable). "
            "Open this page over https in an up-to-date browser."
        ),
        "no_device": _(
            "This browser is not enrolled as a device of your account yet. Enroll it first; "
            "you will come back to this sign-in afterwards."
        ),
        "bad_ticket": _(
            "This is not a valid sign-in QR code. Scan the QR code on the sign-in page again."
        ),
        "network": _("The server cannot be reached. Check the network connection and try again."),
        "working": _("Please wait…"),
        "scanning": _("Telling the sign-in page that you scanned its QR code…"),
        "scanned": _(
            "Check who is asking to sign in. Confirm only if you opened this sign-in page yourself."
        ),
        "confirmed": _(
            "Sign-in confirmed. The browser signs in by itself; you may close this page."
        ),
        "cancelled": _("Sign-in cancelled. Nobody was signed in."),
        "code_sent": _(
            "A verification code was sent by SMS to %(phone)s. Enter it below.", phone="{phone}"
        ),
        "enrolled": _(
            "This browser is enrolled as the device “%(name)s” of %(username)s.",
            name="{name}",
            username="{username}",
        ),
        "enroll_done": _("Enrolled. This browser can now confirm sign-ins by QR code."),
        "forgotten": _(
            "This browser no longer holds the device key. To stop the device for good, also "
            "revoke it under “My devices” (/account/devices)."
        ),
        "forget_question": _("Remove the device key from this browser?"),
        "expires_in": _("%(seconds)s seconds", seconds="{seconds}"),
        "default_device_name": _("Mobile browser"),
        "error.unknown": _("The request failed. Try again."),
        "error.invalid_request": _("The request was refused as malformed. Reload this page."),
        "error.request_mismatch": _("The request was refused as malformed. Reload this page."),
        "error.stale_request": _(
            "This phone's clock is more than a minute off. Set the date and time automatically, "
            "then scan the QR code again."
        ),
        "error.device_revoked": _(
            "This device has been revoked or is not enrolled any more. Enroll this browser again."
        ),
        "error.bad_signature": _(
            "The server did not accept this device's signature. Enroll this browser again."
        ),
        "error.ticket_not_found": _(
            "This QR code is unknown or no longer valid. Refresh the QR code on the sign-in page "
            "and scan it again."
        ),
        "error.ticket_expired": _(
            "This QR code has expired. Refresh the QR code on the sign-in page and scan it again."
        ),
        "error.replayed": _(
            "This request was already received and is refused. Scan the QR code again."
        ),
        "error.wrong_state": _(
            "This QR code cannot be used for that now: it was already confirmed or cancelled, "
            "or scanned by another device. Refresh the QR code on the sign-in page and scan it "
            "again."
        ),
        "error.invalid_credentials": _("Wrong username or password."),
        "error.locked": _("Too many failed attempts. Try again later."),
        "error.no_phone": _(
            "Your account has no mobile number to send the code to. Add one to your account first."
        ),
        "error.sms_unavailable": _("SMS codes cannot be sent at the moment. Try again later."),
        "error.sms_too_soon": _("A code was sent moments ago. Wait a little before asking again."),
        "error.sms_throttled": _("Too many codes were asked for. Try again later."),
        "error.enrollment_not_found": _(
            "This enrollment has expired or was used up by wrong codes. Start again."
        ),
        "error.wrong_code": _("The SMS code is wrong. Check it and try again."),
        "error.bad_public_key": _("The server refused this browser's device key."),
        "error.too_many_devices": _(
            "Your account has too many enrolled devices. Revoke unused ones under “My devices” "
            "first."
        ),
        "error.slow_down": _("Too many requests. Wait a moment and try again."),
    }


def _render(template: str, **context: Any) -> Any:
    ticket = _ticket()
    return render_template(
        template,
        ticket=ticket,
        bad_ticket="t" in request.args and not ticket,
        api=request.script_root + API_PATH,
        messages=page_messages(),
        enroll_url=url_for("idp.mobile_web_enroll", t=ticket or None),
        qr_url=url_for("idp.mobile_web_qr", t=ticket) if ticket else "",
        **context,
    )


@bp.route("/m/")
def mobile_web_enroll() -> Any:
    """Enroll this browser as a device (password, then SMS code)."""
    return _render("mobile_enroll.html")


@bp.route("/m/qr")
def mobile_web_qr() -> Any:
    """Where a login page's QR code leads: scan, show who is asking, confirm or cancel."""
    page = _render("mobile_qr.html")
    return page if _ticket() else (page, 400)


__all__ = ["mobile_web_enroll", "mobile_web_qr", "page_messages"]

"""Human wording for codes: scopes on the consent page, reasons on the error page, and the
entity types, ID types, statuses and roles every entity page shows."""

from __future__ import annotations

from .i18n import _


def scope_label(scope: str) -> str:
    return {
        "openid": _("Know who you are (your account identifier)"),
        "profile": _("Your name and username"),
        "email": _("Your email address"),
        "phone": _("Your mobile phone number"),
        "entity": _("The market entity you act for (name, credit code, status)"),
        "identity": _("Your ID document type and number"),
        "offline_access": _("Stay connected while you are away (refresh tokens)"),
    }.get(scope, scope)


def reason_text(reason: str) -> str:
    return {
        "unknown_client": _("The application that sent you here is not registered."),
        "missing_redirect_uri": _("The request has no (or more than one) redirect_uri."),
        "unregistered_redirect_uri": _(
            "The redirect address is not registered for this application."
        ),
        "request_expired": _(
            "This sign-in request has expired or was already used. "
            "Start again from the application."
        ),
        "invalid_id_token_hint": _("The sign-out request carries an invalid ID token."),
        "client_mismatch": _("The sign-out request names two different applications."),
        "unregistered_post_logout_redirect_uri": _(
            "The address to return to after sign-out is not registered."
        ),
        "csrf_failed": _("The form expired or came from elsewhere; reload the page and retry."),
        "not_found": _("Page not found."),
        "method_not_allowed": _("Method not allowed."),
        "request_too_large": _("The request is too large."),
        "invalid_request": _("The request is malformed."),
        "server_error": _("Internal error; please retry later."),
        "temporarily_unavailable": _("The service is temporarily unavailable; please retry later."),
    }.get(reason, _("The request was refused."))


def status_label(status: str) -> str:
    return {
        "pending": _("Pending review"),
        "verified": _("Verified"),
        "rejected": _("Rejected"),
    }.get(status, status)


def entity_type_label(kind: str) -> str:
    return {
        "legal_person": _("Legal person"),
        "natural_person": _("Natural person"),
        "public_institution": _("Government body or public institution"),
        "other_org": _("Other organisation"),
    }.get(kind, kind)


def id_type_label(kind: str | None) -> str:
    if kind is None:
        return ""
    return {
        "resident_id": _("Resident identity card"),
        "passport": _("Passport"),
        "hk_macao_permit": _("Mainland travel permit for Hong Kong and Macao residents"),
        "taiwan_permit": _("Mainland travel permit for Taiwan residents"),
        "foreign_permanent_resident": _("Foreign permanent resident ID card"),
    }.get(kind, kind)


def role_label(role: str) -> str:
    return {"admin": _("Administrator"), "agent": _("Agent")}.get(role, role)

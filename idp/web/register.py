"""Self-registration pages for market entities (§6.3.1), on top of `Onboarding`.

    GET  /register                 choose the type (法人, 自然人, 行政机关/事业单位, 其他组织)
    GET  /register/<entity_type>   the form for that type
    POST /register/<entity_type>   action=send_code: text a code to the mobile, show the form
                                   again (values kept, password not); action=register: register
    GET  /register/done            the outcome kept in the session (POST/redirect/GET)

The form works without JavaScript (two submit buttons; `register.js` only counts down until
another code may be asked for). Every POST is CSRF-checked first. A refusal shows the form again
with a summary (role="alert") and the message next to the field, naming the field and the
reason: 400 for a field, 409 for an entity already registered, 429 while throttled, 503 when
SMS cannot be sent. Nothing is written unless the registration succeeds (`Onboarding.register`
is one transaction). Personal data never reaches the log or the session cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, redirect, render_template, request, session, url_for

from cert_interop.identifiers import ENTITY_TYPES, ID_TYPES, mask_phone
from idp.entities.errors import DuplicateEntity, EntityError, InvalidField
from idp.entities.onboarding import FIELDS, RegistrationThrottled
from idp.sms.errors import SmsRetryLater, SmsThrottled, SmsUnavailable

from . import bp
from .context import check_csrf, client_ip, csrf_token, current_idp
from .i18n import _
from .labels import entity_type_label, id_type_label

NATURAL_PERSON = "natural_person"
ORG_INPUTS = ("name", "uscc", "agent_name", "phone", "sms_code", "username", "password")
PERSON_INPUTS = ("name", "id_type", "id_number", "phone", "sms_code", "username", "password")
INPUTS = (*(f for f in FIELDS if f != "entity_type"), "sms_code")
"""Every field a registration POST may carry (besides csrf_token and action)."""
MAXLENGTH = {
    "name": 100,
    "uscc": 32,
    "agent_name": 50,
    "id_number": 32,
    "phone": 20,
    "sms_code": 12,
    "username": 150,
    "password": 1024,
}
"""`maxlength` of the inputs: what a person can type (codes may carry spaces). The server does not
trust it: see `MAX_VALUE` and the service's own limits."""
MAX_VALUE = 1024
"""Longer values are refused (`length`) before any other work is spent on them."""
OUTCOME = "registration"
"""Session key of the last registration's outcome, shown by /register/done (no personal data)."""


@dataclass(frozen=True)
class Refusal:
    """A refusal as the page shows it: the field (None: the whole form) and the message."""

    field: str | None
    code: str
    message: str


# wording ------------------------------------------------------------------------------------


def type_hint(kind: str) -> str:
    return {
        "legal_person": _("Companies and other enterprises with a business licence."),
        "natural_person": _("Individuals taking part in trading in their own name."),
        "public_institution": _("Government bodies and public institutions."),
        "other_org": _("Other organisations with a unified social credit code."),
    }.get(kind, "")


def field_label(kind: str, field: str) -> str:
    """The label of `field` on the form for entity type `kind`."""
    if field == "name":
        return {
            "legal_person": _("Enterprise name"),
            "natural_person": _("Full name"),
            "public_institution": _("Name of the body or institution"),
            "other_org": _("Organisation name"),
        }.get(kind, _("Name"))
    return {
        "entity_type": _("Type of market entity"),
        "uscc": _("Unified social credit code"),
        "agent_name": _("Agent's name"),
        "id_type": _("ID type"),
        "id_number": _("ID number"),
        "phone": _("Mobile number"),
        "sms_code": _("SMS code"),
        "username": _("Username"),
        "password": _("Password"),
    }.get(field, field)


def _id_number_format(id_type: str | None) -> str:
    return {
        "resident_id": _("A resident ID number is 17 digits followed by a digit or X."),
        "passport": _("A passport number is 5 to 17 letters or digits."),
        "hk_macao_permit": _(
            "A Hong Kong/Macao permit number is H or M followed by 8 digits (older permits: 10)."
        ),
        "taiwan_permit": _(
            "A Taiwan permit number is 8 digits (older permits: 10 digits, possibly followed by "
            "a letter in brackets)."
        ),
        "foreign_permanent_resident": _(
            "A permanent residence card number is 3 letters and 12 digits, or 18 characters "
            "starting with 9."
        ),
    }.get(id_type or "", _("The number has an invalid format."))


def _registry_status(status: str) -> str:
    named = {
        "revoked": _("revoked (吊销)"),
        "cancelled": _("deregistered (注销)"),
        "suspended": _("suspended (停业)"),
    }.get(status, status)
    return _(
        "The registry lists this organisation as %(status)s, not active: it cannot register.",
        status=named,
    )


def refusal_text(field: str, reason: str, id_type: str | None = None) -> str:
    """Why `field` was refused, in words. Every reason the service, the identifier checks, the
    registry and the SMS codes can give has its own text; an unknown one still shows its code."""
    special = {
        ("password", "length"): _("The password must have 8 to 1024 characters."),
        ("phone", "format"): _("Enter an 11-digit mainland mobile number (e.g. 13812345678)."),
        ("phone", "sms_unavailable"): _(
            "SMS codes cannot be sent at the moment, so registration is unavailable."
        ),
        ("username", "format"): _(
            "The username may contain letters, digits, Chinese characters and . _ @ + - "
            "(at most 150)."
        ),
        ("username", "taken"): _("This username is already taken; choose another one."),
        ("uscc", "length"): _("A unified social credit code has 18 characters."),
        ("uscc", "charset"): _(
            "A unified social credit code uses digits and the capital letters except I, O, S, "
            "V and Z; characters 3 to 8 are digits."
        ),
        ("uscc", "check_character"): _(
            "The check character (the last one) does not match the code: please check it for "
            "a typo."
        ),
        ("uscc", "organization_code"): _(
            "The organisation code inside the credit code (characters 9 to 17) has a wrong "
            "check character: please check it for a typo."
        ),
        ("id_number", "check_character"): _(
            "The check character (the last one) does not match the number: please check it for "
            "a typo."
        ),
        ("id_number", "format"): _id_number_format(id_type),
        ("id_number", "length"): _id_number_format(id_type),
        ("id_number", "birth_date"): _("The date of birth inside the number is not a real date."),
        ("id_number", "region"): _(
            "The region code (the first 6 digits) of the number does not exist."
        ),
        ("id_number", "unknown_id_type"): _("Choose the ID type first."),
        ("sms_code", "required"): _("Enter the code from the SMS (click “Get code” first)."),
        ("sms_code", "wrong_or_expired"): _(
            "The SMS code is wrong, has expired or was already used: request a new one."
        ),
        ("name", "registry_name_mismatch"): _(
            "The name differs from the registry's record for this credit code: enter it exactly "
            "as on the business licence."
        ),
    }
    if (field, reason) in special:
        return special[(field, reason)]
    general = {
        "required": _("This field is required."),
        "type": _("The value was not sent as one piece of text."),
        "length": _("The value is too long or too short."),
        "control_character": _("The value contains invisible or control characters."),
        "format": _("The value has an invalid format."),
        "unknown": _("Choose one of the offered options."),
        "not_allowed": _("This field does not belong to this type of registration."),
        "taken": _("This value is already taken."),
        "charset": _("The value contains characters that are not allowed."),
        "check_character": _("The check character does not match: please check for a typo."),
        "registry_not_found": _("The registry has no organisation with this credit code."),
        "registry_name_mismatch": _("The name differs from the registry's record."),
        "uscc_malformed": _("The registry cannot look up this credit code: it is malformed."),
        "name_missing": _("The name is missing."),
        "sms_unavailable": _(
            "SMS codes cannot be sent at the moment, so registration is unavailable."
        ),
        "wrong_or_expired": _("The value is wrong or has expired."),
    }
    if reason in general:
        return general[reason]
    if reason.startswith("registry_status_"):
        return _registry_status(reason[len("registry_status_") :])
    return _("The value was refused (%(code)s).", code=reason)


def pending_reason_text(code: str) -> str:
    """Why a registration waits for an operator, in words."""
    return {
        "registry_unreachable": _(
            "The registry could not be reached or did not answer in time; an operator will "
            "check your organisation."
        ),
        "registry_contradiction": _(
            "The registry's answers about your credit code contradict each other; an operator "
            "will check them."
        ),
        "registry_dishonest": _(
            "The organisation is on a list of dishonest persons subject to enforcement; an "
            "operator will review the registration."
        ),
        "registry_not_configured": _(
            "No registry is connected for automatic checks; an operator will check your "
            "organisation."
        ),
    }.get(code, _("An operator has to check the registration (%(code)s).", code=code))


# the pages ----------------------------------------------------------------------------------


def _unavailable() -> Any:
    return render_template("register_choose.html", types=(), unavailable=True, **_helpers()), 503


def _helpers() -> dict[str, Any]:
    return {
        "type_label": entity_type_label,
        "type_hint": type_hint,
        "id_type_label": id_type_label,
        "pending_reason_text": pending_reason_text,
    }


@bp.route("/register")
def register_choose() -> Any:
    if not current_idp().onboarding.available:
        return _unavailable()
    return render_template(
        "register_choose.html", types=ENTITY_TYPES, unavailable=False, **_helpers()
    )


def _inputs(kind: str) -> tuple[str, ...]:
    return PERSON_INPUTS if kind == NATURAL_PERSON else ORG_INPUTS


def _render(
    kind: str,
    values: Mapping[str, str],
    *,
    status: int = 200,
    refusals: tuple[Refusal, ...] = (),
    notice: str | None = None,
    resend_in: int = 0,
) -> Any:
    errors = {r.field: r.message for r in refusals if r.field is not None}
    summary = [
        (r.field, field_label(kind, r.field) if r.field else None, r.message) for r in refusals
    ]
    shown = {k: v for k, v in values.items() if k != "password"}
    page = render_template(
        "register_form.html",
        kind=kind,
        inputs=_inputs(kind),
        values=shown,
        errors=errors,
        summary=summary,
        notice=notice,
        resend_in=resend_in,
        id_types=ID_TYPES,
        maxlength=MAXLENGTH,
        label=lambda field: field_label(kind, field),
        autocomplete=lambda field: _autocomplete(kind, field),
        csrf_token=csrf_token(),
        **_helpers(),
    )
    return page, status


def _autocomplete(kind: str, field: str) -> str:
    if field == "username":
        return "username"
    if field == "agent_name" or (field == "name" and kind == NATURAL_PERSON):
        return "name"
    if field == "name":
        return "organization"
    return "off"


def _read_form() -> tuple[dict[str, str], InvalidField | None]:
    """The submitted fields (first value of each, for showing the form again), and the first
    field refused before any other check: sent more than once (`type`) or too long."""
    values: dict[str, str] = {}
    problem: InvalidField | None = None
    for field in INPUTS:
        sent = request.form.getlist(field)
        if not sent:
            continue
        values[field] = sent[0][:MAX_VALUE]
        if problem is None and len(sent) > 1:
            problem = InvalidField(field, "type")
        elif problem is None and len(sent[0]) > MAX_VALUE:
            problem = InvalidField(field, "length")
    return values, problem


def _field_refusal(exc: InvalidField, values: Mapping[str, str]) -> Refusal:
    return Refusal(
        exc.field, exc.reason, refusal_text(exc.field, exc.reason, values.get("id_type"))
    )


def _duplicate_refusal(exc: DuplicateEntity) -> Refusal:
    what = {
        "uscc": _("An entity with this unified social credit code is already registered."),
        "id_number": _("A person with this ID number is already registered."),
    }.get(exc.field, _("This market entity is already registered."))
    hint = _(
        "Sign in with the existing administrator account; if the password is forgotten, reset "
        "it from the sign-in page; if the account cannot be recovered, contact the platform "
        "operator with proof of identity."
    )
    return Refusal(exc.field, "duplicate_entity", f"{what} {hint}")


def _minutes(seconds: int) -> int:
    return max(1, (seconds + 59) // 60)


@bp.route("/register/<entity_type>", methods=["GET", "POST"])
def register_form(entity_type: str) -> Any:
    if entity_type not in ENTITY_TYPES:
        abort(404)
    kind = entity_type
    if request.method == "POST":
        check_csrf()
    if not current_idp().onboarding.available:
        return _unavailable()
    if request.method == "GET":
        return _render(kind, {})
    values, problem = _read_form()
    if problem is not None:
        return _render(kind, values, status=400, refusals=(_field_refusal(problem, values),))
    if request.form.get("action") == "send_code":
        return _send_code(kind, values)
    return _register(kind, values)


def _send_code(kind: str, values: dict[str, str]) -> Any:
    onboarding = current_idp().onboarding
    phone = values.get("phone", "")
    try:
        if not phone.strip():
            raise InvalidField("phone", "required")
        sent = onboarding.send_code(phone, client_ip())
    except InvalidField as exc:
        status = 503 if exc.reason == "sms_unavailable" else 400
        return _render(kind, values, status=status, refusals=(_field_refusal(exc, values),))
    except SmsThrottled as exc:
        message = _(
            "Too many codes were requested for this number or from this network; try again in "
            "%(minutes)d minutes.",
            minutes=_minutes(exc.retry_after),
        )
        return _render(kind, values, status=429, refusals=(Refusal("phone", exc.code, message),))
    except SmsRetryLater as exc:  # SmsTooSoon, or a send to this number under way
        message = _(
            "A code was just sent to this number; you may request another in %(seconds)d seconds.",
            seconds=exc.retry_after,
        )
        return _render(
            kind,
            values,
            status=429,
            refusals=(Refusal("phone", exc.code, message),),
            resend_in=exc.retry_after,
        )
    except SmsUnavailable as exc:
        message = _("The SMS service is unavailable at the moment; please try again later.")
        return _render(kind, values, status=503, refusals=(Refusal("phone", exc.code, message),))
    notice = _(
        "A code was sent to %(phone)s. It is valid for %(minutes)d minutes; you may request "
        "another in %(seconds)d seconds.",
        phone=mask_phone(phone),
        minutes=_minutes(sent.expires_in),
        seconds=sent.resend_in,
    )
    return _render(kind, values, notice=notice, resend_in=sent.resend_in)


def _register(kind: str, values: dict[str, str]) -> Any:
    onboarding = current_idp().onboarding
    form: dict[str, object] = {field: values.get(field) for field in FIELDS}
    form["entity_type"] = kind  # the type is the page's, never the form's
    try:
        view = onboarding.register(form, sms_code=values.get("sms_code"), ip=client_ip())
    except RegistrationThrottled as exc:
        message = _(
            "Too many registrations from this network address; try again in %(minutes)d minutes.",
            minutes=_minutes(exc.retry_after),
        )
        return _render(kind, values, status=429, refusals=(Refusal(None, exc.code, message),))
    except DuplicateEntity as exc:
        return _render(kind, values, status=409, refusals=(_duplicate_refusal(exc),))
    except InvalidField as exc:
        status = 503 if exc.reason == "sms_unavailable" else 400
        return _render(kind, values, status=status, refusals=(_field_refusal(exc, values),))
    except EntityError as exc:
        message = _("The registration was refused (%(code)s).", code=exc.code)
        return _render(kind, values, status=400, refusals=(Refusal(None, exc.code, message),))
    admin = next((m.username for m in view.members if m.role == "admin"), values.get("username"))
    session[OUTCOME] = {
        "entity_type": view.entity_type,
        "name": view.name,
        "username": admin,
        "status": view.status,
        "reasons": list(view.reasons),
    }
    return redirect(url_for("idp.register_done"))


@bp.route("/register/done")
def register_done() -> Any:
    outcome = session.get(OUTCOME)
    if not isinstance(outcome, dict) or not isinstance(outcome.get("status"), str):
        return redirect(url_for("idp.register_choose"))
    reasons = outcome.get("reasons")
    return render_template(
        "register_done.html",
        outcome=outcome,
        reasons=[str(code) for code in reasons] if isinstance(reasons, list) else [],
        **_helpers(),
    )

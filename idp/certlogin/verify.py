"""`POST /login/cert`: the signed challenge comes back; log in the certificate's account.

Checked in this order, each refusal a page naming the reason (and audited as `login.failure`
with `method=cert`, the reason code and the certificate's fingerprint, never the certificate):

1. the challenge: known, of this browser session, not used (`challenge_replayed`), not expired
   (`challenge_expired`); taken at once, so every attempt uses it up;
2. the inputs decode (`malformed`), the failure throttle allows (`locked`);
3. what was signed names this provider (`wrong_origin`; also a browser ``Origin`` header of
   another site) and is this challenge;
4. the signature verifies with the certificate's key (`bad_signature`);
5. the certificate validates for signing through the trust store: chain, validity, revocation
   (`expired`, `revoked`, `unknown_ca`, … the validation's own reason codes);
6. its CA's profile reads a credit code or ID number (`no_identity`);
7. a binding exists (`not_bound` when a verified entity has that identity, else
   `not_registered`), its entity has that identity (`identity_mismatch`) and is verified, and
   the account is an enabled member.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask import render_template, request

from cert_interop.errors import CertInteropError
from cert_interop.signatures import default_algorithm, verify
from cert_interop.x509 import Certificate

from .. import audit
from ..accounts import User, find_user
from ..entities.models import EntityMember, MarketEntity
from ..web import bp
from ..web.context import check_csrf, client_ip, csrf_token, current_idp
from ..web.i18n import _
from ..web.login import after_login, local_path, start_session
from . import ACR_CERTIFICATE, AMR_CERTIFICATE, challenge
from .bindings import (
    CertBindingError,
    CertIdentity,
    cert_identity,
    check_certificate,
    entity_for_identity,
    find,
    identity_matches,
    read_certificate,
)

MAX_SIGNATURE = 4096
MAX_CERTIFICATE = 16384
MAX_CHAIN = 4
MAX_DATA = 2048

STATUS = {
    "malformed": 400,
    "challenge_replayed": 400,
    "challenge_expired": 400,
    "wrong_origin": 403,
    "bad_signature": 401,
    "no_identity": 403,
    "not_bound": 403,
    "not_registered": 403,
    "identity_mismatch": 403,
    "entity_not_verified": 403,
    "account_disabled": 403,
    "locked": 429,
    "trust_store_unavailable": 503,
}
"""Validation reasons (expired, revoked, unknown_ca, …) not listed here answer 401."""


class Refusal(Exception):
    def __init__(self, reason: str, fingerprint: str | None = None, **detail: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fingerprint = fingerprint
        self.detail = detail


def refusal_text(reason: str) -> str:
    return {
        "malformed": _("The signed answer from the certificate is incomplete or malformed."),
        "challenge_replayed": _(
            "This sign-in challenge is unknown, was already used, or belongs to another browser "
            "session. Reload the sign-in page and try again."
        ),
        "challenge_expired": _(
            "The sign-in challenge has expired (it is valid for two minutes). Try again."
        ),
        "wrong_origin": _(
            "The signature was made for another site: the issuer or origin it names is not this "
            "sign-in service. Never sign sign-in requests shown by other sites."
        ),
        "bad_signature": _("The signature does not match the certificate."),
        "expired": _("The certificate has expired."),
        "not_yet_valid": _("The certificate is not valid yet."),
        "revoked": _("The certificate has been revoked by its CA."),
        "unknown_ca": _("The certificate was issued by a CA this platform does not trust."),
        "revocation_unknown": _(
            "Whether the certificate is revoked cannot be checked right now. Try again later."
        ),
        "wrong_key_usage": _("The certificate may not be used for signing."),
        "no_identity": _(
            "The certificate carries no unified social credit code or ID number that its CA's "
            "profile can read."
        ),
        "not_bound": _(
            "This certificate is not bound to an account: sign in with your password and bind "
            "it at /account/certificates."
        ),
        "not_registered": _(
            "No verified market entity is registered with the identity in this certificate. "
            "Register your market entity first."
        ),
        "identity_mismatch": _(
            "The identity in the certificate does not match the market entity of the account "
            "it is bound to."
        ),
        "entity_not_verified": _("The market entity of this account is not verified."),
        "account_disabled": _("The account bound to this certificate is disabled."),
        "locked": _("Too many failed attempts. Try again later."),
        "trust_store_unavailable": _("Certificates cannot be checked right now. Try again later."),
    }.get(reason, _("The certificate is not valid."))


def b64decode(value: object, limit: int) -> bytes:
    """Standard or URL-safe base64, whitespace and padding tolerated; Refusal otherwise."""
    if not isinstance(value, str) or not value or len(value) > limit:
        raise Refusal("malformed")
    text = "".join(value.split()).replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Refusal("malformed") from None
    if not raw:
        raise Refusal("malformed")
    return raw


def _certificate(value: object) -> tuple[Certificate, list[Certificate]]:
    if isinstance(value, str) and "-----BEGIN" in value and len(value) <= MAX_CERTIFICATE * 2:
        data = value.encode()
    else:
        data = b64decode(value, MAX_CERTIFICATE * 2)
    try:
        return read_certificate(data)
    except CertBindingError:
        raise Refusal("malformed") from None


def _chain() -> list[Certificate]:
    values = [v for v in request.form.getlist("chain") if v.strip()]
    if len(values) > MAX_CHAIN:
        raise Refusal("malformed")
    out: list[Certificate] = []
    for value in values:
        leaf, rest = _certificate(value)
        out += [leaf, *rest]
    return out[: MAX_CHAIN * 2]


def _check_signed_data(challenge_bytes: bytes, sent: object) -> None:
    """When the page says what it had signed, it must be this challenge; a challenge of
    another issuer or origin is `wrong_origin`."""
    idp = current_idp()
    origin = request.headers.get("Origin")
    ours = challenge.origin_of(idp.config.issuer)
    if origin and origin != "null" and origin.lower() != ours:
        raise Refusal("wrong_origin", origin=origin[:200])
    if sent in (None, ""):
        return
    data = b64decode(sent, MAX_DATA)
    if data == challenge_bytes:
        return
    try:
        claimed = json.loads(data)
    except ValueError:
        raise Refusal("challenge_replayed") from None
    if isinstance(claimed, dict) and (
        claimed.get("iss") != idp.config.issuer or claimed.get("origin") != ours
    ):
        raise Refusal("wrong_origin")
    raise Refusal("challenge_replayed")


def _lock_key(fingerprint: str | None) -> str:
    return f"#cert:{fingerprint or '-'}"


def _refused(exc: Refusal) -> Any:
    idp = current_idp()
    audit.record(
        idp.sessions,
        "login.failure",
        user_id=exc.detail.pop("user_id", None),
        ip=client_ip(),
        method="cert",
        reason=exc.reason,
        fingerprint=exc.fingerprint,
        **exc.detail,
    )
    if exc.reason not in ("challenge_replayed", "locked"):
        idp.throttle.failure(_lock_key(exc.fingerprint), client_ip())
    return page(exc.reason)


def page(reason: str) -> Any:
    rid = request.values.get("rid", "")
    rid = rid if len(rid) <= 64 else ""
    next_url = local_path(request.values.get("next")) or ""
    status = STATUS.get(reason, 401)
    return (
        render_template(
            "cert_login_refused.html",
            reason=reason,
            message=refusal_text(reason),
            rid=rid,
            next_url=next_url,
            csrf_token=csrf_token(),
        ),
        status,
    )


@bp.route("/login/cert", methods=["POST"])
def cert_login() -> Any:
    check_csrf()
    try:
        return _login()
    except Refusal as exc:
        return _refused(exc)


def _login() -> Any:
    idp = current_idp()
    form = request.form
    taken = challenge.take(form.get("challenge_id"))
    leaf, extra = _certificate(form.get("certificate"))
    fingerprint = leaf.sha256_fingerprint
    wait = idp.throttle.locked_for(_lock_key(fingerprint), client_ip())
    if wait:
        raise Refusal("locked", fingerprint)
    if taken is None:
        raise Refusal("challenge_replayed", fingerprint)
    if challenge.expired(taken):
        raise Refusal("challenge_expired", fingerprint)
    try:
        signature = b64decode(form.get("signature"), MAX_SIGNATURE)
        chain = [*extra, *_chain()]
        _check_signed_data(taken.data, form.get("data"))
    except Refusal as exc:
        exc.fingerprint = fingerprint
        raise
    try:
        ok = verify(leaf.public_key, default_algorithm(leaf.public_key), signature, data=taken.data)
    except CertInteropError:
        ok = False
    if not ok:
        raise Refusal("bad_signature", fingerprint)
    try:
        result = check_certificate(idp.trust_store, leaf, chain)
    except CertBindingError as exc:
        raise Refusal(exc.reason, fingerprint) from None
    ident = cert_identity(result.identity)
    if not ident.present:
        raise Refusal("no_identity", fingerprint, ca=result.ca)
    user = _bound_user(fingerprint, ident, result.ca)
    idp.throttle.success(_lock_key(fingerprint))
    start_session(user, list(AMR_CERTIFICATE), ACR_CERTIFICATE)
    audit.record(
        idp.sessions,
        "login.success",
        user_id=user.id,
        username=user.username,
        ip=client_ip(),
        method="cert",
        fingerprint=fingerprint,
        ca=result.ca,
    )
    return after_login(form.get("rid"), form.get("next"))


def _bound_user(fingerprint: str, ident: CertIdentity, ca: str | None) -> User:
    idp = current_idp()
    binding = find(idp.sessions, fingerprint)
    with idp.sessions() as db:
        if binding is None:
            entity = entity_for_identity(db, idp.pii, ident)
            if entity is not None and entity.status == "verified":
                raise Refusal("not_bound", fingerprint, ca=ca, entity_id=entity.id)
            raise Refusal("not_registered", fingerprint, ca=ca)
        entity = db.get(MarketEntity, binding.entity_id)
        if entity is None or not identity_matches(idp.pii, entity, ident):
            raise Refusal("identity_mismatch", fingerprint, ca=ca, user_id=binding.account_id)
        if entity.status != "verified":
            raise Refusal("entity_not_verified", fingerprint, user_id=binding.account_id)
        member = db.get(EntityMember, (entity.id, binding.account_id))
        if member is None or member.disabled:
            raise Refusal("account_disabled", fingerprint, user_id=binding.account_id)
    user = find_user(idp.sessions, binding.account_id)
    if user is None:
        raise Refusal("account_disabled", fingerprint, user_id=binding.account_id)
    return user

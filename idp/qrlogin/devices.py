"""Enrolled mobile devices: the `mobile_device` table, enrollment, revocation, and the check of
a signed device request.

**Enrollment** happens once per device, in two steps, after the person has proven on the phone
that they hold the account: (1) username and password, checked with the login form's throttling
and lockout, after which an SMS code goes to the account's own mobile (`idp.sms`, purpose
`device-enroll`); (2) the code and the device's public key (DER SubjectPublicKeyInfo, ECDSA
P-256 → ``ES256``, or SM2 → ``SM2``). An enrollment is one-use, lives as long as the code
(300 s) and is void after `MAX_CODE_TRIES` wrong codes.

**A signed request** is the exact body bytes ``{"device_id", "ticket", "action", "nonce",
"ts"}`` (compact JSON, exactly these keys) and ``X-Huren-Signature: base64(signature)`` over
them: ECDSA P-256 with SHA-256 (DER or raw r||s) or SM2 with SM3 and the default user ID. It is
checked in this order: the body parses (`invalid_request`) and names the URL's ticket and
action (`request_mismatch`); the device is enrolled, not revoked, its account enabled
(`device_revoked`); the signature verifies (`bad_signature`); ``ts`` is within `MAX_SKEW`
seconds of the server's clock (`stale_request`); the nonce was not seen from this device
within the window (`replayed`, a replay cache in the ephemeral store that outlives the window,
so a replay is refused either as stale or as replayed). The nonce is recorded only after the
signature verified, so nobody can spend a device's nonces for it.

Revocation takes effect at once: every request reads the device row.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Float, ForeignKey, LargeBinary, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from cert_interop import sm2
from cert_interop.errors import CertInteropError
from cert_interop.identifiers import mask_phone
from cert_interop.keys import dump_public_key, load_public_key
from cert_interop.signatures import verify as verify_signature
from storage.db import Base
from storage.ephemeral import EphemeralStore

from .. import audit
from ..accounts import User, account_phone, check_password
from ..models import Account
from ..sms.errors import InvalidPhone, SmsThrottled, SmsTooSoon, SmsUnavailable
from . import tickets
from .errors import QrLoginError

if TYPE_CHECKING:
    from ..service import Idp

ALGORITHMS = ("ES256", "SM2")
SMS_PURPOSE = "device-enroll"
"""The SMS template name the gateway receives (`docs/sms-gateway.md`)."""
MAX_CODE_TRIES = 5
MAX_DEVICES = 20
"""Active devices one account may have."""
MAX_NAME = 100
MAX_PUBLIC_KEY = 1024
"""Bytes of DER; a P-256 or SM2 SubjectPublicKeyInfo is 91."""
MAX_REASON = 500
MAX_SIGNED_BODY = 2048
MAX_SIGNATURE_HEADER = 400
MAX_SKEW = 60
"""Seconds a signed request's ``ts`` may differ from the server's clock."""
NONCE_TTL = 2 * MAX_SKEW + 60
"""Seconds a nonce is remembered: longer than any ``ts`` is accepted for."""
ENROLLMENT_BYTES = 24
ACTIONS = ("scan", "confirm", "cancel")
SIGNED_FIELDS = frozenset({"device_id", "ticket", "action", "nonce", "ts"})
DEVICE_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
NONCE = re.compile(r"[A-Za-z0-9_-]{22,128}")
CODE = re.compile(r"[0-9]{4,12}")
DEFAULT_NAME = "未命名设备"


class MobileDevice(Base):
    """One enrolled device of one account (schema: `idp_0005`)."""

    __tablename__ = "mobile_device"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    """DER SubjectPublicKeyInfo."""
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float)
    revoked_by: Mapped[str | None] = mapped_column(String(150))
    revoked_reason: Mapped[str | None] = mapped_column(String(MAX_REASON))


@dataclass(frozen=True)
class DeviceView:
    id: str
    account_id: str
    username: str
    name: str
    algorithm: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None
    revoked_by: str | None
    revoked_reason: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class StartedEnrollment:
    enrollment: str
    phone: str
    """Masked (``138****0000``)."""
    expires_in: int


@dataclass(frozen=True)
class SignedRequest:
    device_id: str
    ticket: str
    action: str
    nonce: str
    ts: int


def when(ts: float | None) -> str:
    """A device's time as pages and the CLI show it (UTC, to the minute)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _view(row: MobileDevice, username: str) -> DeviceView:
    return DeviceView(
        id=row.id,
        account_id=row.account_id,
        username=username,
        name=row.name,
        algorithm=row.algorithm,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        revoked_reason=row.revoked_reason,
    )


def _username(db: Session, account_id: str) -> str:
    return db.scalar(select(Account.username).where(Account.id == account_id)) or "?"


# keys and names ------------------------------------------------------------------------------


def b64decode(value: object, limit: int) -> bytes | None:
    """Standard or URL-safe base64 (padding optional, no other characters), or None."""
    if not isinstance(value, str) or not value or len(value) > limit:
        return None
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw or None


def parse_public_key(value: object) -> tuple[str, bytes]:
    """(algorithm, canonical DER) of a device public key given as base64 DER SPKI."""
    der = b64decode(value, MAX_PUBLIC_KEY * 2)
    if der is None or len(der) > MAX_PUBLIC_KEY:
        raise QrLoginError("bad_public_key")
    try:
        key = load_public_key(der)
    except (CertInteropError, ValueError):
        raise QrLoginError("bad_public_key") from None
    if isinstance(key, sm2.Sm2PublicKey):
        algorithm = "SM2"
    elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        algorithm = "ES256"
    else:
        raise QrLoginError("bad_public_key", "only ECDSA P-256 and SM2 keys are accepted")
    return algorithm, dump_public_key(key, "der")


def clean_name(value: object) -> str:
    """A device's name as shown to its owner: printable, at most `MAX_NAME` characters."""
    if value is None or value == "":
        return DEFAULT_NAME
    if not isinstance(value, str):
        raise QrLoginError("invalid_request", "name must be a string")
    name = " ".join(value.split())
    if not name:
        return DEFAULT_NAME
    if len(name) > MAX_NAME or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in name):
        raise QrLoginError("invalid_request", f"name must be printable, at most {MAX_NAME} long")
    return name


# the device table ----------------------------------------------------------------------------


def add_device(
    sessions: sessionmaker[Session],
    *,
    account_id: str,
    public_key: str | bytes,
    name: object,
    actor: str,
) -> DeviceView:
    """Enroll a device for `account_id` (`public_key`: base64 or raw DER SPKI). Audited as
    `device.enrolled` in the same transaction."""
    if isinstance(public_key, bytes):
        public_key = base64.b64encode(public_key).decode()
    algorithm, der = parse_public_key(public_key)
    device_name = clean_name(name)
    with sessions.begin() as db:
        account = db.get(Account, account_id)
        if account is None or account.disabled:
            raise QrLoginError("invalid_credentials", "the account is disabled")
        active = db.scalar(
            select(func.count())
            .select_from(MobileDevice)
            .where(MobileDevice.account_id == account_id, MobileDevice.revoked_at.is_(None))
        )
        if (active or 0) >= MAX_DEVICES:
            raise QrLoginError("too_many_devices")
        row = MobileDevice(
            id=str(uuid.uuid4()),
            account_id=account_id,
            name=device_name,
            algorithm=algorithm,
            public_key=der,
            created_at=time.time(),
            last_used_at=None,
            revoked_at=None,
            revoked_by=None,
            revoked_reason=None,
        )
        db.add(row)
        db.flush()
        audit.add(
            db,
            "device.enrolled",
            user_id=account_id,
            username=account.username,
            device_id=row.id,
            algorithm=algorithm,
            actor=actor[:150],
        )
        return _view(row, account.username)


def get(sessions: sessionmaker[Session], device_id: object) -> DeviceView | None:
    if not isinstance(device_id, str) or not DEVICE_ID.fullmatch(device_id):
        return None
    with sessions() as db:
        row = db.get(MobileDevice, device_id)
        return _view(row, _username(db, row.account_id)) if row else None


def _list(sessions: sessionmaker[Session], account_id: str | None) -> builtins.list[DeviceView]:
    with sessions() as db:
        query = (
            select(MobileDevice, Account.username)
            .join(Account, Account.id == MobileDevice.account_id)
            .order_by(MobileDevice.created_at, MobileDevice.id)
        )
        if account_id is not None:
            query = query.where(MobileDevice.account_id == account_id)
        return [_view(row, username) for row, username in db.execute(query).all()]


def list_for_account(sessions: sessionmaker[Session], account_id: str) -> builtins.list[DeviceView]:
    """The account's devices, revoked ones too, oldest first."""
    return _list(sessions, account_id)


def list_all(sessions: sessionmaker[Session]) -> builtins.list[DeviceView]:
    return _list(sessions, None)


def revoke(
    sessions: sessionmaker[Session],
    device_id: object,
    *,
    actor: str,
    reason: str,
    acting_account_id: str | None = None,
) -> DeviceView:
    """Revoke a device at once. `acting_account_id` is its owner signed in (only their own
    devices are found); None is an operator. Revoking a revoked device changes nothing.
    Audited as `device.revoked` in the same transaction."""
    reason = " ".join((reason or "").split())[:MAX_REASON] or "-"
    found = isinstance(device_id, str) and DEVICE_ID.fullmatch(device_id) is not None
    with sessions.begin() as db:
        row = db.get(MobileDevice, device_id) if found else None
        if row is None or (acting_account_id is not None and row.account_id != acting_account_id):
            raise QrLoginError("device_not_found")
        username = _username(db, row.account_id)
        if row.revoked_at is None:
            row.revoked_at = time.time()
            row.revoked_by = actor[:150]
            row.revoked_reason = reason
            audit.add(
                db,
                "device.revoked",
                user_id=acting_account_id,
                username=actor,
                account_id=row.account_id,
                device_id=row.id,
                reason=reason,
            )
        return _view(row, username)


# enrollment ----------------------------------------------------------------------------------


def _enrollment_key(enrollment: str) -> str:
    return f"qr-enroll:{enrollment}"


def start_enrollment(idp: Idp, username: object, password: object, ip: str) -> StartedEnrollment:
    """Step 1: the account's password (login throttling and lockout apply), then an SMS code to
    the account's own mobile. Raises `QrLoginError` (`invalid_request`, `locked`,
    `invalid_credentials`, `no_phone`, `sms_*`)."""
    if not isinstance(username, str) or not isinstance(password, str):
        raise QrLoginError("invalid_request", "username and password must be strings")
    username = username.strip()[:150]
    if not username or not password:
        raise QrLoginError("invalid_credentials")
    wait = idp.throttle.locked_for(username, ip)
    if wait:
        raise QrLoginError("locked", retry_after=wait)
    user = check_password(idp.sessions, username, password[:1024])
    if user is None:
        locked = idp.throttle.failure(username, ip)
        if locked:
            raise QrLoginError("locked", retry_after=locked)
        raise QrLoginError("invalid_credentials")
    idp.throttle.success(username)
    return _send_code(idp, user, ip)


def _send_code(idp: Idp, user: User, ip: str) -> StartedEnrollment:
    codes = idp.onboarding.sms
    if codes is None:
        raise QrLoginError("sms_unavailable", "no SMS sender is configured")
    phone = account_phone(idp.sessions, idp.pii, user.id)
    if not phone:
        raise QrLoginError("no_phone")
    try:
        sent = codes.send(phone, SMS_PURPOSE, ip)
    except InvalidPhone:
        raise QrLoginError("no_phone", "the account's mobile number is not usable") from None
    except SmsTooSoon as exc:
        raise QrLoginError("sms_too_soon", retry_after=exc.retry_after) from None
    except SmsThrottled as exc:
        raise QrLoginError("sms_throttled", retry_after=exc.retry_after) from None
    except SmsUnavailable:
        raise QrLoginError("sms_unavailable") from None
    enrollment = secrets.token_urlsafe(ENROLLMENT_BYTES)
    record = {"account_id": user.id, "username": user.username}
    idp.store.put(_enrollment_key(enrollment), json.dumps(record).encode(), sent.expires_in)
    return StartedEnrollment(enrollment, mask_phone(phone), sent.expires_in)


def finish_enrollment(
    idp: Idp, enrollment: object, code: object, public_key: object, name: object
) -> DeviceView:
    """Step 2: the SMS code and the device's public key. The key and name are checked before
    the code, so a malformed key does not spend a try; every wrong code does."""
    if not isinstance(enrollment, str) or not tickets.TICKET_PATTERN.fullmatch(enrollment):
        raise QrLoginError("enrollment_not_found")
    key = _enrollment_key(enrollment)
    record: dict[str, Any] | None = None
    raw = idp.store.get(key)
    if raw is not None:
        record = json.loads(raw)
    if record is None:
        raise QrLoginError("enrollment_not_found")
    if not isinstance(code, str) or not CODE.fullmatch(code.strip()):
        raise QrLoginError("invalid_request", "code must be the digits of the SMS")
    if not isinstance(public_key, str):
        raise QrLoginError("bad_public_key")
    parse_public_key(public_key)
    clean_name(name)
    codes = idp.onboarding.sms
    phone = account_phone(idp.sessions, idp.pii, str(record["account_id"]))
    if codes is None or not phone:
        raise QrLoginError("enrollment_not_found")
    tries = idp.store.incr(f"qr-enroll-tries:{enrollment}", codes.ttl)
    if tries > MAX_CODE_TRIES:
        idp.store.delete(key)
        raise QrLoginError("enrollment_not_found")
    if not codes.verify(phone, SMS_PURPOSE, code.strip()):
        if tries >= MAX_CODE_TRIES:
            idp.store.delete(key)
        raise QrLoginError("wrong_code", tries_left=MAX_CODE_TRIES - tries)
    if idp.store.take(key) is None:  # a concurrent finish used it
        raise QrLoginError("enrollment_not_found")
    return add_device(
        idp.sessions,
        account_id=str(record["account_id"]),
        public_key=public_key,
        name=name,
        actor=str(record.get("username") or "device-enrollment"),
    )


# signed requests -----------------------------------------------------------------------------


def _no_duplicates(pairs: builtins.list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise ValueError(f"duplicate key {name!r}")
        out[name] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_signed(body: object) -> SignedRequest:
    """The fields of a signed request's body; `QrLoginError` (`invalid_request`) otherwise.
    Never raises anything else, whatever the bytes."""
    if not isinstance(body, bytes) or not 0 < len(body) <= MAX_SIGNED_BODY:
        raise QrLoginError("invalid_request", f"the body must be 1 to {MAX_SIGNED_BODY} bytes")
    try:
        doc = json.loads(
            body.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise QrLoginError("invalid_request", "the body is not a JSON object") from None
    if not isinstance(doc, dict) or set(doc) != SIGNED_FIELDS:
        raise QrLoginError(
            "invalid_request", "the body must have exactly " + ", ".join(sorted(SIGNED_FIELDS))
        )
    device_id, ticket, action, nonce, ts = (
        doc["device_id"],
        doc["ticket"],
        doc["action"],
        doc["nonce"],
        doc["ts"],
    )
    if not isinstance(device_id, str) or not DEVICE_ID.fullmatch(device_id):
        raise QrLoginError("invalid_request", "device_id is malformed")
    if not tickets.valid_id(ticket):
        raise QrLoginError("invalid_request", "ticket is malformed")
    if action not in ACTIONS:
        raise QrLoginError("invalid_request", "action must be scan, confirm or cancel")
    if not isinstance(nonce, str) or not NONCE.fullmatch(nonce):
        raise QrLoginError("invalid_request", "nonce must be 22 to 128 base64url characters")
    if type(ts) is not int or not 0 < ts < 10**11:
        raise QrLoginError("invalid_request", "ts must be an integer of Unix seconds")
    return SignedRequest(device_id, ticket, action, nonce, ts)


def _signature_ok(row: MobileDevice, signature: bytes, body: bytes) -> bool:
    try:
        key = load_public_key(row.public_key)
        algorithm = "sm2-sm3" if row.algorithm == "SM2" else "ecdsa-sha256"
        return verify_signature(key, algorithm, signature, data=body)
    except (CertInteropError, ValueError):
        return False


def authenticate(
    sessions: sessionmaker[Session],
    body: bytes,
    signature_header: str | None,
    *,
    ticket: str,
    action: str,
) -> tuple[SignedRequest, DeviceView]:
    """The request and its device when the body parses, agrees with the URL, and carries a
    valid signature of an enrolled, unrevoked device of an enabled account."""
    request = parse_signed(body)
    if request.ticket != ticket or request.action != action:
        raise QrLoginError("request_mismatch")
    with sessions() as db:
        row = db.get(MobileDevice, request.device_id)
        account = db.get(Account, row.account_id) if row is not None else None
        if row is None or account is None or account.disabled or row.revoked_at is not None:
            raise QrLoginError("device_revoked")
        signature = b64decode(signature_header, MAX_SIGNATURE_HEADER)
        if signature is None or not _signature_ok(row, signature, body):
            raise QrLoginError("bad_signature")
        return request, _view(row, account.username)


def check_fresh(
    sessions: sessionmaker[Session], store: EphemeralStore, request: SignedRequest
) -> None:
    """An authenticated request is recent (`stale_request`) and new (`replayed`); the device's
    last use is recorded."""
    now = tickets.clock()
    if abs(now - request.ts) > MAX_SKEW:
        raise QrLoginError(
            "stale_request", f"ts is {int(request.ts - now)} s from the server's clock"
        )
    nonce_key = f"qr-nonce:{request.device_id}:{request.nonce}"
    if not store.put_if_absent(nonce_key, b"1", NONCE_TTL):
        raise QrLoginError("replayed")
    with sessions.begin() as db:
        fresh = db.get(MobileDevice, request.device_id)
        if fresh is not None:
            fresh.last_used_at = time.time()


def check_signed_request(
    sessions: sessionmaker[Session],
    store: EphemeralStore,
    body: bytes,
    signature_header: str | None,
    *,
    ticket: str,
    action: str,
) -> tuple[SignedRequest, DeviceView]:
    """The request and its device when every check of the module docstring passes."""
    request, view = authenticate(sessions, body, signature_header, ticket=ticket, action=action)
    check_fresh(sessions, store, request)
    return request, view


__all__ = [
    "ALGORITHMS",
    "DeviceView",
    "MobileDevice",
    "SignedRequest",
    "StartedEnrollment",
    "add_device",
    "authenticate",
    "check_fresh",
    "check_signed_request",
    "finish_enrollment",
    "get",
    "list_all",
    "list_for_account",
    "parse_public_key",
    "parse_signed",
    "revoke",
    "start_enrollment",
    "when",
]

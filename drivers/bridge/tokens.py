"""The tokens the bridge offers: ``--token URI`` entries and every token of ``--pkcs11-module``.

Tokens are scanned again on every listing, so a USBKey plugged in after the bridge started shows
up. Listing needs no PIN: PKCS#11 certificates are public objects, and a PKCS#8 key file's
certificate is its own file. Each signature or decryption opens the token with the PIN the
person typed in the bridge's prompt, does the one operation, and closes it (which logs out).
All token access is serialised by one lock: PKCS#11 logins are per process, so two operations
at once on one token would share a login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from asn1crypto import pem as _apem
from asn1crypto import x509 as _ax509
from pkcs11 import TokenFlag
from pkcs11 import exceptions as p11e

from drivers.api import KeyAlgorithm, KeyUsage, Token, TokenCertificate
from drivers.errors import KeyNotFound, PinRequired, TokenError, TokenNotFound
from drivers.pkcs11 import DEFAULT_MODULE_PATHS, Pkcs11Token, _load_module
from drivers.soft import MAX_FILE_BYTES
from drivers.uri import FileTokenUri, Pkcs11Uri, open_token, parse_token_uri

__all__ = ["CertificateSummary", "Listed", "TokenRegistry", "summarize"]

_T = TypeVar("_T")
_SM2_CURVE = "1.2.156.10197.1.301"
_SHORT_NAMES = {
    "common_name": "CN",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "country_name": "C",
    "state_or_province_name": "ST",
    "locality_name": "L",
    "serial_number": "SERIALNUMBER",
    "email_address": "emailAddress",
    "street_address": "STREET",
    "organization_identifier": "organizationIdentifier",
}


# --- certificates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateSummary:
    """What the bridge tells a page about a certificate."""

    subject: str
    issuer: str
    common_name: str
    serial: str
    not_before: datetime
    not_after: datetime
    key_algorithm: KeyAlgorithm
    usage: KeyUsage


def _name(name: _ax509.Name) -> str:
    """RFC 4514 order (most specific first): ``CN=张三,O=…,C=CN``."""
    parts: list[str] = []
    for rdn in reversed(list(name.chosen)):
        atvs = []
        for atv in rdn:
            kind = atv["type"]
            short = _SHORT_NAMES.get(str(kind.native), kind.dotted)
            value = atv["value"].native
            text = value if isinstance(value, str) else str(value)
            text = text.replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+")
            atvs.append(f"{short}={text}")
        parts.append("+".join(atvs))
    return ",".join(parts)


def _key_algorithm(cert: _ax509.Certificate) -> KeyAlgorithm:
    info = cert.public_key
    if info.algorithm == "rsa":
        return "rsa"
    if info.algorithm == "ec":
        params = info["algorithm"]["parameters"]
        if params.name == "named" and params.chosen.dotted == _SM2_CURVE:
            return "sm2"
        return "ec"
    raise TokenError(
        f"certificates with {info.algorithm} keys are not supported", "不支持该类型的证书密钥"
    )


def _usage(cert: _ax509.Certificate, algorithm: KeyAlgorithm) -> KeyUsage:
    ku = cert.key_usage_value
    if ku is None:
        return "sign" if algorithm == "ec" else "both"
    names = set(ku.native)
    can_sign = bool(names & {"digital_signature", "non_repudiation"})
    can_decrypt = bool(names & {"key_encipherment", "data_encipherment", "key_agreement"})
    if can_sign and not can_decrypt:
        return "sign"
    if can_decrypt and not can_sign:
        return "encrypt"
    return "both"


def _load(der: bytes) -> _ax509.Certificate:
    try:
        cert = _ax509.Certificate.load(der, strict=True)
        cert.native  # noqa: B018 - parse everything now, not on first use
    except (ValueError, TypeError) as exc:
        raise TokenError(f"a certificate cannot be read: {exc}", "证书无法解析") from None
    return cert


def summarize(der: bytes, usage: KeyUsage | None = None) -> CertificateSummary:
    """Subject, issuer, serial, validity, key algorithm and usage of a DER certificate."""
    cert = _load(der)
    algorithm = _key_algorithm(cert)
    tbs = cert["tbs_certificate"]
    cn = ""
    for rdn in cert.subject.chosen:
        for atv in rdn:
            if atv["type"].native == "common_name":
                cn = str(atv["value"].native)
    return CertificateSummary(
        subject=_name(cert.subject),
        issuer=_name(cert.issuer),
        common_name=cn,
        serial=format(int(tbs["serial_number"].native), "x").zfill(2),
        not_before=cert.not_valid_before,
        not_after=cert.not_valid_after,
        key_algorithm=algorithm,
        usage=usage or _usage(cert, algorithm),
    )


def _certificate_file(path: str) -> bytes:
    """The DER of a PEM or DER certificate file."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TokenNotFound(
            f"certificate file {path} cannot be read: {exc.strerror}", f"无法读取证书文件 {path}"
        ) from None
    if _apem.detect(data):
        try:
            _kind, _headers, data = _apem.unarmor(data)
        except ValueError:
            raise TokenError(f"{path} is not a certificate file", f"{path} 不是证书文件") from None
    return bytes(data)


# --- sources ---------------------------------------------------------------------------------


class Source(Protocol):
    """One token: how to open it, and whether its operations need a PIN from the prompt."""

    @property
    def key(self) -> str:
        """Stable text identifying the token (never a PIN); part of certificate ids."""
        ...

    @property
    def where(self) -> str:
        """Short description for logs."""
        ...

    def open(self, pin: str | None) -> Token: ...


@dataclass(frozen=True)
class _UriSource:
    uri: str
    key: str
    where: str
    module_paths: Sequence[str]
    has_pin: bool
    """The URI carries its own PIN (``pin-source`` / ``pin-value``): never pass another."""

    def open(self, pin: str | None) -> Token:
        return open_token(
            self.uri, pin=None if self.has_pin else pin, module_paths=self.module_paths
        )


@dataclass(frozen=True)
class _ModuleTokenSource:
    module_path: str
    label: str
    serial: str
    key: str
    where: str

    def open(self, pin: str | None) -> Token:
        return Pkcs11Token(
            pin=pin, module_path=self.module_path, token_label=self.label, serial=self.serial
        )


@dataclass(frozen=True)
class Listed:
    """A certificate the bridge offers."""

    id: str
    source: Source
    entry: TokenCertificate
    """As listed; ``key_id`` may be empty for a locked key file (found again when opened)."""
    needs_pin: bool
    summary: CertificateSummary


@dataclass
class _Found:
    source: Source
    entries: list[TokenCertificate]
    needs_pin: bool


class TokenRegistry:
    """Lists the certificates of every configured token and runs one operation on one of them."""

    def __init__(
        self,
        uris: Sequence[str] = (),
        modules: Sequence[str] = (),
        *,
        module_paths: Sequence[str] = DEFAULT_MODULE_PATHS,
        warn: Callable[[str], None] = lambda _m: None,
    ) -> None:
        """Token URIs are parsed now (a bad one is an error at start-up); tokens are not
        opened until the first listing."""
        self._id_key = secrets.token_bytes(32)
        self._lock = threading.RLock()
        self._warn = warn
        self._warned: set[str] = set()
        self._modules = list(dict.fromkeys(modules))
        self._module_paths = tuple(module_paths)
        self._uri_sources: list[_UriSource] = []
        for n, uri in enumerate(uris):
            parsed = parse_token_uri(uri)
            has_pin = parsed.pin_source is not None or (
                isinstance(parsed, Pkcs11Uri) and parsed.pin_value is not None
            )
            if isinstance(parsed, FileTokenUri):
                where = f"key file {parsed.path.name}"
            else:
                where = f"PKCS#11 token {parsed.token or parsed.serial or '(any)'}"
            self._uri_sources.append(
                _UriSource(uri, f"uri#{n}:{where}", where, self._module_paths, has_pin)
            )
        self._by_id: dict[str, Listed] = {}

    def _warn_once(self, text: str) -> None:
        if text not in self._warned:
            self._warned.add(text)
            self._warn(text)

    # --- scanning --------------------------------------------------------------------------

    def _scan_uri(self, source: _UriSource) -> _Found | None:
        try:
            token = source.open(None)
        except PinRequired:
            parsed = parse_token_uri(source.uri)
            if isinstance(parsed, FileTokenUri) and parsed.cert is not None:
                der = _certificate_file(str(parsed.cert))
                summary = summarize(der)
                entry = TokenCertificate(
                    label=summary.common_name or parsed.path.name,
                    key_id=b"",
                    certificate=der,
                    key_algorithm=summary.key_algorithm,
                    usage=summary.usage,
                )
                return _Found(source, [entry], True)
            self._warn_once(
                f"{source.where}: a password-protected PKCS#12 file shows its certificate only "
                "with the password; add pin-source=file:PATH to the URI or use a PKCS#8 key file "
                "with its certificate file (file:KEY.pem?cert=CERT.pem)"
            )
            return None
        except TokenNotFound:
            return None  # USBKey not inserted, file gone: nothing to list right now
        try:
            entries = token.certificates()
            if source.has_pin:
                needs_pin = False
            elif isinstance(token, Pkcs11Token):
                needs_pin = bool(getattr(token, "_login_required", True))
            else:
                needs_pin = False  # a key file that opened without a password
        finally:
            token.close()
        return _Found(source, entries, needs_pin)

    def _scan_module(self, module_path: str) -> list[_Found]:
        try:
            lib = _load_module(module_path)
            tokens = [slot.get_token() for slot in lib.get_slots(token_present=True)]
        except TokenError as exc:
            self._warn_once(f"PKCS#11 module {module_path}: {exc.message}")
            return []
        except p11e.PKCS11Error as exc:
            self._warn_once(f"PKCS#11 module {module_path}: {type(exc).__name__}")
            return []
        out: list[_Found] = []
        for tok in tokens:
            label = tok.label.strip()
            serial = tok.serial.decode("ascii", "replace")
            flags = int(tok.flags)
            if not flags & TokenFlag.TOKEN_INITIALIZED:
                continue
            source = _ModuleTokenSource(
                module_path,
                label,
                serial,
                f"module:{module_path}:{serial}:{label}",
                f"PKCS#11 token {label}",
            )
            try:
                opened = source.open(None)
            except TokenNotFound:
                continue
            try:
                entries = opened.certificates()
            finally:
                opened.close()
            needs_pin = bool(flags & TokenFlag.LOGIN_REQUIRED) and not (
                flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH
            )
            out.append(_Found(source, entries, needs_pin))
        return out

    def _cert_id(self, source: Source, der: bytes) -> str:
        mac = hmac.new(self._id_key, source.key.encode() + b"\0" + der, hashlib.sha256)
        return mac.hexdigest()[:32]

    def scan(self) -> tuple[int, list[Listed]]:
        """(number of tokens present, their certificates); a certificate found on two
        tokens is listed once."""
        with self._lock:
            found: list[_Found] = []
            for source in self._uri_sources:
                try:
                    item = self._scan_uri(source)
                except TokenError as exc:
                    self._warn_once(f"{source.where}: {exc.message}")
                    item = None
                if item is not None:
                    found.append(item)
            for module in self._modules:
                found.extend(self._scan_module(module))
            listed: list[Listed] = []
            seen: set[bytes] = set()
            for item in found:
                for entry in item.entries:
                    if entry.certificate in seen:
                        continue
                    seen.add(entry.certificate)
                    try:
                        summary = summarize(entry.certificate, entry.usage)
                    except TokenError:
                        continue
                    cert_id = self._cert_id(item.source, entry.certificate)
                    listed.append(Listed(cert_id, item.source, entry, item.needs_pin, summary))
            self._by_id.update({x.id: x for x in listed})
            return len(found), listed

    def find(self, cert_id: str) -> Listed | None:
        """The certificate with this id (scanning again when it is not known yet)."""
        with self._lock:
            listed = self._by_id.get(cert_id)
            if listed is None:
                self.scan()
                listed = self._by_id.get(cert_id)
            return listed

    # --- operations ------------------------------------------------------------------------

    def run(
        self,
        listed: Listed,
        pin: str | None,
        operation: Callable[[Token, TokenCertificate], _T],
    ) -> _T:
        """Open the certificate's token with ``pin``, run ``operation`` with the token and the
        certificate's entry (its key id), close the token."""
        with self._lock:
            token = listed.source.open(pin if listed.needs_pin else None)
            try:
                entries = [
                    e for e in token.certificates() if e.certificate == listed.entry.certificate
                ]
                entry = next(
                    (e for e in entries if e.key_id == listed.entry.key_id),
                    entries[0] if entries else None,
                )
                if entry is None:
                    raise KeyNotFound(
                        "the token no longer holds the key of this certificate",
                        "USBKey 中已没有该证书对应的密钥",
                    )
                return operation(token, entry)
            finally:
                token.close()

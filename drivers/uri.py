"""Token URIs: one string in settings or on the command line says which key to use.

- ``file:PATH.p12`` / ``file:PATH.pfx`` — a PKCS#12 file;
- ``file:KEY.pem?cert=CERT.pem`` — a PKCS#8 key file and its certificate file;
  both take ``pin-source=file:PATH`` (the PIN is the file password). ``file:///abs/path`` and
  ``file:relative/path`` both work; percent-encode ``?``, ``&``, ``%`` and ``#`` in names.
- ``pkcs11:token=Huren;object=platform?module-path=/usr/lib/softhsm/libsofthsm2.so`` — RFC 7512.
  Path attributes: ``token``, ``manufacturer``, ``serial``, ``model``, ``library-manufacturer``,
  ``library-description``, ``slot-id``, ``object``, ``id`` (percent-encoded bytes), ``type``
  (``private`` or ``cert``). Query attributes: ``module-path``, ``module-name``,
  ``pin-source`` (``file:PATH`` or an absolute path), ``pin-value``, and Huren's vendor
  attributes for SM2 mechanism numbers: ``x-sm2-sign``, ``x-sm2-sign-sm3``, ``x-sm2-decrypt``,
  ``x-sm2-key-type``, ``x-sm2-cipher``, ``x-sm2-signature`` (see
  :class:`drivers.pkcs11.Sm2Mechanisms`).

Parsing is strict: unknown or repeated attributes, characters RFC 7512 wants percent-encoded,
bad percent escapes and non-UTF-8 text are errors (``InvalidTokenUri``) that name the attribute.
Two leniencies, both common in the wild: ``/`` may appear unencoded in path values, and the query
attributes may also be written as path attributes (``pkcs11:token=X;module-path=/usr/lib/…``).
Error messages never repeat a PIN.
"""

from __future__ import annotations

import os
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from drivers.api import Token
from drivers.errors import InvalidTokenUri, TokenError
from drivers.pkcs11 import DEFAULT_MODULE_PATHS, Pkcs11Token, parse_sm2_mechanisms
from drivers.soft import PKCS12_SUFFIXES, SoftToken

__all__ = [
    "FileTokenUri",
    "Pkcs11Uri",
    "open_token",
    "parse_token_uri",
]

MAX_URI_CHARS = 4096
MAX_PIN_FILE_BYTES = 4096

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_PATH_CHARS = _UNRESERVED | frozenset(":[]@!$'()*+,=/")  # RFC 7512 pk11-pchar, plus "/"
_QUERY_CHARS = _UNRESERVED | frozenset(":[]@!$'()*+,=/?|")  # pk11-qchar
_FILE_CHARS = _UNRESERVED | frozenset(":[]@!$'()*+,=/;")

_PATH_ATTRS = (
    "token",
    "manufacturer",
    "serial",
    "model",
    "library-manufacturer",
    "library-description",
    "slot-id",
    "object",
    "id",
    "type",
)
_UNSUPPORTED_ATTRS = ("library-version", "slot-description", "slot-manufacturer")
_SM2_ATTRS = {
    "x-sm2-sign": "sign",
    "x-sm2-sign-sm3": "sign-sm3",
    "x-sm2-decrypt": "decrypt",
    "x-sm2-key-type": "key-type",
    "x-sm2-cipher": "cipher",
    "x-sm2-signature": "signature",
}
_QUERY_ATTRS = ("module-path", "module-name", "pin-source", "pin-value", *_SM2_ATTRS)
_SECRET_ATTRS = frozenset({"pin-value"})


@dataclass(frozen=True)
class FileTokenUri:
    """A parsed ``file:`` token URI."""

    path: Path
    cert: Path | None
    """The certificate file for a PKCS#8 key file; None for PKCS#12."""
    pin_source: Path | None = None

    @property
    def kind(self) -> Literal["pkcs12", "pkcs8"]:
        return "pkcs12" if self.cert is None else "pkcs8"


@dataclass(frozen=True)
class Pkcs11Uri:
    """A parsed RFC 7512 ``pkcs11:`` URI (only the attributes Huren uses)."""

    token: str | None = None
    manufacturer: str | None = None
    serial: str | None = None
    model: str | None = None
    library_manufacturer: str | None = None
    library_description: str | None = None
    slot_id: int | None = None
    object: str | None = None
    id: bytes | None = None
    type: Literal["private", "cert"] | None = None
    module_path: str | None = None
    module_name: str | None = None
    pin_source: Path | None = None
    pin_value: str | None = field(default=None, repr=False)
    sm2: str = ""
    """SM2 mechanism settings in :func:`drivers.pkcs11.parse_sm2_mechanisms` form."""


def _fail(message: str, message_zh: str | None = None) -> InvalidTokenUri:
    return InvalidTokenUri(message, message_zh or f"证书介质地址（URI）格式错误：{message}")


def _decode(raw: str, allowed: frozenset[str], what: str) -> bytes:
    """Percent-decode ``raw``; every other character must be in ``allowed``."""
    out = bytearray()
    i = 0
    secret = what in _SECRET_ATTRS
    while i < len(raw):
        ch = raw[i]
        if ch == "%":
            pair = raw[i + 1 : i + 3]
            if len(pair) != 2 or any(c not in string.hexdigits for c in pair):
                raise _fail(f"{what}: bad percent escape (use %XX with two hex digits)")
            out.append(int(pair, 16))
            i += 3
            continue
        if ch not in allowed:
            shown = "" if secret else f" {ch!r}"
            raise _fail(f"{what}: character{shown} must be percent-encoded")
        out.extend(ch.encode("ascii"))
        i += 1
    return bytes(out)


def _text(raw: str, allowed: frozenset[str], what: str) -> str:
    data = _decode(raw, allowed, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(f"{what}: not UTF-8 text") from None
    if "\x00" in text:
        raise _fail(f"{what}: contains a NUL character")
    return text


def _pairs(part: str, sep: str, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if part == "":
        return out
    for item in part.split(sep):
        if not item:
            raise _fail(f"empty {where} attribute (stray {sep!r})")
        name, eq, value = item.partition("=")
        if not eq:
            raise _fail(f"a {where} attribute has no '=' and value")
        if not name:
            raise _fail(f"{where} attribute without a name")
        out.append((name, value))
    return out


def _pin_source(value: str, what: str) -> Path:
    if value.startswith("|"):
        raise _fail(f"{what}: running a command for the PIN is not supported; use file:PATH")
    if value.lower().startswith("file:"):
        path = value[5:]
        if path.startswith("//"):
            host, slash, rest = path[2:].partition("/")
            if host not in ("", "localhost") or not slash:
                raise _fail(f"{what}: only local files are supported")
            path = "/" + rest
    elif value.startswith("/"):
        path = value
    else:
        raise _fail(f"{what}: must be file:PATH or an absolute path")
    if not path:
        raise _fail(f"{what}: empty path")
    return Path(path)


def parse_token_uri(uri: str) -> FileTokenUri | Pkcs11Uri:
    """Parse a ``file:`` or ``pkcs11:`` token URI; any problem → ``InvalidTokenUri``."""
    if not isinstance(uri, str):
        raise _fail("a token URI must be a string")
    if len(uri) > MAX_URI_CHARS:
        raise _fail(f"token URI longer than {MAX_URI_CHARS} characters")
    if "#" in uri:
        raise _fail("token URIs take no fragment ('#'); percent-encode it as %23")
    scheme, colon, rest = uri.partition(":")
    if not colon:
        raise _fail("token URI needs a scheme: file: or pkcs11:")
    if scheme.lower() == "pkcs11":
        return _parse_pkcs11(rest)
    if scheme.lower() == "file":
        return _parse_file(rest)
    if scheme.lower() == "skf":
        # the seam for GM/T 0016 (SKF) USBKeys: a backend beside pkcs11.py/soft.py that
        # implements `Token` over the vendor's SKF library will be dispatched from here
        raise _fail(
            "SKF (GM/T 0016) USBKeys are not supported yet: use the PKCS#11 module the vendor "
            "ships with the key (pkcs11:...;module-path=/path/to/vendor-pkcs11.so)",
            "暂不支持 SKF（GM/T 0016）接口的 USB Key：请使用厂商随 Key 提供的 PKCS#11 模块"
            "（pkcs11:...;module-path=厂商模块路径）",
        )
    raise _fail("token URI scheme must be file: or pkcs11:")


def _parse_file(rest: str) -> FileTokenUri:
    path_part, _q, query = rest.partition("?")
    if path_part.startswith("//"):
        host, slash, tail = path_part[2:].partition("/")
        if host.lower() not in ("", "localhost") or not slash:
            raise _fail("file: URI: only local files are supported (file:///path or file:path)")
        path_part = "/" + tail
    path = _text(path_part, _FILE_CHARS, "file path")
    if not path:
        raise _fail("file: URI without a path")
    values: dict[str, str] = {}
    for name, raw in _pairs(query, "&", "file: query"):
        if name not in ("cert", "pin-source"):
            raise _fail(f"file: URI: unknown attribute {name[:40]!r} (known: cert, pin-source)")
        if name in values:
            raise _fail(f"file: URI: {name} given twice")
        values[name] = _text(raw, _QUERY_CHARS, name)
        if not values[name]:
            raise _fail(f"file: URI: {name} is empty")
    pin_source = _pin_source(values["pin-source"], "pin-source") if "pin-source" in values else None
    is_p12 = path.lower().endswith(PKCS12_SUFFIXES)
    cert = values.get("cert")
    if is_p12 and cert is not None:
        raise _fail("file: URI: a PKCS#12 file holds its certificate; drop cert=")
    if not is_p12 and cert is None:
        raise _fail(
            "file: URI: a key file needs its certificate (file:KEY.pem?cert=CERT.pem); "
            "PKCS#12 files must end in .p12 or .pfx"
        )
    return FileTokenUri(Path(path), Path(cert) if cert is not None else None, pin_source)


def _parse_pkcs11(rest: str) -> Pkcs11Uri:
    path_part, _q, query = rest.partition("?")
    seen: dict[str, str] = {}
    id_value: bytes | None = None
    items = [(n, v, "path") for n, v in _pairs(path_part, ";", "path")]
    items += [(n, v, "query") for n, v in _pairs(query, "&", "query")]
    for name, raw, where in items:
        if name in _UNSUPPORTED_ATTRS:
            raise _fail(f"pkcs11: URI attribute {name} is not supported by Huren")
        if name in seen or (name == "id" and id_value is not None):
            raise _fail(f"pkcs11: URI attribute {name} given twice")
        if name in _PATH_ATTRS:
            if where != "path":
                raise _fail(f"pkcs11: URI attribute {name} belongs in the path (before '?')")
            if name == "id":
                id_value = _decode(raw, _PATH_CHARS, name)
                if not id_value:
                    raise _fail("pkcs11: URI attribute id is empty")
                continue
            seen[name] = _text(raw, _PATH_CHARS, name)
        elif name in _QUERY_ATTRS:
            seen[name] = _text(raw, _QUERY_CHARS if where == "query" else _PATH_CHARS, name)
        else:
            raise _fail(f"pkcs11: URI: unknown attribute {name[:40]!r}")
        if not seen[name]:
            raise _fail(f"pkcs11: URI attribute {name} is empty")

    slot_id: int | None = None
    if "slot-id" in seen:
        text = seen["slot-id"]
        if not text.isascii() or not text.isdigit() or int(text) > 0xFFFFFFFFFFFFFFFF:
            raise _fail("pkcs11: URI attribute slot-id must be a decimal number")
        slot_id = int(text)
    kind = seen.get("type")
    if kind is not None and kind not in ("private", "cert"):
        raise _fail(
            f"pkcs11: URI type={kind[:20]!r} cannot name a signing or decryption key "
            "(use private or cert)"
        )
    module_path = seen.get("module-path")
    if module_path is not None and not os.path.isabs(module_path):
        raise _fail("pkcs11: URI module-path must be an absolute path")
    module_name = seen.get("module-name")
    if module_name is not None and ("/" in module_name or module_name in (".", "..")):
        raise _fail("pkcs11: URI module-name is a name, not a path (use module-path)")
    if "pin-source" in seen and "pin-value" in seen:
        raise _fail("pkcs11: URI gives both pin-source and pin-value")
    sm2 = ",".join(f"{_SM2_ATTRS[k]}={v}" for k, v in seen.items() if k in _SM2_ATTRS)
    if sm2:
        try:
            parse_sm2_mechanisms(sm2)
        except TokenError as exc:  # same text, URI error type
            raise _fail(f"pkcs11: URI SM2 settings: {exc}") from None
    return Pkcs11Uri(
        token=seen.get("token"),
        manufacturer=seen.get("manufacturer"),
        serial=seen.get("serial"),
        model=seen.get("model"),
        library_manufacturer=seen.get("library-manufacturer"),
        library_description=seen.get("library-description"),
        slot_id=slot_id,
        object=seen.get("object"),
        id=id_value,
        type="private" if kind == "private" else "cert" if kind == "cert" else None,
        module_path=module_path,
        module_name=module_name,
        pin_source=_pin_source(seen["pin-source"], "pin-source") if "pin-source" in seen else None,
        pin_value=seen.get("pin-value"),
        sm2=sm2,
    )


def _read_pin(path: Path) -> str:
    """The PIN in a pin-source file: its text without one trailing newline."""
    try:
        if path.stat().st_size > MAX_PIN_FILE_BYTES:
            raise _fail(f"pin-source file {path} is too large")
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(f"pin-source file {path} cannot be read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(f"pin-source file {path} is not UTF-8 text") from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    return text


def open_token(
    uri: str,
    *,
    pin: str | None = None,
    module_paths: Sequence[str] = DEFAULT_MODULE_PATHS,
) -> Token:
    """Open the token a URI names.

    ``pin`` is the user PIN (key-file password); it may instead come from the URI's
    ``pin-source`` / ``pin-value``, but not from both. ``module_paths`` are the PKCS#11 modules
    probed when the URI names none.
    """
    parsed = parse_token_uri(uri)
    uri_pin: str | None = None
    if parsed.pin_source is not None:
        uri_pin = _read_pin(parsed.pin_source)
    elif isinstance(parsed, Pkcs11Uri) and parsed.pin_value is not None:
        uri_pin = parsed.pin_value
    if pin is not None and uri_pin is not None:
        raise _fail("the PIN is given both in the token URI and by the caller; give it once")
    if pin is None:
        pin = uri_pin
    if isinstance(parsed, FileTokenUri):
        if parsed.cert is None:
            return SoftToken.open_pkcs12(parsed.path, pin)
        return SoftToken.open_key_file(parsed.path, parsed.cert, pin)
    return Pkcs11Token(
        pin=pin,
        token_label=parsed.token,
        serial=parsed.serial,
        manufacturer=parsed.manufacturer,
        model=parsed.model,
        slot_id=parsed.slot_id,
        library_manufacturer=parsed.library_manufacturer,
        library_description=parsed.library_description,
        module_path=parsed.module_path,
        module_name=parsed.module_name,
        module_paths=module_paths,
        object_label=parsed.object,
        object_id=parsed.id,
        sm2=parse_sm2_mechanisms(parsed.sm2),
    )

"""Distinguished names: an ordered list of attributes, built and read with ``asn1crypto``.

Attribute types are given as short names (``CN``, ``O``, ``OU``, ``C``, ``serialNumber``, …) or
dotted OIDs. ``C`` and ``serialNumber`` are written as PrintableString (X.520), ``emailAddress`` and
``DC`` as IA5String, everything else as UTF8String, one attribute per RDN, in the order given
(most significant first, as in the DER: ``C``, ``O``, ``OU``, ``CN``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from asn1crypto import core as _core
from asn1crypto import x509 as _x509

from cert_interop.errors import MalformedInput

__all__ = [
    "Name",
    "NameAttribute",
    "NameSpec",
    "build_name",
    "name_from_asn1",
    "normalize_value",
    "oid_of",
]

NameSpec = Sequence[tuple[str, str]]

# short name → (OID, asn1crypto name)
_SHORT: dict[str, tuple[str, str]] = {
    "CN": ("2.5.4.3", "common_name"),
    "SN": ("2.5.4.4", "surname"),
    "serialNumber": ("2.5.4.5", "serial_number"),
    "C": ("2.5.4.6", "country_name"),
    "L": ("2.5.4.7", "locality_name"),
    "ST": ("2.5.4.8", "state_or_province_name"),
    "STREET": ("2.5.4.9", "street_address"),
    "O": ("2.5.4.10", "organization_name"),
    "OU": ("2.5.4.11", "organizational_unit_name"),
    "title": ("2.5.4.12", "title"),
    "GN": ("2.5.4.42", "given_name"),
    "organizationIdentifier": ("2.5.4.97", "organization_identifier"),
    "emailAddress": ("1.2.840.113549.1.9.1", "email_address"),
    "DC": ("0.9.2342.19200300.100.1.25", "domain_component"),
    "UID": ("0.9.2342.19200300.100.1.1", "user_id"),
}
_BY_OID: dict[str, str] = {oid: short for short, (oid, _) in _SHORT.items()}
_LOWER: dict[str, str] = {short.lower(): short for short in _SHORT}
_PRINTABLE_OIDS = frozenset({"2.5.4.5", "2.5.4.6"})
_IA5_OIDS = frozenset({"1.2.840.113549.1.9.1", "0.9.2342.19200300.100.1.25"})


_SPACES = re.compile(r"\s+")


def normalize_value(value: str) -> str:
    """RFC 5280 §7.1 comparison form, approximating LDAP StringPrep (RFC 4518): NFKC, case
    folded, insignificant spaces removed. Chinese CAs encode the same DN as PrintableString in
    one place and UTF8String in another, and vary case and spacing between CA and leaf."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()


def oid_of(attr_type: str) -> str:
    """Dotted OID of a short attribute name (case-insensitive) or of a dotted OID."""
    short = _LOWER.get(attr_type.lower())
    if short is not None:
        return _SHORT[short][0]
    parts = attr_type.split(".")
    if len(parts) >= 2 and all(p.isdigit() for p in parts):
        return attr_type
    raise MalformedInput(f"unknown name attribute type {attr_type!r}")


@dataclass(frozen=True)
class NameAttribute:
    oid: str
    name: str
    """Short name (``CN``) or the dotted OID when the type has none."""
    value: str
    """The decoded string; bytes that are not a string type come as hex."""


_ESCAPE = {",", "+", '"', "\\", "<", ">", ";"}


def _escape(value: str) -> str:
    out = "".join("\\" + ch if ch in _ESCAPE else ch for ch in value)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


@dataclass(frozen=True)
class Name:
    """A distinguished name in DER order (most significant attribute first)."""

    attributes: tuple[NameAttribute, ...]
    der: bytes

    @cached_property
    def normalized(self) -> tuple[tuple[str, str], ...]:
        """(OID, normalised value) pairs in DER order: the key for name chaining."""
        return tuple((a.oid, normalize_value(a.value)) for a in self.attributes)

    def matches(self, other: Name) -> bool:
        """Same name under RFC 5280 §7.1 comparison (byte-equal DER is the fast path)."""
        return self.der == other.der or self.normalized == other.normalized

    def get(self, attr_type: str) -> list[str]:
        """Values of one attribute type (short name or OID), in DER order."""
        oid = oid_of(attr_type)
        return [a.value for a in self.attributes if a.oid == oid]

    @property
    def common_name(self) -> str | None:
        values = self.get("CN")
        return values[-1] if values else None

    @property
    def rfc4514(self) -> str:
        """RFC 4514 string: least significant first (``CN=…,O=…,C=CN``)."""
        return ",".join(f"{a.name}={_escape(a.value)}" for a in reversed(self.attributes))

    def __str__(self) -> str:
        return self.rfc4514

    def as_list(self) -> list[list[str]]:
        return [[a.name, a.value] for a in self.attributes]


def _decode_value(value: Any) -> str:
    try:
        native = value.native
    except Exception:
        native = None
    if isinstance(native, str):
        return native
    if isinstance(native, bytes):
        return native.hex()
    return bytes(value.dump()).hex()


def name_from_asn1(name: _x509.Name) -> Name:
    """Our :class:`Name` from an ``asn1crypto`` one (which must already parse)."""
    attrs: list[NameAttribute] = []
    chosen = name.chosen
    for rdn in chosen:
        for atv in rdn:
            oid = atv["type"].dotted
            attrs.append(
                NameAttribute(
                    oid=oid, name=_BY_OID.get(oid, oid), value=_decode_value(atv["value"])
                )
            )
    return Name(attributes=tuple(attrs), der=bytes(name.dump()))


def _atv(attr_type: str, value: str) -> _x509.NameTypeAndValue:
    if not isinstance(value, str) or not value:
        raise MalformedInput(f"name attribute {attr_type} needs a non-empty string value")
    oid = oid_of(attr_type)
    short = _BY_OID.get(oid)
    type_name = _SHORT[short][1] if short else oid
    encoded: Any
    if oid in _PRINTABLE_OIDS:
        if oid == "2.5.4.6" and len(value) != 2:
            raise MalformedInput("country (C) must be two letters")
        encoded = _x509.DirectoryString(name="printable_string", value=value)
    elif oid in _IA5_OIDS:
        encoded = _x509.EmailAddress(value) if oid.startswith("1.2.840") else _x509.DNSName(value)
    elif short is not None:
        encoded = _x509.DirectoryString(name="utf8_string", value=value)
    else:
        encoded = _core.UTF8String(value)
    try:
        return _x509.NameTypeAndValue({"type": type_name, "value": encoded})
    except Exception as exc:
        raise MalformedInput(f"cannot encode name attribute {attr_type}: {exc}") from exc


def build_name(spec: NameSpec | Iterable[tuple[str, str]]) -> _x509.Name:
    """An ``asn1crypto`` Name, one attribute per RDN, in the order given."""
    rdns = [_x509.RelativeDistinguishedName([_atv(t, v)]) for t, v in spec]
    if not rdns:
        raise MalformedInput("a name needs at least one attribute")
    return _x509.Name(name="", value=_x509.RDNSequence(rdns))

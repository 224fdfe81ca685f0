"""Name constraints (RFC 5280 §4.2.1.10): a CA limits the names of everything issued below it.

Provincial and sector CAs are cross-certified or subordinated under constraints ("only
``O=…,C=CN`` names", "only ``.gzggzy.cn`` hosts"); a validator that ignores the extension would
accept a constrained CA's certificate for any name, and one that does not know it must refuse
every such CA (the extension is critical). Supported forms: directoryName (RDN prefix under the
§7.1 comparison), dNSName, rfc822Name, URI (its host) and iPAddress; a constraint on another form
refuses certificates that carry a name of that form, as §4.2.1.10 asks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from asn1crypto import x509 as _x509

from cert_interop.errors import MalformedInput
from cert_interop.x509 import Certificate
from cert_interop.x509.names import name_from_asn1

__all__ = ["OID_NAME_CONSTRAINTS", "NameConstraints", "Subtree", "parse_name_constraints"]

OID_NAME_CONSTRAINTS = "2.5.29.30"
_OID_EMAIL_ATTRIBUTE = "1.2.840.113549.1.9.1"
_KINDS = {
    "directory_name": "dirname",
    "dns_name": "dns",
    "rfc822_name": "email",
    "uniform_resource_identifier": "uri",
    "ip_address": "ip",
}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Subtree:
    kind: str
    """``dirname``, ``dns``, ``email``, ``uri``, ``ip``, or the asn1crypto name of another
    form (``other_name``, ``registered_id`` …), which this module cannot match."""
    text: str
    """Normalised constraint value (lower-case host/domain/mailbox, CIDR for ``ip``, RFC 4514
    for ``dirname``)."""
    rdns: tuple[tuple[str, str], ...] = ()
    network: Network | None = None


@dataclass(frozen=True)
class NameConstraints:
    permitted: tuple[Subtree, ...]
    excluded: tuple[Subtree, ...]

    def violation(self, cert: Certificate) -> str | None:
        """Why ``cert``'s names break these constraints, or None when they do not."""
        names = list(_names(cert))
        for kind, value, display in names:
            for sub in self.excluded:
                if sub.kind == kind and _matches(sub, kind, value):
                    return f"its {kind} name {display!r} is in the excluded subtree {sub.text!r}"
        for kind, value, display in names:
            allowed = [s for s in self.permitted if s.kind == kind]
            if allowed and not any(_matches(s, kind, value) for s in allowed):
                listed = ", ".join(repr(s.text) for s in allowed)
                return f"its {kind} name {display!r} is outside the permitted subtrees {listed}"
        for kind, _value, display in names:
            if kind not in _KINDS.values():
                for sub in (*self.permitted, *self.excluded):
                    if sub.kind == kind:
                        return (
                            f"it carries a name of a form ({display!r}) that the CA constrains "
                            f"({sub.kind}) and this validator cannot check"
                        )
        return None


def parse_name_constraints(value_der: bytes) -> NameConstraints:
    """The extension's value (the DER inside extnValue); ``MalformedInput`` when broken."""
    try:
        parsed = _x509.NameConstraints.load(value_der)
        permitted = tuple(_subtrees(parsed["permitted_subtrees"]))
        excluded = tuple(_subtrees(parsed["excluded_subtrees"]))
        canonical = parsed.copy().dump(force=True)
    except MalformedInput:
        raise
    except Exception as exc:
        raise MalformedInput(f"nameConstraints does not parse: {exc}") from None
    if canonical != value_der:
        raise MalformedInput("nameConstraints is not DER or carries unknown fields")
    if not permitted and not excluded:
        raise MalformedInput("nameConstraints names neither permitted nor excluded subtrees")
    return NameConstraints(permitted, excluded)


def _subtrees(seq: Any) -> Iterator[Subtree]:
    if seq.native is None:
        return
    for item in seq:
        if item["minimum"].native not in (0, None) or item["maximum"].native is not None:
            raise MalformedInput("nameConstraints with minimum/maximum (RFC 5280 forbids them)")
        gn = item["base"]
        kind = _KINDS.get(gn.name, gn.name)
        if kind == "dirname":
            name = name_from_asn1(gn.chosen)
            yield Subtree(kind, name.rfc4514, rdns=name.normalized)
        elif kind == "ip":
            raw = bytes(gn.chosen.contents)
            if len(raw) not in (8, 32):
                raise MalformedInput("an iPAddress name constraint must be address + mask")
            half = len(raw) // 2
            try:
                addr = ipaddress.ip_address(raw[:half])
                mask = ipaddress.ip_address(raw[half:])
                net = ipaddress.ip_network(f"{addr}/{mask}", strict=False)
            except ValueError as exc:
                raise MalformedInput(f"bad iPAddress name constraint: {exc}") from None
            yield Subtree(kind, str(net), network=net)
        elif kind in ("dns", "email", "uri"):
            yield Subtree(kind, str(gn.native).lower())
        else:
            yield Subtree(kind, bytes(gn.chosen.dump()).hex())


def _names(cert: Certificate) -> Iterator[tuple[str, Any, str]]:
    """(form, comparable value, display) of every name the constraints apply to."""
    if cert.subject.attributes:
        yield "dirname", cert.subject.normalized, cert.subject.rfc4514
    for email in cert.subject.get(_OID_EMAIL_ATTRIBUTE):
        yield "email", email.lower(), email
    ext = cert.extension("2.5.29.17")
    if ext is None:
        return
    try:
        general_names = _x509.GeneralNames.load(ext.value_der)
        items = list(general_names)
    except Exception:
        raise MalformedInput("subjectAltName does not parse") from None
    for gn in items:
        kind = _KINDS.get(gn.name, gn.name)
        if kind == "dirname":
            name = name_from_asn1(gn.chosen)
            yield kind, name.normalized, name.rfc4514
        elif kind == "ip":
            raw = bytes(gn.chosen.contents)
            try:
                yield kind, ipaddress.ip_address(raw), str(ipaddress.ip_address(raw))
            except ValueError:
                raise MalformedInput("subjectAltName iPAddress of bad length") from None
        elif kind in ("dns", "email", "uri"):
            text = str(gn.native)
            yield kind, text.lower(), text
        else:
            yield kind, None, f"{gn.name} name"


def _under(host: str, constraint: str) -> bool:
    """dNSName semantics: the host itself or any name below it; a leading dot means below."""
    if constraint.startswith("."):
        return host.endswith(constraint)
    return host == constraint or host.endswith("." + constraint) or constraint == ""


def _matches(sub: Subtree, kind: str, value: Any) -> bool:
    if kind == "dirname":
        rdns: tuple[tuple[str, str], ...] = value
        return rdns[: len(sub.rdns)] == sub.rdns
    if kind == "dns":
        return _under(str(value).rstrip("."), sub.text)
    if kind == "email":
        mailbox = str(value)
        host = mailbox.rpartition("@")[2]
        if "@" in sub.text:
            return mailbox == sub.text
        if sub.text.startswith("."):
            return host.endswith(sub.text)
        return host == sub.text
    if kind == "uri":
        host = (urlsplit(str(value)).hostname or "").lower()
        if sub.text.startswith("."):
            return host.endswith(sub.text)
        return host == sub.text
    if kind == "ip":
        return sub.network is not None and value in sub.network
    return False

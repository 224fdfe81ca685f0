"""Profiles, rules and the identity they yield; loading a profile document.

Profile document (TOML; JSON has the same shape)::

    name = "example-ca"                      # [A-Za-z0-9._-]{1,64}
    description = "Example CA: USCC in an SM2 extension, CN = 041@code@name@seq"
    extends = ["gmt0015-2023"]               # optional: rules of these profiles follow ours

    [[rules]]
    id = "uscc-ext"                          # optional, unique in the profile
    extension = "1.2.156.10260.4.4"          # where: one of extension / subject / subject_oid
    field = "credit_code"                    # what it yields (see FIELDS)
    strip_prefix = ["N"]                     # optional: prefixes (a string or a list of strings)
    entity_type = "legal_person"             # optional hint

    [[rules]]
    subject = "CN"                           # CN, O, OU, serialNumber, … or a dotted OID
    pattern = '^041@(?P<value>[^@]+)@'       # optional regex, see below
    field = "identifier"

Rule semantics:

- ``extension``: the extension's extnValue holds a DER string (PrintableString, UTF8String, IA5,
  …) or, for kits that write it raw, the bytes themselves (UTF-8, else GB 18030). ``subject`` /
  ``subject_oid``: every value of that attribute in the subject, in DER order.
- ``pattern`` is a Python regex applied with ``re.search`` (anchor it yourself). It must have a
  group named ``value``, or else exactly one capture group; that group is the value. No match, or
  an empty group, means the rule yields nothing.
- ``strip_prefix``: when the value starts with one of these prefixes (a CA's type letter), the
  rest is tried first and the whole value second; the first that validates is taken.
- Values are stripped of surrounding whitespace; codes are upper-cased and lose ``-`` and spaces.
- ``field`` is one of :data:`FIELDS`. Two resolve by the value's shape:
  ``credit_or_organization_code`` (18 characters with a valid GB 32100 check → ``credit_code``,
  9 characters with a valid GB 11714 check → ``organization_code``; for 1.2.156.10260.4.1.4,
  which CAs use either way) and ``identifier`` (also accepts an 18-digit ID number with a valid
  GB 11643 check → ``id_number``; a value valid as two kinds is refused as ambiguous).
- Per field, the first rule (in order, own rules before ``extends``) yielding a valid value wins.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cert_interop.errors import MalformedInput
from cert_interop.x509.names import oid_of

__all__ = [
    "CODE_FIELDS",
    "ENTITY_TYPES",
    "FIELDS",
    "Identity",
    "Profile",
    "Rejection",
    "Rule",
    "load_profile",
]

ENTITY_TYPES = ("legal_person", "natural_person", "unknown")
CODE_FIELDS = (
    "credit_code",
    "organization_code",
    "business_registration_number",
    "taxpayer_number",
    "id_number",
    "passport_number",
    "social_insurance_number",
)
NAME_FIELDS = ("organization_name", "person_name", "name")
SHAPE_FIELDS = ("credit_or_organization_code", "identifier")
FIELDS = CODE_FIELDS + NAME_FIELDS + SHAPE_FIELDS
"""Values a rule's ``field`` may take."""

_PROFILE_KEYS = frozenset({"name", "description", "extends", "rules"})
_RULE_KEYS = frozenset(
    {"id", "extension", "subject", "subject_oid", "pattern", "strip_prefix", "field", "entity_type"}
)
_WHERE_KEYS = ("extension", "subject", "subject_oid")
_NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_OID_RE = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")
MAX_PATTERN = 512


@dataclass(frozen=True)
class Rule:
    id: str
    profile: str
    """Name of the profile that declared the rule (differs from the using profile via extends)."""
    source: str
    """``extension`` or ``subject``."""
    oid: str
    """Extension OID or subject attribute OID."""
    field: str
    pattern: re.Pattern[str] | None = None
    strip_prefix: tuple[str, ...] = ()
    entity_type: str | None = None

    @property
    def qualified_id(self) -> str:
        return f"{self.profile}/{self.id}"


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    rules: tuple[Rule, ...]
    """Own rules followed by the rules of each profile in ``extends``, in order."""
    extends: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejection:
    """A value a rule found but that failed validation (bad check character, wrong shape)."""

    rule: str
    field: str
    value: str
    reason: str


@dataclass(frozen=True)
class Identity:
    """The holder's identity as a profile reads it from one certificate."""

    profile: str
    entity_type: str
    """``legal_person`` (a credit code, organisation code, business registration number found),
    ``natural_person`` (ID, passport or social insurance number found), else the first hint of a
    matched rule, else ``unknown``."""
    name: str | None = None
    """The holder's name: the organisation name of a legal person (the person name otherwise),
    else a ``name`` field (e.g. the CN, whose kind is not known), else the other kind of name."""
    credit_code: str | None = None
    organization_code: str | None = None
    business_registration_number: str | None = None
    taxpayer_number: str | None = None
    id_number: str | None = None
    passport_number: str | None = None
    social_insurance_number: str | None = None
    organization_name: str | None = None
    person_name: str | None = None
    matched_rules: tuple[str, ...] = ()
    """``profile/rule-id`` of every rule that supplied a value, in order."""
    rejected: tuple[Rejection, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "entity_type": self.entity_type,
            "name": self.name,
            **{f: getattr(self, f) for f in CODE_FIELDS},
            "organization_name": self.organization_name,
            "person_name": self.person_name,
            "matched_rules": list(self.matched_rules),
            "rejected": [
                {"rule": r.rule, "field": r.field, "value": r.value, "reason": r.reason}
                for r in self.rejected
            ],
        }


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise MalformedInput(f"{where} must be a string, not {type(value).__name__}")
    return value


def _rule(raw: Any, index: int, profile: str) -> Rule:
    where = f"profile {profile!r} rule {index + 1}"
    if not isinstance(raw, dict):
        raise MalformedInput(f"{where} must be a table/object")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise MalformedInput(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_RULE_KEYS)}")
    given = [k for k in _WHERE_KEYS if k in raw]
    if len(given) != 1:
        raise MalformedInput(f"{where}: needs exactly one of {list(_WHERE_KEYS)}, got {given}")
    kind = given[0]
    loc = _str(raw[kind], f"{where}: {kind}")
    if kind == "subject":
        try:
            oid = oid_of(loc)
        except MalformedInput as exc:
            raise MalformedInput(f"{where}: {exc}") from None
        source = "subject"
    else:
        if not _OID_RE.fullmatch(loc):
            raise MalformedInput(f"{where}: {kind} must be a dotted OID, got {loc!r}")
        oid, source = loc, "extension" if kind == "extension" else "subject"
    if "field" not in raw:
        raise MalformedInput(f"{where}: missing 'field' (one of {list(FIELDS)})")
    field = _str(raw["field"], f"{where}: field")
    if field not in FIELDS:
        raise MalformedInput(f"{where}: unknown field {field!r}; allowed: {list(FIELDS)}")
    pattern: re.Pattern[str] | None = None
    if "pattern" in raw:
        text = _str(raw["pattern"], f"{where}: pattern")
        if not text or len(text) > MAX_PATTERN:
            raise MalformedInput(f"{where}: pattern must have 1..{MAX_PATTERN} characters")
        try:
            pattern = re.compile(text)
        except re.error as exc:
            raise MalformedInput(f"{where}: bad regex {text!r}: {exc}") from None
        if "value" not in pattern.groupindex and pattern.groups != 1:
            raise MalformedInput(
                f"{where}: pattern {text!r} needs a group named 'value' or exactly one capture "
                f"group (it has {pattern.groups})"
            )
    prefixes: tuple[str, ...] = ()
    if "strip_prefix" in raw:
        sp = raw["strip_prefix"]
        items = [sp] if isinstance(sp, str) else sp
        if not isinstance(items, list) or not all(isinstance(p, str) and p for p in items):
            raise MalformedInput(f"{where}: strip_prefix must be a non-empty string or a list")
        prefixes = tuple(items)
    entity_type: str | None = None
    if "entity_type" in raw:
        entity_type = _str(raw["entity_type"], f"{where}: entity_type")
        if entity_type not in ("legal_person", "natural_person"):
            raise MalformedInput(
                f"{where}: entity_type must be 'legal_person' or 'natural_person', "
                f"got {entity_type!r}"
            )
    rule_id = _str(raw["id"], f"{where}: id") if "id" in raw else f"{kind}:{loc}:{field}"
    if not rule_id:
        raise MalformedInput(f"{where}: id must not be empty")
    return Rule(rule_id, profile, source, oid, field, pattern, prefixes, entity_type)


def profile_from_dict(doc: Any, known: Mapping[str, Profile] | None = None) -> Profile:
    """A :class:`Profile` from a parsed document (dict); ``known`` resolves ``extends``."""
    if not isinstance(doc, dict):
        raise MalformedInput("a profile document must be a table/object at the top level")
    unknown = sorted(set(doc) - _PROFILE_KEYS)
    if unknown:
        raise MalformedInput(f"profile: unknown key(s) {unknown}; allowed: {sorted(_PROFILE_KEYS)}")
    if "name" not in doc:
        raise MalformedInput("profile: missing 'name'")
    name = _str(doc["name"], "profile name")
    if not _NAME_RE.fullmatch(name):
        raise MalformedInput(f"profile name {name!r} must match [A-Za-z0-9._-]{{1,64}}")
    description = _str(doc.get("description", ""), f"profile {name!r}: description")
    raw_rules = doc.get("rules", [])
    if not isinstance(raw_rules, list):
        raise MalformedInput(f"profile {name!r}: rules must be a list")
    rules = [_rule(r, i, name) for i, r in enumerate(raw_rules)]
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise MalformedInput(f"profile {name!r}: duplicate rule id(s) {dupes}")
    raw_extends = doc.get("extends", [])
    if not isinstance(raw_extends, list) or not all(isinstance(e, str) for e in raw_extends):
        raise MalformedInput(f"profile {name!r}: extends must be a list of profile names")
    extends = tuple(raw_extends)
    for base in extends:
        if base == name:
            raise MalformedInput(f"profile {name!r} cannot extend itself")
        if known is None or base not in known:
            have = sorted(known) if known else []
            raise MalformedInput(
                f"profile {name!r} extends unknown profile {base!r} (known: {have})"
            )
        rules.extend(known[base].rules)
    if not rules:
        raise MalformedInput(f"profile {name!r} has no rules")
    return Profile(name, description, tuple(rules), extends)


def load_profile(
    text: str, fmt: str = "toml", *, known: Mapping[str, Profile] | None = None
) -> Profile:
    """Parse a profile document (``fmt`` ``toml`` or ``json``); ``known`` (e.g.
    :func:`~cert_interop.profiles.builtin_profiles`) resolves ``extends``.

    Raises ``MalformedInput`` naming the problem: syntax, unknown keys, a bad regex or one
    without its capture group, an unknown field, attribute or base profile.
    """
    if not isinstance(text, str):
        raise MalformedInput("a profile document must be text")
    doc: Any
    if fmt == "toml":
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MalformedInput(f"profile is not valid TOML: {exc}") from None
    elif fmt == "json":
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise MalformedInput(f"profile is not valid JSON: {exc}") from None
    else:
        raise MalformedInput(f"profile format must be 'toml' or 'json', not {fmt!r}")
    return profile_from_dict(doc, known)

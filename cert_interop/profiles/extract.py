"""Apply a :class:`~cert_interop.profiles.model.Profile` to a certificate.

Invalid values (a bad check character, a code of the wrong shape, control characters) do not
set their field: they are recorded in :attr:`Identity.rejected` (for the shape fields
``identifier`` / ``credit_or_organization_code`` only when the value looks like a code) and a
later rule may still supply the field. Extraction never raises for what a certificate contains.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from cert_interop.profiles.checks import id_number_is_valid, org_code_is_valid, uscc_is_valid
from cert_interop.profiles.model import Identity, Profile, Rejection, Rule
from cert_interop.x509.parse import Certificate

__all__ = ["extract_identity"]

MAX_VALUE = 1024
"""Longer raw values are ignored (and never reach a rule's regex)."""
_LEGAL = ("credit_code", "organization_code", "business_registration_number")
_NATURAL = ("id_number", "passport_number", "social_insurance_number")


def _raw_values(cert: Certificate, rule: Rule) -> Iterator[str]:
    if rule.source == "subject":
        for attr in cert.subject.attributes:
            if attr.oid == rule.oid:
                yield attr.value
        return
    ext = cert.extension(rule.oid)
    if ext is None:
        return
    if ext.text is not None:
        yield ext.text
        return
    raw = ext.value_der
    for encoding in ("utf-8", "gb18030"):
        try:
            yield raw.decode(encoding)
            return
        except UnicodeDecodeError:
            continue


def _clean(value: str) -> str:
    return value.strip().strip("\x00").strip()


def _code(value: str) -> str:
    return value.upper().replace("-", "").replace(" ", "")


def _printable(value: str) -> bool:
    return all(unicodedata.category(ch)[0] != "C" for ch in value)


def _alnum(value: str, lo: int, hi: int) -> bool:
    return lo <= len(value) <= hi and value.isascii() and value.isalnum()


def _check(field: str, value: str) -> tuple[str, str] | str:
    """(resolved field, normalised value), or the reason the value is refused."""
    if not value:
        return "empty value"
    if not _printable(value):
        return "control or unassigned characters"
    if field in ("organization_name", "person_name", "name"):
        return (field, value) if len(value) <= 256 else "name longer than 256 characters"
    code = _code(value)
    if field == "credit_code":
        return (field, code) if uscc_is_valid(code) else "not a valid unified social credit code"
    if field == "organization_code":
        return (field, code) if org_code_is_valid(code) else "not a valid organisation code"
    if field == "id_number":
        return (field, code) if id_number_is_valid(code) else "not a valid resident ID number"
    if field in ("credit_or_organization_code", "identifier"):
        kinds = []
        if uscc_is_valid(code):
            kinds.append("credit_code")
        if org_code_is_valid(code):
            kinds.append("organization_code")
        if field == "identifier" and id_number_is_valid(code):
            kinds.append("id_number")
        if len(kinds) == 1:
            return (kinds[0], code)
        if kinds:
            return f"ambiguous: valid as {' and '.join(kinds)}"
        return (
            "not a valid credit code or organisation code"
            if field == "credit_or_organization_code"
            else "not a valid credit code, organisation code or ID number"
        )
    if field == "passport_number":
        return (field, code) if _alnum(code, 5, 20) else "not a passport number (5-20 A-Z0-9)"
    # business registration, taxpayer, social insurance numbers: no public check character
    return (field, code) if _alnum(code, 6, 30) else f"not a {field} (6-30 A-Z0-9)"


def _worth_reporting(field: str, raw: str) -> bool:
    """Shape fields read attributes that often hold other things (an OU naming a department):
    their refusals are recorded only for code-like values."""
    if field not in ("identifier", "credit_or_organization_code"):
        return True
    return _alnum(_code(_clean(raw)), 8, 20)


def _candidates(rule: Rule, raw: str) -> list[str]:
    if len(raw) > MAX_VALUE:
        return []
    value = raw
    if rule.pattern is not None:
        m = rule.pattern.search(raw)
        if m is None:
            return []
        group = m.group("value") if "value" in rule.pattern.groupindex else m.group(1)
        if group is None:
            return []
        value = group
    value = _clean(value)
    out = [value[len(p) :] for p in rule.strip_prefix if value.startswith(p) and value != p]
    out.append(value)
    return out


def extract_identity(cert: Certificate, profile: Profile) -> Identity:
    """The holder's identity in ``cert`` as ``profile`` reads it (see the module docstring)."""
    found: dict[str, str] = {}
    matched: list[str] = []
    rejected: list[Rejection] = []
    hints: list[str] = []
    for rule in profile.rules:
        if rule.field in found:
            continue
        for raw in _raw_values(cert, rule):
            result: tuple[str, str] | str = "no candidate"
            for candidate in _candidates(rule, raw):
                result = _check(rule.field, candidate)
                if not isinstance(result, str):
                    break
            if isinstance(result, str):
                if result != "no candidate" and _worth_reporting(rule.field, raw):
                    rejected.append(
                        Rejection(rule.qualified_id, rule.field, _clean(raw)[:MAX_VALUE], result)
                    )
                continue
            field, value = result
            if field in found:  # a shape field resolved to one already set
                continue
            found[field] = value
            matched.append(rule.qualified_id)
            if rule.entity_type is not None:
                hints.append(rule.entity_type)
            break
    if any(f in found for f in _LEGAL):
        entity_type = "legal_person"
    elif any(f in found for f in _NATURAL):
        entity_type = "natural_person"
    else:
        entity_type = hints[0] if hints else "unknown"
    order = ("person_name", "name", "organization_name")
    if entity_type == "legal_person":
        order = ("organization_name", "name", "person_name")
    name = next((found[f] for f in order if f in found), None)
    return Identity(
        profile=profile.name,
        entity_type=entity_type,
        name=name,
        organization_name=found.get("organization_name"),
        person_name=found.get("person_name"),
        matched_rules=tuple(matched),
        rejected=tuple(rejected),
        credit_code=found.get("credit_code"),
        organization_code=found.get("organization_code"),
        business_registration_number=found.get("business_registration_number"),
        taxpayer_number=found.get("taxpayer_number"),
        id_number=found.get("id_number"),
        passport_number=found.get("passport_number"),
        social_insurance_number=found.get("social_insurance_number"),
    )

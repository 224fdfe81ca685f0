"""The market-entity registry interface (§6.3.1): who a unified social credit code belongs to.

Registering a legal person, public institution or other organisation checks the declared name
and unified social credit code (USCC) against the market-entity registry: business licence,
status, dishonesty (失信) list. `Registry` is the protocol, one module per backend next to this
file (`http.py`); `verify_organisation` turns an answer into a verdict. The house rule it
enforces: a registry that cannot answer makes an organisation *pending review*, never verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from cert_interop.identifiers import normalize_code, normalize_name, uscc_problem
from idp.registry.errors import MalformedUscc, RegistryContradiction, RegistryUnavailable

__all__ = [
    "KNOWN_STATUSES",
    "REASON_CONTRADICTION",
    "REASON_DISHONEST",
    "REASON_NAME_MISMATCH",
    "REASON_NAME_MISSING",
    "REASON_NOT_FOUND",
    "REASON_UNREACHABLE",
    "REASON_USCC_MALFORMED",
    "STATUS_ACTIVE",
    "Registry",
    "RegistryRecord",
    "RegistryVerdict",
    "VerdictState",
    "canonical_uscc",
    "same_name",
    "status_reason",
    "verify_organisation",
]

STATUS_ACTIVE = "active"
"""The only status that lets an organisation be verified (存续/在业)."""

KNOWN_STATUSES = frozenset({STATUS_ACTIVE, "revoked", "cancelled", "suspended"})
"""Statuses the registry is known to send (吊销, 注销, 停业); others are accepted as long as
they are short lowercase identifiers, and reject like any non-active status."""

REASON_USCC_MALFORMED = "uscc_malformed"
REASON_NAME_MISSING = "name_missing"
REASON_UNREACHABLE = "registry_unreachable"
REASON_CONTRADICTION = "registry_contradiction"
REASON_NOT_FOUND = "registry_not_found"
REASON_NAME_MISMATCH = "registry_name_mismatch"
REASON_DISHONEST = "registry_dishonest"


@dataclass(frozen=True, kw_only=True)
class RegistryRecord:
    """What the registry says about one code, and when it said it (`fetched_at`, UTC; a cached
    record keeps the time of the request that produced it)."""

    uscc: str
    name: str
    status: str
    dishonest: bool
    """On the list of dishonest persons subject to enforcement (失信被执行人) or a similar list."""
    fetched_at: datetime
    legal_representative: str | None = None
    registered_at: date | None = None
    qualifications: tuple[str, ...] = field(default_factory=tuple)

    @property
    def active(self) -> bool:
        return self.status == STATUS_ACTIVE


class Registry(Protocol):
    """A source of market-entity records."""

    def lookup(self, uscc: str) -> RegistryRecord | None:
        """The record for `uscc` (canonical form, see `canonical_uscc`), or None when the
        registry says there is no such code.

        Raises `RegistryUnavailable` when there is no trustworthy answer (unreachable, slower
        than the timeout, garbage, a record about another code; `RegistryContradiction` when two
        answers disagree) and `MalformedUscc` for a code that is not a well-formed USCC.
        """
        ...


class VerdictState(StrEnum):
    """`verified`: may proceed; `pending`: an operator decides; `rejected`: refused."""

    VERIFIED = "verified"
    PENDING = "pending"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RegistryVerdict:
    """The outcome of `verify_organisation`: a state, stable reason codes (empty only when
    verified), and the record it rests on (None when there was none to trust)."""

    state: VerdictState
    reasons: tuple[str, ...] = ()
    record: RegistryRecord | None = None

    @property
    def verified(self) -> bool:
        return self.state is VerdictState.VERIFIED


def canonical_uscc(uscc: str) -> str:
    """`uscc` as the registry spells it (`cert_interop.identifiers.normalize_code`: NFKC, no
    whitespace, upper case), checked against GB 32100-2015 (length, alphabet, both check
    characters). Raises `MalformedUscc` otherwise, so a bad code never reaches a URL."""
    code = normalize_code(uscc)
    problem = uscc_problem(code)
    if problem is not None:
        raise MalformedUscc(f"not a unified social credit code ({problem})")
    return code


def same_name(a: str, b: str) -> bool:
    """Whether two enterprise names are the same once spelling noise (full/half-width
    characters and brackets, whitespace) is removed: `cert_interop.identifiers.normalize_name`,
    the one normaliser certificates and registration also use."""
    return normalize_name(a) == normalize_name(b)


def status_reason(status: str) -> str:
    """The reason code for a non-active registry status."""
    return f"registry_status_{status}"


def verify_organisation(registry: Registry, uscc: str, name: str) -> RegistryVerdict:
    """Check a declared organisation against the registry.

    Rejected: malformed code, empty name, unknown code, name mismatch, status other than
    active. Pending (an operator decides): registry unavailable or contradicting itself, or the
    organisation is on the dishonesty list. Verified only when the registry positively answered
    with this name, active, and not dishonest. Every applicable reason is listed.
    """
    try:
        code = canonical_uscc(uscc)
    except MalformedUscc:
        return RegistryVerdict(VerdictState.REJECTED, (REASON_USCC_MALFORMED,))
    if not normalize_name(name):
        return RegistryVerdict(VerdictState.REJECTED, (REASON_NAME_MISSING,))
    try:
        record = registry.lookup(code)
    except RegistryContradiction:
        return RegistryVerdict(VerdictState.PENDING, (REASON_CONTRADICTION,))
    except RegistryUnavailable:
        return RegistryVerdict(VerdictState.PENDING, (REASON_UNREACHABLE,))
    if record is None:
        return RegistryVerdict(VerdictState.REJECTED, (REASON_NOT_FOUND,))
    if record.uscc != code:  # a backend that answered about another code gave no answer
        return RegistryVerdict(VerdictState.PENDING, (REASON_UNREACHABLE,))
    rejecting: list[str] = []
    if not same_name(record.name, name):
        rejecting.append(REASON_NAME_MISMATCH)
    if not record.active:
        rejecting.append(status_reason(record.status))
    pending = [REASON_DISHONEST] if record.dishonest else []
    if rejecting:
        return RegistryVerdict(VerdictState.REJECTED, (*rejecting, *pending), record)
    if pending:
        return RegistryVerdict(VerdictState.PENDING, tuple(pending), record)
    return RegistryVerdict(VerdictState.VERIFIED, (), record)

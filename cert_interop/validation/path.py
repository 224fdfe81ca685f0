"""Offline path building and validation (RFC 5280 §6, the parts a CA-issued hierarchy needs).

``validate`` builds leaf → … → anchor by issuer name (RFC 5280 §7.1 comparison: NFKC,
case-folded, spaces collapsed, string type ignored) and, where both sides carry
them, authority/subject key identifiers; several candidates for one issuer are tried depth-first
(anchors before intermediates), so re-issued and cross-certified CAs work. Each edge's signature
is checked with :func:`cert_interop.x509.verify_signature` through a bounded memo
(:mod:`cert_interop.validation.cache`). On a path that reaches an anchor, checks run in this
order and the first failure is the reason:

1. validity of every certificate (anchor included) at ``at`` ± ``skew``;
2. no unknown critical extension on a certificate below the anchor (known: what x509 parses);
3. every issuer (anchor included): basicConstraints cA, keyCertSign when key usage is present,
   pathLenConstraint (self-issued intermediates are not counted);
   then name constraints of every CA (anchor included) on the certificates below it
   (self-issued intermediates excepted), see :mod:`cert_interop.validation.constraints`;
4. the leaf's key usage for ``purpose`` (absent key usage allows any purpose);
5. the leaf's extended key usage when ``extended_key_usage`` is asked (absent EKU or
   anyExtendedKeyUsage allow any);
6. revocation by the CRLs given: a CRL counts for a certificate when its issuer name is the
   certificate's issuer, its AKI (if any) matches the issuer's SKI, the issuer may sign CRLs,
   its signature verifies and ``this_update - skew <= at <= next_update + skew``; a certificate
   no given CRL covers is asked of the ``revocation`` checker (distribution-point CRLs, OCSP),
   and an ``UNKNOWN`` answer fails the path unless ``soft_fail`` allows it for that issuer.

The first path that passes is the answer. When none does, the failure of the first complete path
is returned; when no path reaches an anchor, the most telling building failure (bad signature,
then broken chain, then unknown CA). Bad chains never raise; misuse raises ``CertInteropError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from cert_interop.errors import CertInteropError, UnsupportedAlgorithm
from cert_interop.revocation.api import RevocationChecker, RevocationStatus
from cert_interop.validation.cache import SignatureCache, signature_cache
from cert_interop.validation.constraints import OID_NAME_CONSTRAINTS, parse_name_constraints
from cert_interop.validation.status import Reason, ValidationResult
from cert_interop.x509 import Certificate, Crl

__all__ = ["KNOWN_EXTENSIONS", "MAX_PATH_LENGTH", "Purpose", "validate"]

Purpose = Literal["sign", "encrypt", "any"]

MAX_PATH_LENGTH = 16
"""Longest path (certificates, anchor included) the builder explores."""

KNOWN_EXTENSIONS = frozenset(
    {
        "2.5.29.14",  # subjectKeyIdentifier
        "2.5.29.15",  # keyUsage
        "2.5.29.17",  # subjectAltName
        "2.5.29.19",  # basicConstraints
        "2.5.29.30",  # nameConstraints
        "2.5.29.32",  # certificatePolicies (any policy accepted; no explicit policy required)
        "2.5.29.31",  # cRLDistributionPoints
        "2.5.29.35",  # authorityKeyIdentifier
        "2.5.29.37",  # extKeyUsage
        "1.3.6.1.5.5.7.1.1",  # authorityInfoAccess
    }
)
ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0"
_EKU_NAMES = {
    "server_auth": "1.3.6.1.5.5.7.3.1",
    "client_auth": "1.3.6.1.5.5.7.3.2",
    "code_signing": "1.3.6.1.5.5.7.3.3",
    "email_protection": "1.3.6.1.5.5.7.3.4",
    "time_stamping": "1.3.6.1.5.5.7.3.8",
    "ocsp_signing": "1.3.6.1.5.5.7.3.9",
}
_PURPOSE_USAGES: dict[str, frozenset[str]] = {
    "sign": frozenset({"digital_signature", "non_repudiation"}),
    "encrypt": frozenset({"key_encipherment", "key_agreement", "data_encipherment"}),
}
_DOTTED = re.compile(r"^[0-2](\.\d+)+$")


@dataclass
class _Context:
    at: datetime
    skew: timedelta
    purpose: str
    eku: str | None
    require_revocation: bool
    anchor_ders: frozenset[bytes]
    issuers_by_name: dict[tuple[tuple[str, str], ...], list[Certificate]]
    crls_by_issuer: dict[tuple[tuple[str, str], ...], list[Crl]]
    cache: SignatureCache
    revocation: RevocationChecker | None = None
    soft_fail: Callable[[Certificate], bool] = lambda _issuer: False
    complete_failure: ValidationResult | None = None
    build_failure: tuple[int, int, ValidationResult] | None = None
    algorithm: str = ""


def validate(
    leaf: Certificate,
    *,
    intermediates: Sequence[Certificate] = (),
    anchors: Sequence[Certificate],
    at: datetime | None = None,
    skew: timedelta = timedelta(minutes=5),
    purpose: Purpose = "sign",
    crls: Sequence[Crl] = (),
    require_revocation: bool = False,
    extended_key_usage: str | None = None,
    cache: SignatureCache | None = None,
    revocation: RevocationChecker | None = None,
    soft_fail: bool | Callable[[Certificate], bool] = False,
) -> ValidationResult:
    """Validate ``leaf`` up to one of ``anchors`` (trusted as given: roots or intermediates).

    ``purpose``: ``sign`` needs digitalSignature or nonRepudiation, ``encrypt`` needs
    keyEncipherment, keyAgreement or dataEncipherment (so an SM2 encryption certificate is
    refused as a signer and a signing-only one as a recipient), ``any`` checks no key usage.
    ``extended_key_usage``: a dotted OID or a name (``client_auth``, ``server_auth``, …).
    ``require_revocation``: without a usable CRL for a certificate below the anchor the answer
    is ``REVOCATION_UNKNOWN``; otherwise the result only says ``revocation_checked=False``.
    ``revocation``: asked about every certificate below the anchor that no given CRL covers;
    giving it makes revocation checking required. ``soft_fail`` (a bool, or a function of the
    issuing CA certificate, so the policy can be per CA) turns an ``UNKNOWN`` answer into a
    note on the result instead of ``REVOCATION_UNKNOWN``; ``REVOKED`` always fails.
    """
    ctx = _context(
        leaf,
        intermediates,
        anchors,
        at,
        skew,
        purpose,
        crls,
        require_revocation,
        extended_key_usage,
        cache,
    )
    if revocation is not None:
        if not callable(getattr(revocation, "check", None)):
            raise CertInteropError("revocation must have a check(cert, issuer, at) method")
        ctx.revocation = revocation
    if isinstance(soft_fail, bool):
        ctx.soft_fail = (lambda _issuer: True) if soft_fail else (lambda _issuer: False)
    elif callable(soft_fail):
        ctx.soft_fail = soft_fail
    else:
        raise CertInteropError("soft_fail must be a bool or a function of the issuer certificate")
    found = _search([leaf], ctx)
    if found is not None:
        return found
    if ctx.complete_failure is not None:
        return ctx.complete_failure
    assert ctx.build_failure is not None  # _search records one whenever it returns None
    return ctx.build_failure[2]


# --- arguments -------------------------------------------------------------------------------


def _certs(value: object, what: str) -> list[Certificate]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise CertInteropError(f"{what} must be a sequence of parsed Certificate objects")
    out: list[Certificate] = []
    for item in value:
        if not isinstance(item, Certificate):
            raise CertInteropError(
                f"{what} must hold parsed Certificate objects, not {type(item).__name__}"
            )
        out.append(item)
    return out


def _crls(value: object) -> list[Crl]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise CertInteropError("crls must be a sequence of parsed Crl objects")
    out: list[Crl] = []
    for item in value:
        if not isinstance(item, Crl):
            raise CertInteropError(f"crls must hold parsed Crl objects, not {type(item).__name__}")
        out.append(item)
    return out


def _context(
    leaf: object,
    intermediates: object,
    anchors: object,
    at: object,
    skew: object,
    purpose: object,
    crls: object,
    require_revocation: object,
    eku: object,
    cache: SignatureCache | None,
) -> _Context:
    if not isinstance(leaf, Certificate):
        raise CertInteropError("leaf must be a parsed Certificate")
    inter_list = _certs(intermediates, "intermediates")
    anchor_list = _certs(anchors, "anchors")
    crl_list = _crls(crls)
    if at is None:
        at = datetime.now(UTC)
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise CertInteropError("at must be a timezone-aware datetime")
    if not isinstance(skew, timedelta) or skew < timedelta(0):
        raise CertInteropError("skew must be a non-negative timedelta")
    if purpose not in ("sign", "encrypt", "any"):
        raise CertInteropError("purpose must be 'sign', 'encrypt' or 'any'")
    if not isinstance(require_revocation, bool):
        raise CertInteropError("require_revocation must be a bool")
    eku_oid: str | None = None
    if eku is not None:
        if not isinstance(eku, str):
            raise CertInteropError("extended_key_usage must be a dotted OID or a name")
        eku_oid = _EKU_NAMES.get(eku, eku)
        if not _DOTTED.match(eku_oid):
            raise CertInteropError(
                f"extended_key_usage {eku!r} is neither a dotted OID nor one of "
                f"{sorted(_EKU_NAMES)}"
            )

    by_name: dict[tuple[tuple[str, str], ...], list[Certificate]] = {}
    seen: set[bytes] = set()
    for cert in [*anchor_list, *inter_list]:  # anchors first: shortest paths are tried first
        if cert.der in seen:
            continue
        seen.add(cert.der)
        by_name.setdefault(cert.subject.normalized, []).append(cert)
    crls_by_issuer: dict[tuple[tuple[str, str], ...], list[Crl]] = {}
    for crl in crl_list:
        crls_by_issuer.setdefault(crl.issuer.normalized, []).append(crl)
    return _Context(
        at=at,
        skew=skew,
        purpose=str(purpose),
        eku=eku_oid,
        require_revocation=require_revocation,
        anchor_ders=frozenset(c.der for c in anchor_list),
        issuers_by_name=by_name,
        crls_by_issuer=crls_by_issuer,
        cache=cache if cache is not None else signature_cache,
        algorithm=leaf.key_algorithm,
    )


# --- building --------------------------------------------------------------------------------


def _describe(chain: Sequence[Certificate], i: int, anchored: bool) -> str:
    cert = chain[i]
    if i == 0:
        role = "leaf certificate"
    elif anchored and i == len(chain) - 1:
        role = "trust anchor"
    else:
        role = f"CA certificate #{i}"
    return f"{role} '{cert.subject.rfc4514}' (serial {cert.serial_number:x})"


def _result(
    ctx: _Context,
    reason: Reason,
    detail: str,
    chain: Sequence[Certificate],
    *,
    revocation_checked: bool = False,
    notes: Sequence[str] = (),
) -> ValidationResult:
    return ValidationResult(
        valid=reason is Reason.OK,
        reason=reason,
        detail=detail,
        chain=tuple(chain),
        algorithm=ctx.algorithm,
        revocation_checked=revocation_checked,
        notes=tuple(notes),
    )


_BUILD_RANK = {Reason.UNKNOWN_CA: 1, Reason.BROKEN_CHAIN: 2, Reason.BAD_SIGNATURE: 3}


def _building_failed(
    ctx: _Context, reason: Reason, detail: str, chain: Sequence[Certificate]
) -> None:
    rank = (_BUILD_RANK.get(reason, 4), len(chain))
    if ctx.build_failure is None or rank > ctx.build_failure[:2]:
        ctx.build_failure = (*rank, _result(ctx, reason, detail, chain))


def _key_ids_match(cert: Certificate, issuer: Certificate) -> bool | None:
    """True/False when both identifiers are present, None when one is missing."""
    if cert.authority_key_identifier is None or issuer.subject_key_identifier is None:
        return None
    return cert.authority_key_identifier == issuer.subject_key_identifier


def _search(path: list[Certificate], ctx: _Context) -> ValidationResult | None:
    """Depth-first: returns the first valid result; records failures in ``ctx``."""
    top = path[-1]
    if top.der in ctx.anchor_ders:
        result = _check_path(path, ctx)
        if result.valid:
            return result
        if ctx.complete_failure is None:
            ctx.complete_failure = result
        return None
    where = _describe(path, len(path) - 1, anchored=False)
    if len(path) >= MAX_PATH_LENGTH:
        _building_failed(
            ctx,
            Reason.PATH_TOO_LONG,
            f"no trust anchor within {MAX_PATH_LENGTH} certificates above {where}",
            path,
        )
        return None
    candidates = ctx.issuers_by_name.get(top.issuer.normalized, [])
    in_path = {c.der for c in path}
    tried = False
    for issuer in candidates:
        if issuer.der in in_path:
            continue
        ids = _key_ids_match(top, issuer)
        if ids is False:
            _building_failed(
                ctx,
                Reason.BROKEN_CHAIN,
                f"{where} names issuer '{top.issuer.rfc4514}', but the certificate of that name "
                f"(serial {issuer.serial_number:x}) has key identifier "
                f"{_hex(issuer.subject_key_identifier)} where the authority key identifier is "
                f"{_hex(top.authority_key_identifier)}",
                path,
            )
            continue
        tried = True
        try:
            ok = ctx.cache.verify(top, issuer.public_key_info, issuer.public_key)
        except UnsupportedAlgorithm as exc:
            _building_failed(ctx, Reason.MALFORMED, f"{where}: {exc}", path)
            continue
        if not ok:
            reason = Reason.BAD_SIGNATURE if ids else Reason.BROKEN_CHAIN
            what = (
                "does not verify under the issuer it names (matched by name and key identifier)"
                if ids
                else "does not verify under the key of the certificate named as its issuer"
            )
            _building_failed(
                ctx,
                reason,
                f"the {top.signature_algorithm} signature of {where} {what}, "
                f"'{issuer.subject.rfc4514}' (serial {issuer.serial_number:x})",
                path,
            )
            continue
        found = _search([*path, issuer], ctx)
        if found is not None:
            return found
    if not tried and not candidates:
        anchor_hint = "" if ctx.anchor_ders else " (no trust anchors were given)"
        _building_failed(
            ctx,
            Reason.UNKNOWN_CA,
            f"issuer '{top.issuer.rfc4514}' of {where} is neither a trust anchor nor among the "
            f"intermediates given{anchor_hint}",
            path,
        )
    elif not tried and all(c.der in in_path for c in candidates):
        _building_failed(
            ctx, Reason.UNKNOWN_CA, f"the path above {where} loops without a trust anchor", path
        )
    return None


def _hex(value: bytes | None) -> str:
    return value.hex() if value is not None else "(none)"


# --- checks on a complete path ---------------------------------------------------------------


def _check_path(chain: list[Certificate], ctx: _Context) -> ValidationResult:
    last = len(chain) - 1

    def who(i: int) -> str:
        return _describe(chain, i, anchored=True)

    for i, cert in enumerate(chain):
        if ctx.at + ctx.skew < cert.not_before:
            return _result(
                ctx,
                Reason.NOT_YET_VALID,
                f"{who(i)} is not valid before {cert.not_before.isoformat()} "
                f"(checked at {ctx.at.isoformat()} with {_secs(ctx.skew)} skew)",
                chain,
            )
        if ctx.at - ctx.skew > cert.not_after:
            return _result(
                ctx,
                Reason.EXPIRED,
                f"{who(i)} expired at {cert.not_after.isoformat()} "
                f"(checked at {ctx.at.isoformat()} with {_secs(ctx.skew)} skew)",
                chain,
            )
    for i, cert in enumerate(chain[:last]):
        for ext in cert.extensions:
            if ext.critical and ext.oid not in KNOWN_EXTENSIONS:
                return _result(
                    ctx,
                    Reason.UNKNOWN_CRITICAL_EXTENSION,
                    f"{who(i)} carries the critical extension {ext.oid}, which is not understood",
                    chain,
                )
    for j in range(1, len(chain)):
        issuer = chain[j]
        bc = issuer.basic_constraints
        v1_anchor = j == last and issuer.version < 3 and bc is None
        if not v1_anchor and (bc is None or not bc.ca):
            state = "no basicConstraints" if bc is None else "basicConstraints cA=FALSE"
            return _result(
                ctx,
                Reason.NOT_A_CA,
                f"{who(j)} issued {who(j - 1)} but has {state}",
                chain,
            )
        if issuer.key_usage is not None and "key_cert_sign" not in issuer.key_usage:
            return _result(
                ctx,
                Reason.WRONG_KEY_USAGE,
                f"{who(j)} issued {who(j - 1)} but its key usage "
                f"({', '.join(sorted(issuer.key_usage))}) lacks keyCertSign",
                chain,
            )
        if bc is not None and bc.path_length is not None:
            below = sum(1 for c in chain[1:j] if not c.self_issued)
            if below > bc.path_length:
                return _result(
                    ctx,
                    Reason.PATH_TOO_LONG,
                    f"{who(j)} allows {bc.path_length} intermediate CA certificate(s) below it "
                    f"(pathLenConstraint) but the path has {below}",
                    chain,
                )
    broken = _check_name_constraints(chain, ctx, who)
    if broken is not None:
        return broken
    leaf = chain[0]
    wanted = _PURPOSE_USAGES.get(ctx.purpose)
    if wanted is not None and leaf.key_usage is not None and not (leaf.key_usage & wanted):
        return _result(
            ctx,
            Reason.WRONG_KEY_USAGE,
            f"{who(0)} has key usage {', '.join(sorted(leaf.key_usage))}; purpose "
            f"'{ctx.purpose}' needs one of {', '.join(sorted(wanted))}",
            chain,
        )
    eku = leaf.extended_key_usage
    if (
        ctx.eku is not None
        and eku is not None
        and ctx.eku not in eku
        and ANY_EXTENDED_KEY_USAGE not in eku
    ):
        return _result(
            ctx,
            Reason.WRONG_EXTENDED_KEY_USAGE,
            f"{who(0)} has extended key usage {', '.join(eku)}, not {ctx.eku}",
            chain,
        )
    return _check_revocation(chain, ctx, who)


def _check_name_constraints(
    chain: list[Certificate], ctx: _Context, who: Callable[[int], str]
) -> ValidationResult | None:
    for j in range(len(chain) - 1, 0, -1):
        ext = chain[j].extension(OID_NAME_CONSTRAINTS)
        if ext is None:
            continue
        try:
            constraints = parse_name_constraints(ext.value_der)
        except CertInteropError as exc:
            return _result(ctx, Reason.MALFORMED, f"{who(j)}: {exc}", chain)
        for i in range(j - 1, -1, -1):
            if i > 0 and chain[i].self_issued:
                continue
            try:
                why = constraints.violation(chain[i])
            except CertInteropError as exc:
                return _result(ctx, Reason.MALFORMED, f"{who(i)}: {exc}", chain)
            if why is not None:
                return _result(
                    ctx,
                    Reason.NAME_CONSTRAINTS,
                    f"{who(i)} violates the name constraints of {who(j)}: {why}",
                    chain,
                )
    return None


def _secs(skew: timedelta) -> str:
    return f"{int(skew.total_seconds())} s"


def _check_revocation(
    chain: list[Certificate], ctx: _Context, who: Callable[[int], str]
) -> ValidationResult:
    covered = 0
    notes: list[str] = []
    for i in range(len(chain) - 1):
        cert, issuer = chain[i], chain[i + 1]
        usable = [
            crl
            for crl in ctx.crls_by_issuer.get(cert.issuer.normalized, [])
            if _usable(crl, issuer, ctx)
        ]
        if usable:
            covered += 1
            for crl in usable:
                entry = crl.entry(cert.serial_number)
                if entry is not None and entry.revocation_date <= ctx.at + ctx.skew:
                    because = f" ({entry.reason})" if entry.reason else ""
                    return _result(
                        ctx,
                        Reason.REVOKED,
                        f"{who(i)} was revoked at {entry.revocation_date.isoformat()}{because} "
                        f"according to the CRL of '{crl.issuer.rfc4514}' "
                        f"(number {crl.crl_number}, this update {crl.this_update.isoformat()})",
                        chain,
                        revocation_checked=True,
                    )
            continue
        if ctx.revocation is not None:
            answer = ctx.revocation.check(cert, issuer, ctx.at)
            if answer.status is RevocationStatus.REVOKED:
                when = answer.revoked_at.isoformat() if answer.revoked_at else "an unknown time"
                because = f" ({answer.reason})" if answer.reason else ""
                return _result(
                    ctx,
                    Reason.REVOKED,
                    f"{who(i)} was revoked at {when}{because} according to {answer.source}: "
                    f"{answer.detail}",
                    chain,
                    revocation_checked=True,
                    notes=notes,
                )
            if answer.status is RevocationStatus.GOOD:
                covered += 1
                continue
            if ctx.soft_fail(issuer):
                notes.append(
                    f"revocation of {who(i)} not checked (soft-fail): {answer.source}: "
                    f"{answer.detail}"
                )
                continue
            return _result(
                ctx,
                Reason.REVOCATION_UNKNOWN,
                f"the revocation status of {who(i)} is unknown ({answer.source}: "
                f"{answer.detail}) and the policy for '{issuer.subject.rfc4514}' is hard-fail",
                chain,
                notes=notes,
            )
        if ctx.require_revocation:
            return _result(
                ctx,
                Reason.REVOCATION_UNKNOWN,
                f"no usable CRL from '{issuer.subject.rfc4514}' covers {who(i)} at "
                f"{ctx.at.isoformat()} and revocation checking is required",
                chain,
            )
    checked = len(chain) > 1 and covered == len(chain) - 1
    return _result(
        ctx,
        Reason.OK,
        f"{who(0)} chains to trust anchor '{chain[-1].subject.rfc4514}' "
        f"({len(chain)} certificates)",
        chain,
        revocation_checked=checked,
        notes=notes,
    )


def _usable(crl: Crl, issuer: Certificate, ctx: _Context) -> bool:
    aki, ski = crl.authority_key_identifier, issuer.subject_key_identifier
    if aki is not None and ski is not None and aki != ski:
        return False
    if issuer.key_usage is not None and "crl_sign" not in issuer.key_usage:
        return False
    if crl.this_update - ctx.skew > ctx.at:
        return False
    if crl.next_update is not None and ctx.at > crl.next_update + ctx.skew:
        return False
    try:
        return ctx.cache.verify(crl, issuer.public_key_info, issuer.public_key)
    except UnsupportedAlgorithm:
        return False

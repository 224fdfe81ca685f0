"""The persistent multi-CA trust store: which CAs the platform trusts, with which identity
profile and revocation policy, and validation of certificates against them.

State lives in SQL (``trusted_ca``, ``uploaded_crl``), so every worker and machine trusts the
same CAs. Each ``TrustStore`` keeps a parsed snapshot of the stored CAs, CRLs and profiles in
memory, because parsing certificates on every request would cost more than validating them; it
reloads only when ``trust_store_version`` changed, which it asks the database at most every
``refresh_interval`` seconds (changes made through the same instance are seen at once). With the
signature cache of :mod:`cert_interop.validation.cache`, a repeat validation costs a dictionary
lookup per certificate plus the identity extraction.

Policies, per stored CA:

- ``enabled``: a disabled root makes its chains ``unknown_ca``; a disabled intermediate is not
  used, not even when a caller supplies the same certificate.
- ``revocation_policy``: what an ``UNKNOWN`` answer of the injected revocation checker means for
  certificates the CA issued: ``hard`` fails the validation, ``soft`` lets it pass with a note.
  A CA the store does not hold (an intermediate the caller supplied) inherits the policy of the
  nearest stored CA above it; with none, ``hard``.
- ``profile``: how the holder's identity is read from the certificates the CA (or a CA below
  it that the store does not hold) issued.
"""

from __future__ import annotations

import builtins
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.errors import (
    AmbiguousCaReference,
    CaNameTaken,
    CertInteropError,
    CrlOutdated,
    MalformedInput,
    NotACaCertificate,
    NoTrustAnchor,
    SignatureMismatch,
    TrustStoreError,
    TrustStoreUnavailable,
    UnknownCa,
    UnknownProfile,
    UnsupportedAlgorithm,
)
from cert_interop.profiles import Profile, extract_identity
from cert_interop.revocation.api import RevocationAnswer, RevocationChecker, RevocationStatus
from cert_interop.truststore.inputs import (
    clean_name,
    is_uuid,
    looks_like_reference,
    normalize_fingerprint,
    read_certificates,
)
from cert_interop.truststore.models import VERSION_ROW, TrustedCa, TrustStoreVersion, UploadedCrl
from cert_interop.truststore.profile_files import (
    ProfileSet,
    Signature,
    directory_signature,
    load_profile_set,
)
from cert_interop.validation import (
    MAX_PATH_LENGTH,
    Purpose,
    Reason,
    SignatureCache,
    ValidationResult,
    signature_cache,
)
from cert_interop.validation import validate as validate_path
from cert_interop.x509 import Certificate, Crl, parse_certificate, parse_crl

__all__ = ["POLICIES", "CaRecord", "CrlRecord", "RevocationPolicy", "TrustStore"]

RevocationPolicy = Literal["hard", "soft"]
POLICIES: tuple[RevocationPolicy, ...] = ("hard", "soft")
MAX_NAME = 200
MAX_REASON = 1000

_NameKey = tuple[tuple[str, str], ...]


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class CaRecord:
    """A stored CA as the store reports it."""

    id: str
    name: str
    sha256_fingerprint: str
    subject: str
    """RFC 4514 subject."""
    is_anchor: bool
    """Self-signed root (a trust anchor); otherwise an intermediate chaining to one."""
    profile: str
    revocation_policy: RevocationPolicy
    enabled: bool
    added_at: datetime
    disabled_at: datetime | None
    disabled_reason: str | None
    certificate: Certificate = field(repr=False)
    already_stored: bool = False
    """Set by :meth:`TrustStore.add` when the certificate was stored before (nothing changed)."""

    @property
    def role(self) -> str:
        return "anchor" if self.is_anchor else "intermediate"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "id": self.id,
            "name": self.name,
            "sha256_fingerprint": self.sha256_fingerprint,
            "subject": self.subject,
            "issuer": self.certificate.issuer.rfc4514,
            "role": self.role,
            "profile": self.profile,
            "revocation_policy": self.revocation_policy,
            "enabled": self.enabled,
            "added_at": self.added_at.isoformat(),
            "disabled_at": self.disabled_at.isoformat() if self.disabled_at else None,
            "disabled_reason": self.disabled_reason,
            "not_before": self.certificate.not_before.isoformat(),
            "not_after": self.certificate.not_after.isoformat(),
            "key_algorithm": self.certificate.key_algorithm,
            "already_stored": self.already_stored,
        }


@dataclass(frozen=True)
class CrlRecord:
    """The CRL stored for one CA."""

    issuer_id: str
    issuer_name: str
    crl_number: int | None
    this_update: datetime
    next_update: datetime | None
    revoked_count: int
    uploaded_at: datetime
    crl: Crl = field(repr=False)
    unchanged: bool = False
    """Set by :meth:`TrustStore.upload_crl` when the very same CRL was already stored."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "issuer_id": self.issuer_id,
            "issuer_name": self.issuer_name,
            "crl_number": self.crl_number,
            "this_update": self.this_update.isoformat(),
            "next_update": self.next_update.isoformat() if self.next_update else None,
            "revoked_count": self.revoked_count,
            "uploaded_at": self.uploaded_at.isoformat(),
            "unchanged": self.unchanged,
        }


@dataclass(frozen=True)
class _Snapshot:
    version: int
    profile_signature: Signature
    by_der: Mapping[bytes, CaRecord]
    """Every stored CA, enabled or not."""
    anchors: tuple[Certificate, ...]
    intermediates: tuple[Certificate, ...]
    enabled_by_name: Mapping[_NameKey, tuple[Certificate, ...]]
    disabled_ders: frozenset[bytes]
    disabled_by_name: Mapping[_NameKey, tuple[CaRecord, ...]]
    crls: tuple[Crl, ...]
    profile_set: ProfileSet


class _OfflineChecker:
    """Without online revocation checking, a certificate no uploaded CRL covers has an unknown
    status: its CA's policy decides (hard fails, soft lets it pass with a note), exactly as when
    the CA's CRL and OCSP servers are unreachable."""

    def check(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationAnswer:
        return RevocationAnswer(
            RevocationStatus.UNKNOWN,
            "none",
            "online revocation checking is off and no uploaded CRL covers this certificate",
        )


_NO_ONLINE_CHECKS = _OfflineChecker()


class TrustStore:
    """CAs trusted by the platform, persisted in SQL, and validation against them.

    ``sessions``: the session factory of the shared database (``storage.db``). ``profiles_dir``:
    where operators put CA profile files. ``revocation``: asked about certificates no uploaded
    CRL covers (giving one makes revocation checking required; each CA's policy decides what an
    ``UNKNOWN`` answer means). ``skew``: clock tolerance for validity and CRL times.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        profiles_dir: Path | None = None,
        revocation: RevocationChecker | None = None,
        skew: timedelta = timedelta(minutes=5),
        refresh_interval: float = 1.0,
        cache: SignatureCache | None = None,
    ) -> None:
        if not isinstance(skew, timedelta) or skew < timedelta(0):
            raise CertInteropError("skew must be a non-negative timedelta")
        if refresh_interval < 0:
            raise CertInteropError("refresh_interval must not be negative")
        if revocation is not None and not callable(getattr(revocation, "check", None)):
            raise CertInteropError("revocation must have a check(cert, issuer, at) method")
        self._sessions = sessions
        self.profiles_dir = Path(profiles_dir) if profiles_dir is not None else None
        self.revocation = revocation
        self.skew = skew
        self.refresh_interval = float(refresh_interval)
        self._cache = cache if cache is not None else signature_cache
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._next_check = 0.0
        self._parsed: dict[bytes, Certificate] = {}
        self._parsed_crls: dict[bytes, Crl] = {}

    # --- reading ---------------------------------------------------------------------------

    def list(self, include_disabled: bool = False) -> builtins.list[CaRecord]:
        """Stored CAs, oldest first (of one bundle: anchors first, then by name)."""
        with self._reading() as session:
            rows = self._rows(session)
            return [self._record(r) for r in rows if include_disabled or r.enabled]

    def get(self, ref: str) -> CaRecord:
        """The CA named ``ref``, or with that id, or whose SHA-256 fingerprint is or starts with
        ``ref`` (at least 8 hex digits; colons and case do not matter)."""
        with self._reading() as session:
            return self._record(self._resolve(session, ref))

    def crls(self) -> builtins.list[CrlRecord]:
        """The stored CRLs (one per CA at most)."""
        with self._reading() as session:
            names = {r.id: r.name for r in self._rows(session)}
            rows = session.scalars(select(UploadedCrl)).all()
            return [self._crl_record(row, names.get(row.issuer_id, row.issuer_id)) for row in rows]

    def profiles(self) -> dict[str, Profile]:
        """Shipped profiles plus those in ``profiles_dir``; a broken file raises
        ``ProfileFileError`` naming it."""
        found = load_profile_set(self.profiles_dir)
        if found.errors:
            raise found.errors[0]
        return dict(found.profiles)

    def profile_files(self) -> dict[str, Path]:
        """Profile name → defining file, for the profiles that come from ``profiles_dir``."""
        return dict(load_profile_set(self.profiles_dir).files)

    # --- changing --------------------------------------------------------------------------

    def add(
        self,
        data: bytes,
        *,
        profile: str,
        revocation_policy: str = "hard",
        name: str | None = None,
    ) -> builtins.list[CaRecord]:
        """Trust the CA certificates of ``data`` (a PEM bundle or one DER certificate).

        Every certificate must be a CA certificate. A self-signed one becomes a trust anchor
        (its self-signature must verify); any other must be signed by a CA already stored or
        in the same bundle, up to an anchor. All or nothing: one refusal stores none. A
        certificate already stored is reported with ``already_stored=True`` and left as it is.
        ``name`` names the one new certificate; with several, each gets ``NAME / its CN``.
        Without it the name is the certificate's CN (made unique with a fingerprint prefix).
        """
        certs = _dedupe(read_certificates(data, "the CA bundle"))
        policy = _policy(revocation_policy)
        self._check_profile(profile)
        explicit = _explicit_name(name) if name is not None else None
        for i, cert in enumerate(certs, 1):
            _check_ca(cert, i if len(certs) > 1 else None)
        now = time.time()
        with self._writing() as session:
            rows = self._rows(session)
            by_fp = {r.sha256_fingerprint: r for r in rows}
            new = [c for c in certs if c.sha256_fingerprint not in by_fp]
            kinds = self._classify(new, [self._cert(r.der) for r in rows])
            taken = {r.name for r in rows}
            names = _names(new, explicit, taken)
            added: dict[str, TrustedCa] = {}
            for cert in new:
                row = TrustedCa(
                    id=str(uuid.uuid4()),
                    name=names[cert.sha256_fingerprint],
                    der=cert.der,
                    sha256_fingerprint=cert.sha256_fingerprint,
                    subject=cert.subject.rfc4514,
                    is_anchor=kinds[cert.sha256_fingerprint],
                    profile=profile,
                    revocation_policy=policy,
                    enabled=True,
                    added_at=now,
                    disabled_at=None,
                    disabled_reason=None,
                )
                session.add(row)
                added[cert.sha256_fingerprint] = row
            out: builtins.list[CaRecord] = []
            for cert in certs:
                fp = cert.sha256_fingerprint
                if fp in added:
                    out.append(self._record(added[fp]))
                else:
                    out.append(replace(self._record(by_fp[fp]), already_stored=True))
        return out

    def disable(self, ref: str, reason: str = "") -> CaRecord:
        """Stop trusting a CA (kept, with the time and reason, so it can be enabled again)."""
        why = clean_name(reason or "")[:MAX_REASON] or None
        with self._writing() as session:
            row = self._resolve(session, ref)
            if row.enabled:
                row.enabled = False
                row.disabled_at = time.time()
                row.disabled_reason = why
            return self._record(row)

    def enable(self, ref: str) -> CaRecord:
        """Trust a disabled CA again."""
        with self._writing() as session:
            row = self._resolve(session, ref)
            row.enabled = True
            row.disabled_at = None
            row.disabled_reason = None
            return self._record(row)

    def configure(
        self, ref: str, *, profile: str | None = None, revocation_policy: str | None = None
    ) -> CaRecord:
        """Change a stored CA's profile and/or revocation policy (the certificate stays)."""
        policy = _policy(revocation_policy) if revocation_policy is not None else None
        if profile is not None:
            self._check_profile(profile)
        with self._writing() as session:
            row = self._resolve(session, ref)
            if profile is not None:
                row.profile = profile
            if policy is not None:
                row.revocation_policy = policy
            return self._record(row)

    def upload_crl(self, data: bytes) -> CrlRecord:
        """Store a CRL (PEM or DER) for the stored CA that signed it, replacing an older one.

        Refused: an issuer the store does not hold, a signature that does not verify under any
        stored CA of the issuer's name, an issuer without cRLSign, and a CRL not newer than the
        stored one (higher CRL number; without numbers, a later thisUpdate). The very same CRL
        again is a no-op reported with ``unchanged=True``.
        """
        try:
            crl = parse_crl(data)
        except CertInteropError as exc:
            raise MalformedInput(f"the CRL: {exc}") from None
        with self._writing() as session:
            rows = self._rows(session)
            issuer_row = self._crl_issuer(crl, rows)
            stored = session.get(UploadedCrl, issuer_row.id)
            now = time.time()
            if stored is not None:
                if stored.der == crl.der:
                    return replace(self._crl_record(stored, issuer_row.name), unchanged=True)
                _check_newer(crl, self._crl(stored.der), issuer_row.name)
                stored.der = crl.der
                stored.this_update = crl.this_update.timestamp()
                stored.next_update = crl.next_update.timestamp() if crl.next_update else None
                stored.crl_number = str(crl.crl_number) if crl.crl_number is not None else None
                stored.uploaded_at = now
                return self._crl_record(stored, issuer_row.name)
            row = UploadedCrl(
                issuer_id=issuer_row.id,
                der=crl.der,
                this_update=crl.this_update.timestamp(),
                next_update=crl.next_update.timestamp() if crl.next_update else None,
                crl_number=str(crl.crl_number) if crl.crl_number is not None else None,
                uploaded_at=now,
            )
            session.add(row)
            return self._crl_record(row, issuer_row.name)

    # --- validating ------------------------------------------------------------------------

    def validate(
        self,
        leaf: Certificate,
        *,
        intermediates: Sequence[Certificate] = (),
        purpose: str = "sign",
        at: datetime | None = None,
        extended_key_usage: str | None = None,
    ) -> ValidationResult:
        """Validate ``leaf`` against the enabled stored CAs (plus the caller's intermediates)
        and the uploaded CRLs; on success the result names the CA, its profile and the
        holder's identity as that profile reads it. Bad chains never raise."""
        if isinstance(intermediates, str | bytes) or not isinstance(intermediates, Sequence):
            raise CertInteropError("intermediates must be a sequence of parsed Certificate objects")
        snap = self._current()
        extra = tuple(
            c
            for c in intermediates
            if not (isinstance(c, Certificate) and c.der in snap.disabled_ders)
        )
        result = validate_path(
            leaf,
            intermediates=(*extra, *snap.intermediates) if extra else snap.intermediates,
            anchors=snap.anchors,
            at=at,
            skew=self.skew,
            purpose=cast(Purpose, purpose),
            crls=snap.crls,
            extended_key_usage=extended_key_usage,
            cache=self._cache,
            revocation=self.revocation or _NO_ONLINE_CHECKS,
            soft_fail=lambda issuer: self._soft(issuer, snap, extra),
        )
        return self._annotate(result, snap)

    # --- snapshot --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Forget the snapshot: the next validation reloads from the database."""
        with self._lock:
            self._next_check = 0.0
            self._snapshot = None

    def _current(self) -> _Snapshot:
        snap = self._snapshot
        if snap is not None and time.monotonic() < self._next_check:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and time.monotonic() < self._next_check:
                return snap
            with self._reading() as session:
                version = _version(session)
                signature = directory_signature(self.profiles_dir)
                if snap is None or snap.version != version or snap.profile_signature != signature:
                    snap = self._load(session, version, snap)
            self._snapshot = snap
            self._next_check = time.monotonic() + self.refresh_interval
            return snap

    def _load(self, session: Session, version: int, old: _Snapshot | None) -> _Snapshot:
        """Read everything after the version, so a snapshot is never older than its number."""
        rows = self._rows(session)
        crl_rows = session.scalars(select(UploadedCrl)).all()
        keep = {r.der for r in rows}
        self._parsed = {d: c for d, c in self._parsed.items() if d in keep}
        keep_crls = {r.der for r in crl_rows}
        self._parsed_crls = {d: c for d, c in self._parsed_crls.items() if d in keep_crls}
        records = [self._record(r) for r in rows]
        by_der = {r.certificate.der: r for r in records}
        enabled = [r for r in records if r.enabled]
        enabled_by_name: dict[_NameKey, builtins.list[Certificate]] = {}
        for r in enabled:
            enabled_by_name.setdefault(r.certificate.subject.normalized, []).append(r.certificate)
        disabled_by_name: dict[_NameKey, builtins.list[CaRecord]] = {}
        for r in records:
            if not r.enabled:
                disabled_by_name.setdefault(r.certificate.subject.normalized, []).append(r)
        if old is not None and old.profile_signature == directory_signature(self.profiles_dir):
            profile_set = old.profile_set
        else:
            profile_set = load_profile_set(self.profiles_dir)
        return _Snapshot(
            version=version,
            profile_signature=profile_set.signature,
            by_der=by_der,
            anchors=tuple(r.certificate for r in enabled if r.is_anchor),
            intermediates=tuple(r.certificate for r in enabled if not r.is_anchor),
            enabled_by_name={k: tuple(v) for k, v in enabled_by_name.items()},
            disabled_ders=frozenset(r.certificate.der for r in records if not r.enabled),
            disabled_by_name={k: tuple(v) for k, v in disabled_by_name.items()},
            crls=tuple(self._crl(r.der) for r in crl_rows),
            profile_set=profile_set,
        )

    # --- validation helpers ----------------------------------------------------------------

    def _issuer_among(
        self, cert: Certificate, candidates: Sequence[Certificate]
    ) -> Certificate | None:
        """The candidate that signed ``cert`` (name, key identifiers, then signature)."""
        for issuer in candidates:
            if issuer.der == cert.der or not issuer.subject.matches(cert.issuer):
                continue
            aki, ski = cert.authority_key_identifier, issuer.subject_key_identifier
            if aki is not None and ski is not None and aki != ski:
                continue
            try:
                if self._cache.verify(cert, issuer.public_key_info, issuer.public_key):
                    return issuer
            except UnsupportedAlgorithm:
                continue
        return None

    def _soft(self, issuer: Certificate, snap: _Snapshot, extra: Sequence[Certificate]) -> bool:
        """The revocation policy for certificates ``issuer`` issued: its own when stored, else
        that of the nearest stored CA above it, else hard."""
        current = issuer
        for _ in range(MAX_PATH_LENGTH):
            record = snap.by_der.get(current.der)
            if record is not None:
                return record.revocation_policy == "soft"
            candidates = [
                *snap.enabled_by_name.get(current.issuer.normalized, ()),
                *(c for c in extra if c.subject.matches(current.issuer)),
            ]
            above = self._issuer_among(current, candidates)
            if above is None:
                return False
            current = above
        return False

    def _annotate(self, result: ValidationResult, snap: _Snapshot) -> ValidationResult:
        """Fill ``ca``, ``profile`` and (valid results only) ``identity``."""
        record = next((snap.by_der[c.der] for c in result.chain[1:] if c.der in snap.by_der), None)
        detail = result.detail.replace(
            " (no trust anchors were given)", " (no root CA is enabled in the trust store)"
        )
        if not result.valid and result.reason is Reason.UNKNOWN_CA and result.chain:
            top = result.chain[-1]
            for disabled in snap.disabled_by_name.get(top.issuer.normalized, ()):
                if self._issuer_among(top, [disabled.certificate]) is None:
                    continue
                when = disabled.disabled_at
                since = when.replace(microsecond=0).isoformat() if when else "?"
                why = f": {disabled.disabled_reason}" if disabled.disabled_reason else ""
                detail += (
                    f"; the trust store holds CA '{disabled.name}' for that issuer, but it has "
                    f"been disabled since {since}{why}"
                )
                if record is None:
                    record = disabled
                break
        if record is None:
            return result if detail == result.detail else replace(result, detail=detail)
        if not result.valid:
            return replace(result, detail=detail, ca=record.name, profile=record.profile)
        profile = snap.profile_set.profiles.get(record.profile)
        if profile is None:
            problem = next(
                (str(e) for e in snap.profile_set.errors),
                "no such profile among the shipped ones and the profile files",
            )
            note = (
                f"identity not read: profile '{record.profile}' of CA '{record.name}' is not "
                f"available ({problem})"
            )
            return replace(
                result, ca=record.name, profile=record.profile, notes=(*result.notes, note)
            )
        return replace(
            result,
            ca=record.name,
            profile=record.profile,
            identity=extract_identity(result.chain[0], profile),
        )

    # --- persistence helpers ---------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        try:
            with self._sessions() as session:
                yield session
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """One transaction that first bumps the version: the bump's row lock serializes
        writers (PostgreSQL), the first write takes SQLite's write lock."""
        try:
            with self._sessions() as session, session.begin():
                _bump(session)
                yield session
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc
        finally:
            self.refresh()

    @staticmethod
    def _rows(session: Session) -> builtins.list[TrustedCa]:
        query = select(TrustedCa).order_by(
            TrustedCa.added_at, TrustedCa.is_anchor.desc(), TrustedCa.name
        )
        return builtins.list(session.scalars(query).all())

    def _resolve(self, session: Session, ref: str) -> TrustedCa:
        if not isinstance(ref, str) or not ref.strip():
            raise UnknownCa("a CA reference (name, id or fingerprint) is required")
        text = ref.strip()
        rows = self._rows(session)
        for row in rows:
            if row.name == text:
                return row
        if is_uuid(text):
            for row in rows:
                if row.id == text.lower():
                    return row
        prefix = normalize_fingerprint(text)
        if prefix is not None:
            hits = [r for r in rows if r.sha256_fingerprint.startswith(prefix)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                names = ", ".join(f"'{r.name}'" for r in hits[:5])
                raise AmbiguousCaReference(
                    f"fingerprint prefix {prefix} matches {len(hits)} stored CAs ({names}); "
                    "give more digits"
                )
        raise UnknownCa(
            f"no stored CA has the name, id or SHA-256 fingerprint {text!r} "
            "(fingerprint prefixes need at least 8 hex digits)"
        )

    def _cert(self, der: bytes) -> Certificate:
        cert = self._parsed.get(der)
        if cert is None:
            try:
                cert = parse_certificate(der)
            except CertInteropError as exc:
                raise TrustStoreError(f"a stored CA certificate does not parse: {exc}") from None
            self._parsed[der] = cert
        return cert

    def _crl(self, der: bytes) -> Crl:
        crl = self._parsed_crls.get(der)
        if crl is None:
            try:
                crl = parse_crl(der)
            except CertInteropError as exc:
                raise TrustStoreError(f"a stored CRL does not parse: {exc}") from None
            self._parsed_crls[der] = crl
        return crl

    def _record(self, row: TrustedCa) -> CaRecord:
        return CaRecord(
            id=row.id,
            name=row.name,
            sha256_fingerprint=row.sha256_fingerprint,
            subject=row.subject,
            is_anchor=row.is_anchor,
            profile=row.profile,
            revocation_policy=_policy(row.revocation_policy),
            enabled=row.enabled,
            added_at=_ts(row.added_at),
            disabled_at=_ts(row.disabled_at) if row.disabled_at is not None else None,
            disabled_reason=row.disabled_reason,
            certificate=self._cert(row.der),
        )

    def _crl_record(self, row: UploadedCrl, issuer_name: str) -> CrlRecord:
        crl = self._crl(row.der)
        return CrlRecord(
            issuer_id=row.issuer_id,
            issuer_name=issuer_name,
            crl_number=crl.crl_number,
            this_update=crl.this_update,
            next_update=crl.next_update,
            revoked_count=len(crl.revoked),
            uploaded_at=_ts(row.uploaded_at),
            crl=crl,
        )

    def _check_profile(self, name: str) -> None:
        found = load_profile_set(self.profiles_dir)
        if name in found.profiles:
            return
        if found.errors:  # the profile may be the one in the broken file: say so
            raise found.errors[0]
        where = f" or in {self.profiles_dir}" if self.profiles_dir is not None else ""
        raise UnknownProfile(
            f"unknown CA profile {name!r}: not a shipped profile{where}; known profiles: "
            f"{', '.join(sorted(found.profiles))}"
        )

    def _classify(
        self, new: Sequence[Certificate], stored: Sequence[Certificate]
    ) -> dict[str, bool]:
        """Fingerprint → is anchor, for the new certificates; raises when one does not chain."""
        kinds: dict[str, bool] = {}
        pool = builtins.list(stored)
        pending: builtins.list[Certificate] = []
        for cert in new:
            if cert.self_issued and self._self_signed(cert):
                kinds[cert.sha256_fingerprint] = True
                pool.append(cert)
            else:
                pending.append(cert)
        progress = True
        while pending and progress:
            progress = False
            for cert in builtins.list(pending):
                if self._issuer_among(cert, pool) is not None:
                    kinds[cert.sha256_fingerprint] = False
                    pool.append(cert)
                    pending.remove(cert)
                    progress = True
        if pending:
            cert = pending[0]
            who = f"'{cert.subject.rfc4514}' (SHA-256 {cert.sha256_fingerprint[:16]}…)"
            if cert.self_issued:
                raise SignatureMismatch(
                    f"the self-signed certificate {who} does not verify under its own key "
                    "(and no stored CA of that name signed it): corrupted or forged"
                )
            named = [c for c in pool if c.subject.matches(cert.issuer)]
            why = (
                f"{len(named)} stored or bundled CA certificate(s) carry that name but none "
                "signed it"
                if named
                else "no stored or bundled CA certificate carries that name"
            )
            raise NoTrustAnchor(
                f"the intermediate CA certificate {who} does not chain to a trust anchor: its "
                f"issuer is '{cert.issuer.rfc4514}' and {why}; add its root first or in the "
                "same bundle"
            )
        return kinds

    def _self_signed(self, cert: Certificate) -> bool:
        try:
            return self._cache.verify(cert, cert.public_key_info, cert.public_key)
        except UnsupportedAlgorithm:
            return False

    def _crl_issuer(self, crl: Crl, rows: Sequence[TrustedCa]) -> TrustedCa:
        named = [r for r in rows if self._cert(r.der).subject.matches(crl.issuer)]
        if not named:
            raise UnknownCa(
                f"the CRL's issuer '{crl.issuer.rfc4514}' is not a stored CA; add the CA first"
            )
        named.sort(key=lambda r: not r.enabled)  # prefer an enabled CA of that name
        for row in named:
            cert = self._cert(row.der)
            aki, ski = crl.authority_key_identifier, cert.subject_key_identifier
            if aki is not None and ski is not None and aki != ski:
                continue
            try:
                ok = self._cache.verify(crl, cert.public_key_info, cert.public_key)
            except UnsupportedAlgorithm:
                ok = False
            if not ok:
                continue
            if cert.key_usage is not None and "crl_sign" not in cert.key_usage:
                raise TrustStoreError(
                    f"CA '{row.name}' signed the CRL but its key usage "
                    f"({', '.join(sorted(cert.key_usage))}) lacks cRLSign"
                )
            return row
        raise SignatureMismatch(
            f"the CRL names issuer '{crl.issuer.rfc4514}', but its {crl.signature_algorithm} "
            f"signature does not verify under the key of the {len(named)} stored CA(s) of that "
            "name"
        )


# --- module helpers ----------------------------------------------------------------------------


def _unavailable(exc: SQLAlchemyError) -> TrustStoreUnavailable:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    hint = (
        " (has `huren db upgrade` run?)"
        if "no such table" in first or "does not exist" in first
        else ""
    )
    return TrustStoreUnavailable(f"trust store database error: {first}{hint}")


def _version(session: Session) -> int:
    value = session.scalar(
        select(TrustStoreVersion.version).where(TrustStoreVersion.id == VERSION_ROW)
    )
    return int(value) if value is not None else 0


def _bump(session: Session) -> None:
    session.execute(
        update(TrustStoreVersion)
        .where(TrustStoreVersion.id == VERSION_ROW)
        .values(version=TrustStoreVersion.version + 1)
    )
    if (
        session.scalar(select(TrustStoreVersion.version).where(TrustStoreVersion.id == VERSION_ROW))
        is None
    ):  # a schema made without the migration's seed row
        session.add(TrustStoreVersion(id=VERSION_ROW, version=1))
        session.flush()


def _policy(value: object) -> RevocationPolicy:
    if value == "hard":
        return "hard"
    if value == "soft":
        return "soft"
    raise TrustStoreError(f"revocation policy must be 'hard' or 'soft', not {value!r}")


def _dedupe(certs: Sequence[Certificate]) -> builtins.list[Certificate]:
    seen: set[str] = set()
    out: builtins.list[Certificate] = []
    for cert in certs:
        if cert.sha256_fingerprint not in seen:
            seen.add(cert.sha256_fingerprint)
            out.append(cert)
    return out


def _check_ca(cert: Certificate, index: int | None) -> None:
    where = f"certificate #{index} of the bundle" if index is not None else "the certificate"
    who = f"{where} '{cert.subject.rfc4514}' (SHA-256 {cert.sha256_fingerprint[:16]}…)"
    if not cert.is_ca:
        state = "no basicConstraints" if cert.basic_constraints is None else "cA=FALSE"
        raise NotACaCertificate(
            f"{who} is not a CA certificate ({state}); the trust store holds CA certificates "
            "only — end-entity certificates are validated against them"
        )
    if cert.key_usage is not None and "key_cert_sign" not in cert.key_usage:
        raise NotACaCertificate(
            f"{who} may not sign certificates: its key usage "
            f"({', '.join(sorted(cert.key_usage))}) lacks keyCertSign"
        )


def _explicit_name(name: str) -> str:
    cleaned = clean_name(name)
    if not cleaned:
        raise TrustStoreError("a CA name must not be empty")
    if len(cleaned) > MAX_NAME:
        raise TrustStoreError(f"a CA name has at most {MAX_NAME} characters")
    if looks_like_reference(cleaned):
        raise TrustStoreError(
            f"CA name {cleaned!r} looks like an id or a fingerprint; choose a name with other "
            "characters so references stay unambiguous"
        )
    return cleaned


def _names(certs: Sequence[Certificate], explicit: str | None, taken: set[str]) -> dict[str, str]:
    """Fingerprint → name for the new certificates (unique among ``taken`` and each other)."""
    out: dict[str, str] = {}
    for cert in certs:
        base = clean_name(cert.subject.common_name or cert.subject.rfc4514) or "CA"
        if explicit is not None and len(certs) == 1:
            if explicit in taken:
                raise CaNameTaken(f"another stored CA is already named {explicit!r}")
            chosen = explicit
        else:
            stem = f"{explicit} / {base}" if explicit is not None else base
            if looks_like_reference(stem):
                stem = f"CA {stem}"
            stem = stem[: MAX_NAME - 20]
            chosen = stem
            fp = cert.sha256_fingerprint
            for length in (8, 16, 64):
                if chosen not in taken:
                    break
                chosen = f"{stem} ({fp[:length]})"
        taken.add(chosen)
        out[cert.sha256_fingerprint] = chosen
    return out


def _newer(new: Crl, old: Crl) -> bool:
    if new.crl_number is not None and old.crl_number is not None:
        return new.crl_number > old.crl_number
    return new.this_update > old.this_update


def _check_newer(new: Crl, old: Crl, issuer_name: str) -> None:
    if _newer(new, old):
        return
    if new.crl_number is not None and old.crl_number is not None:
        raise CrlOutdated(
            f"the CRL of '{issuer_name}' has number {new.crl_number}, not higher than the stored "
            f"CRL's {old.crl_number} (this update {old.this_update.isoformat()}); refusing to go "
            "back to an older revocation list"
        )
    raise CrlOutdated(
        f"the CRL of '{issuer_name}' was issued {new.this_update.isoformat()}, not after the "
        f"stored CRL ({old.this_update.isoformat()}); refusing to go back to an older list"
    )

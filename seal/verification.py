"""The verification report of a sealed PDF: document, certificate, seal and timestamp together.

`seal.pdf.verify_pdf` says what the bytes say (intact? modified later? who signed, when?). This
module adds what only the service knows: whether the signer's certificate is trusted now (or at
the timestamp), which seal the signature claims and whether that seal is active and bound to
that certificate. Each signature gets a verdict and machine-readable problem codes; the
document is valid only when every signature is.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from cert_interop.errors import CertInteropError
from cert_interop.x509 import Certificate, parse_certificate

from .pdf import PdfReport, SignatureReport, verify_pdf
from .records import service
from .records.errors import SealNotFound
from .records.service import CertificateChecker, SealView

Verdict = Literal["valid", "invalid", "indeterminate"]

PROBLEMS_ZH: dict[str, str] = {
    "malformed": "文件不是可读取的 PDF",
    "no_signatures": "文件中没有签章",
    "not_intact": "签章后的文件内容与签名不符（文件已被篡改或签名损坏）",
    "modified_after_signing": "签章后文件内容被修改",
    "modification_unknown": "无法判断签章后文件是否被修改",
    "certificate_invalid": "签章证书未通过验证",
    "certificate_unknown": "签章证书的状态暂时无法确定",
    "timestamp_invalid": "时间戳无效",
    "no_seal": "该签名不是本平台的电子印章",
    "unknown_seal": "签名声明的电子印章不存在",
    "seal_not_active": "电子印章未启用",
    "seal_suspended": "电子印章已暂停使用",
    "seal_revoked": "电子印章已吊销",
    "seal_expired": "签章时电子印章不在有效期内",
    "signer_not_bound": "签章证书未绑定到该电子印章",
}
"""Problem code → what a person reads on the report page."""


@dataclass(frozen=True)
class CertificateCheck:
    valid: bool
    reason: str
    detail: str
    checked_at: datetime
    subject: str | None
    ca: str | None
    identity: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reason": self.reason,
            "detail": self.detail,
            "checked_at": self.checked_at.isoformat(),
            "subject": self.subject,
            "ca": self.ca,
            "identity": self.identity,
        }


@dataclass(frozen=True)
class SignatureVerdict:
    signature: SignatureReport
    verdict: Verdict
    problems: tuple[str, ...]
    certificate: CertificateCheck | None
    seal: SealView | None

    def as_dict(self) -> dict[str, Any]:
        seal = None
        if self.seal is not None:
            seal = {
                "seal_id": self.seal.id,
                "name": self.seal.name,
                "type": self.seal.seal_type,
                "type_name": service.SEAL_TYPES[self.seal.seal_type][0],
                "entity_id": self.seal.entity_id,
                "status": self.seal.status,
                "status_reason": self.seal.status_reason,
            }
        return {
            "field_name": self.signature.field_name,
            "kind": self.signature.kind,
            "verdict": self.verdict,
            "problems": [{"code": p, "message_zh": PROBLEMS_ZH.get(p, p)} for p in self.problems],
            "document": self.signature.as_dict(),
            "certificate": self.certificate.as_dict() if self.certificate else None,
            "seal": seal,
        }


@dataclass(frozen=True)
class DocumentVerdict:
    verdict: Verdict
    problems: tuple[str, ...]
    signatures: tuple[SignatureVerdict, ...]
    pdf: PdfReport

    @property
    def valid(self) -> bool:
        return self.verdict == "valid"

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "valid": self.valid,
            "problems": [{"code": p, "message_zh": PROBLEMS_ZH.get(p, p)} for p in self.problems],
            "malformed": self.pdf.malformed,
            "malformed_reason": (
                self.pdf.malformed_reason.value if self.pdf.malformed_reason else None
            ),
            "revisions": self.pdf.revisions,
            "dss": {
                "certificates": len(self.pdf.dss.certificates),
                "crls": len(self.pdf.dss.crls),
                "ocsp_responses": len(self.pdf.dss.ocsp_responses),
            },
            "signatures": [s.as_dict() for s in self.signatures],
        }


def _worst(verdicts: Sequence[Verdict]) -> Verdict:
    if "invalid" in verdicts:
        return "invalid"
    if "indeterminate" in verdicts:
        return "indeterminate"
    return "valid"


def _certificate(
    checker: CertificateChecker, sig: SignatureReport, at: datetime
) -> CertificateCheck | None:
    if sig.signer_certificate is None:
        return None
    try:
        leaf = parse_certificate(sig.signer_certificate)
        others = []
        for der in sig.certificates:
            if der != sig.signer_certificate:
                try:
                    others.append(parse_certificate(der))
                except CertInteropError:
                    continue
        result = checker.validate(leaf, intermediates=tuple(others), purpose="sign", at=at)
    except CertInteropError as exc:
        return CertificateCheck(False, "unavailable", str(exc), at, None, None, None)
    identity = result.identity.as_dict() if result.identity is not None else None
    return CertificateCheck(
        bool(result.valid),
        str(result.reason.value),
        str(result.detail),
        at,
        leaf.subject.rfc4514,
        result.ca,
        identity,
    )


CLOCK_SKEW = 300.0
"""Seconds of disagreement allowed between the signer's clock and the seal's validity."""

INDETERMINATE_REASONS = frozenset({"revocation_unknown", "unavailable"})


def _seal(
    sessions: sessionmaker[Session], sig: SignatureReport, when: float
) -> tuple[SealView | None, list[str]]:
    if not sig.seal_id:
        return None, ["no_seal"]
    try:
        seal = service.get(sessions, sig.seal_id, with_history=False)
    except SealNotFound:
        return None, ["unknown_seal"]
    problems: list[str] = []
    status_problem = {
        "revoked": "seal_revoked",
        "suspended": "seal_suspended",
        "made": "seal_not_active",
        "requested": "seal_not_active",
    }.get(seal.status)
    if status_problem:
        problems.append(status_problem)
    if not seal.valid_from - CLOCK_SKEW <= when <= seal.valid_until + CLOCK_SKEW:
        problems.append("seal_expired")
    signer = sig.signer_certificate
    if signer is None or not any(c.der == signer for c in seal.certificates):
        problems.append("signer_not_bound")
    return seal, problems


def _one(
    sessions: sessionmaker[Session],
    checker: CertificateChecker,
    sig: SignatureReport,
    now: datetime,
) -> SignatureVerdict:
    problems: list[str] = []
    indeterminate = False
    if not sig.intact:
        problems.append("not_intact")
    if sig.modified_after_signing is True:
        problems.append("modified_after_signing")
    elif sig.modified_after_signing is None and sig.intact:
        indeterminate = True
        problems.append("modification_unknown")
    at = now
    if sig.timestamp is not None:
        if not sig.timestamp.valid:
            problems.append("timestamp_invalid")
        elif sig.timestamp.time is not None:
            at = sig.timestamp.time
    cert = _certificate(checker, sig, at)
    if cert is None or not cert.valid:
        if cert is not None and cert.reason in INDETERMINATE_REASONS:
            indeterminate = True
            problems.append("certificate_unknown")
        else:
            problems.append("certificate_invalid")
    seal: SealView | None = None
    if sig.kind == "signature":
        when = (sig.signing_time or at).timestamp()
        seal, seal_problems = _seal(sessions, sig, when)
        problems.extend(seal_problems)
    hard = [p for p in problems if p not in ("modification_unknown", "certificate_unknown")]
    verdict: Verdict = "invalid" if hard else "indeterminate" if indeterminate else "valid"
    return SignatureVerdict(sig, verdict, tuple(problems), cert, seal)


def verify_document(
    pdf: bytes,
    sessions: sessionmaker[Session],
    checker: CertificateChecker,
    *,
    now: float | None = None,
) -> DocumentVerdict:
    """The report of every signature in `pdf`; never raises on a bad document."""
    at = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    report = verify_pdf(pdf)
    if report.malformed:
        return DocumentVerdict("invalid", ("malformed",), (), report)
    if not report.signatures:
        return DocumentVerdict("invalid", ("no_signatures",), (), report)
    verdicts = tuple(_one(sessions, checker, sig, at) for sig in report.signatures)
    return DocumentVerdict(_worst([v.verdict for v in verdicts]), (), verdicts, report)


def bound_certificate(seal: SealView, certificate: Certificate) -> bool:
    """Whether `certificate` is one the seal is bound to (who may stamp with it)."""
    return any(c.der == certificate.der for c in seal.certificates)

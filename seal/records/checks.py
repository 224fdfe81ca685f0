"""Whether a seal may be made: the entity, type, name, size, validity and certificates.

Both an operator making a seal and an entity administrator requesting one go through these
checks, and a request is checked again when an operator makes it (a certificate may have been
revoked, or the entity rejected, in between). Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from cert_interop.errors import CertInteropError
from cert_interop.web.api import CertificateValidator
from cert_interop.x509 import Certificate

from .directory import ORGANISATION_TYPES, EntityDirectory, EntityFacts
from .errors import SealRefused
from .models import MAX_NAME

SEAL_TYPES: dict[str, tuple[str, str]] = {
    "legal_person": ("法定名称章（公章）", "legal-person seal"),
    "contract": ("合同专用章", "contract seal"),
    "finance": ("财务专用章", "finance seal"),
    "personal": ("个人签名章", "personal seal (signature)"),
}
"""Seal types: code → (Chinese, English) names."""

INSTITUTION_TYPES = frozenset({"legal_person", "contract", "finance"})

DEFAULT_VALID_DAYS = 3 * 365
MAX_VALID_DAYS = 10 * 365
DEFAULT_SIZE_MM = {"personal": (18, 18)}
"""Display size when none is given: 42 mm round institution seals, small signature seals."""
INSTITUTION_SIZE_MM = (42, 42)
SIZE_RANGE_MM = (5, 120)
MAX_CERTIFICATES = 8


def refuse(code: str, message: str, zh: str, field: str | None = None) -> SealRefused:
    """A typed refusal: stable code, English and Chinese text, the input it is about."""
    return SealRefused(code, message, zh, field=field)


def check_type(seal_type: str, entity_type: str) -> None:
    if seal_type not in SEAL_TYPES:
        raise refuse(
            "invalid_type",
            f"unknown seal type {seal_type!r}; one of {', '.join(SEAL_TYPES)}",
            "印章类型无效",
            "type",
        )
    if seal_type in INSTITUTION_TYPES and entity_type not in ORGANISATION_TYPES:
        raise refuse(
            "type_not_allowed",
            f"a {SEAL_TYPES[seal_type][1]} belongs to an organisation, not a {entity_type}",
            "自然人不能持有单位印章（公章、合同专用章、财务专用章）",
            "type",
        )


def check_name(name: str) -> str:
    text = " ".join(name.split())
    if not text or len(text) > MAX_NAME:
        raise refuse(
            "invalid_name",
            f"the seal name must be 1 to {MAX_NAME} characters",
            f"印章名称须为 1 至 {MAX_NAME} 个字符",
            "name",
        )
    return text


def size(seal_type: str, width_mm: int | None, height_mm: int | None) -> tuple[int, int]:
    """The picture's display size in mm: as given, or the type's default."""
    default = DEFAULT_SIZE_MM.get(seal_type, INSTITUTION_SIZE_MM)
    width = default[0] if width_mm is None else width_mm
    height = default[1] if height_mm is None else height_mm
    low, high = SIZE_RANGE_MM
    for value, what in ((width, "width"), (height, "height")):
        if not low <= value <= high:
            raise refuse(
                "invalid_size",
                f"the picture's {what} must be {low} to {high} mm",
                f"印模尺寸须在 {low} 至 {high} 毫米之间",
                what,
            )
    return width, height


def validity(valid_days: int | None, now: float) -> tuple[float, float]:
    days = DEFAULT_VALID_DAYS if valid_days is None else valid_days
    if not 1 <= days <= MAX_VALID_DAYS:
        raise refuse(
            "invalid_validity",
            f"validity must be 1 to {MAX_VALID_DAYS} days",
            f"有效期须为 1 至 {MAX_VALID_DAYS} 天",
            "valid_days",
        )
    start = float(int(now))  # whole seconds, as the GB/T 38540 structure records them
    return start, start + days * 86400.0


def check_certificates(
    checker: CertificateValidator,
    directory: EntityDirectory,
    entity_id: str,
    certificates: Sequence[Certificate],
    intermediates: Sequence[Certificate] = (),
) -> tuple[tuple[Certificate, str], ...]:
    """(certificate, key algorithm) of each bound certificate, after the trust store and the
    entity directory both said yes."""
    if not certificates:
        raise refuse(
            "certificate_required",
            "a seal is bound to at least one certificate of its entity",
            "电子印章至少须绑定一张本主体的数字证书",
            "cert",
        )
    if len(certificates) > MAX_CERTIFICATES:
        raise refuse(
            "too_many_certificates",
            f"at most {MAX_CERTIFICATES} certificates per seal",
            f"每枚印章最多绑定 {MAX_CERTIFICATES} 张证书",
            "cert",
        )
    seen: set[str] = set()
    out: list[tuple[Certificate, str]] = []
    for cert in certificates:
        if cert.sha256_fingerprint in seen:
            continue
        seen.add(cert.sha256_fingerprint)
        try:
            result = checker.validate(cert, intermediates=tuple(intermediates), purpose="sign")
        except CertInteropError as exc:
            raise refuse(
                "trust_store_unavailable", str(exc), "证书信任库暂不可用，请稍后重试", "cert"
            ) from None
        if not result.valid:
            raise refuse(
                f"certificate_{result.reason.value}",
                f"certificate {cert.subject.rfc4514}: {result.detail}",
                f"证书未通过验证（{result.reason.value}）：{cert.subject.rfc4514}",
                "cert",
            )
        if not directory.holds(entity_id, result.identity):
            raise refuse(
                "identity_mismatch",
                f"certificate {cert.subject.rfc4514} names another holder, not this entity",
                "证书中的身份（统一社会信用代码或证件号码）不是该主体的",
                "cert",
            )
        out.append((cert, str(result.algorithm)))
    return tuple(out)


def check_entity(directory: EntityDirectory, entity_id: str) -> EntityFacts:
    """The entity, which must exist and be verified: seals are made only for verified ones."""
    facts = directory.entity(entity_id)
    if facts is None:
        raise refuse("entity_not_found", "no such market entity", "没有这个市场主体", "entity")
    if facts.status != "verified":
        raise refuse(
            "entity_not_verified",
            f"the entity is {facts.status}: seals are made only for verified entities",
            "该市场主体尚未通过核验，不能制作电子印章",
            "entity",
        )
    return facts

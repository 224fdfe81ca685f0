"""How much of the file a signature covers, and what the later incremental updates changed.

pyhanko's ``EmbeddedPdfSignature`` does both for any algorithm, because neither step hashes
anything: ``evaluate_signature_coverage`` checks that the byte range is its whole revision, and
``evaluate_modifications`` runs the standard diff policy over the later revisions (accepting
DSS updates, timestamps, new signatures and form filling). Our SM2 signatures use the standard
CMS content types precisely so that pyhanko can read their container here; foreign ones it
cannot parse only get the "covers the whole file or not" answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    ModificationLevel,
    SuspiciousModification,
)
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from seal.pdf.report import Coverage, ModificationLevelName

__all__ = ["Integrity", "assess"]

_LEVELS: dict[ModificationLevel, ModificationLevelName] = {
    ModificationLevel.NONE: "none",
    ModificationLevel.LTA_UPDATES: "lta_updates",
    ModificationLevel.FORM_FILLING: "form_filling",
    ModificationLevel.ANNOTATIONS: "annotations",
    ModificationLevel.OTHER: "other",
}
_HARMLESS = frozenset({"none", "lta_updates", "form_filling"})


@dataclass(frozen=True)
class Integrity:
    coverage: Coverage
    later_updates: bool
    modification_level: ModificationLevelName | None
    modified: bool | None
    revision: int | None


def _whole_file(byte_range: list[int], contents_len: int, file_len: int) -> bool:
    return (
        len(byte_range) == 4
        and byte_range[0] == 0
        and byte_range[2] == byte_range[1] + contents_len
        and byte_range[2] + byte_range[3] == file_len
    )


def assess(
    reader: Any,
    sig_field: Any,
    fq_name: str,
    byte_range: list[int],
    contents_len: int,
    file_len: int,
) -> Integrity:
    """Coverage and modification analysis of one signature; never raises."""
    try:
        embedded = EmbeddedPdfSignature(reader, sig_field, fq_name)
        revision = cast(int, embedded.signed_revision)
    except Exception:
        whole = _whole_file(byte_range, contents_len, file_len)
        return Integrity(
            "entire_file" if whole else "unknown",
            not whole,
            "none" if whole else None,
            False if whole else None,
            None,
        )
    try:
        level = embedded.evaluate_signature_coverage()
        if level == SignatureCoverageLevel.ENTIRE_FILE:
            return Integrity("entire_file", False, "none", False, revision)
        if level != SignatureCoverageLevel.ENTIRE_REVISION:
            return Integrity("partial", True, "other", True, revision)
        cast(Any, embedded).coverage = level  # what compute_integrity_info would set
        diff = embedded.evaluate_modifications(DEFAULT_DIFF_POLICY)
    except Exception:
        return Integrity("unknown", True, None, None, revision)
    name: ModificationLevelName = (
        "other" if isinstance(diff, SuspiciousModification) else _LEVELS[diff.modification_level]
    )
    return Integrity("entire_revision", True, name, name not in _HARMLESS, revision)

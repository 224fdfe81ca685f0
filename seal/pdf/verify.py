"""Verify every signature of a PDF and report; a malformed PDF is reported, never raised.

Per signature: the CMS is checked with ``cert_interop.cms.verify`` over the byte ranges (one
verifier for RSA, ECDSA and SM2, independent of pyhanko), its signature timestamp with
:mod:`seal.pdf.tokens`, coverage and later modifications with pyhanko's analysis
(:mod:`seal.pdf.coverage`), the paging slices and the seal ID from the document. Chain and
revocation status are the caller's: the certificates come back in the report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pyhanko.pdf_utils import generic
from pyhanko.sign.fields import enumerate_sig_fields

from cert_interop import cms
from cert_interop.errors import CertInteropError
from seal.pdf import cmsparts
from seal.pdf.coverage import assess
from seal.pdf.document import DEFAULT_MAX_PDF_BYTES, check_pdf_bytes, open_reader
from seal.pdf.errors import NotAPdf, PdfTooLarge
from seal.pdf.paging import SEAL_ID_KEY, Slice, find_slices
from seal.pdf.report import DssReport, MalformedReason, PdfReport, SignatureReport
from seal.pdf.tokens import check_token

__all__ = ["verify_pdf"]

MAX_SIGNATURES = 500


class _Ranges:
    """The signed bytes of a ``/ByteRange``, readable like a file (no copy of the document)."""

    def __init__(self, parts: list[memoryview]) -> None:
        self._parts = parts
        self._i = 0
        self._pos = 0

    def read(self, size: int = -1, /) -> bytes:
        out = bytearray()
        while self._i < len(self._parts) and (size < 0 or len(out) < size):
            part = self._parts[self._i]
            want = (
                len(part) - self._pos if size < 0 else min(size - len(out), len(part) - self._pos)
            )
            out += part[self._pos : self._pos + want]
            self._pos += want
            if self._pos >= len(part):
                self._i, self._pos = self._i + 1, 0
        return bytes(out)


def _family(signature_algorithm: str) -> Literal["rsa", "ecdsa", "sm2"] | None:
    if signature_algorithm.startswith("sm2"):
        return "sm2"
    if signature_algorithm.startswith("rsa"):
        return "rsa"
    if signature_algorithm.startswith("ecdsa"):
        return "ecdsa"
    return None


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _pdf_time(sig: Any) -> datetime | None:
    try:
        when = generic.parse_pdf_date(sig["/M"], strict=False)
    except Exception:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _byte_range(sig: Any, size: int) -> list[int] | None:
    try:
        br = [int(v) for v in sig["/ByteRange"]]
    except Exception:
        return None
    if len(br) != 4 or br[0] != 0 or min(br) < 0 or br[1] > br[2] or br[2] + br[3] > size:
        return None
    return br


def _signed_with(reader: Any, piece: Slice, revision: int | None) -> bool:
    """The slice was drawn in the signature's revision or before (so the signature covers it)."""
    if revision is None:
        return False
    try:
        return int(reader.xrefs.get_introducing_revision(piece.reference)) <= revision
    except Exception:
        return False


def _signature(
    reader: Any, raw: bytes, name: str, sig_obj: Any, sig_field: Any, slices: list[Slice]
) -> SignatureReport:
    sig = sig_obj.get_object()
    kind: Literal["signature", "document_timestamp"] = (
        "document_timestamp" if sig.get("/Type") == "/DocTimeStamp" else "signature"
    )
    base: dict[str, Any] = {
        "field_name": name,
        "kind": kind,
        "subfilter": _text(sig.get("/SubFilter")),
        "seal_id": _text(sig.get(SEAL_ID_KEY)),
        "reason": _text(sig.get("/Reason")),
        "location": _text(sig.get("/Location")),
    }
    br = _byte_range(sig, len(raw))
    try:
        contents = bytes(sig.raw_get("/Contents").original_bytes)
    except Exception:
        contents = b""
    if br is None or not contents:
        return SignatureReport(
            intact=False,
            problem="byte_range_invalid",
            detail="the /ByteRange or /Contents is missing or impossible",
            **base,
        )
    view = memoryview(raw)
    parts = [view[br[0] : br[0] + br[1]], view[br[2] : br[2] + br[3]]]
    integrity = assess(reader, sig_field, name, br, 2 * len(contents) + 2, len(raw))
    base.update(
        coverage=integrity.coverage,
        later_updates=integrity.later_updates,
        modification_level=integrity.modification_level,
        modified_after_signing=integrity.modified,
        revision=integrity.revision,
        paging_seal_pages=tuple(
            sorted(
                {
                    s.page_index + 1
                    for s in slices
                    if s.field_name == name and _signed_with(reader, s, integrity.revision)
                }
            )
        ),
    )
    der = cmsparts.trim_der(contents)
    if kind == "document_timestamp":
        token = check_token(der, parts)
        return SignatureReport(
            intact=token.valid,
            problem=None if token.valid else "timestamp_invalid",
            detail=token.detail,
            timestamp=token,
            signer_certificate=token.tsa_certificate,
            certificates=token.certificates,
            signing_time=token.time,
            **base,
        )
    try:
        result = cms.verify(der, content=_Ranges(parts))
        si = cmsparts.signed_data(der)["signer_infos"][0]
    except (CertInteropError, ValueError, KeyError, IndexError) as exc:
        return SignatureReport(
            intact=False, problem="cms_unparseable", detail=f"the CMS does not parse: {exc}", **base
        )
    if not result.signers:
        return SignatureReport(
            intact=False, problem="cms_unparseable", detail="the CMS has no signer", **base
        )
    signer = result.signers[0]
    tokens = cmsparts.timestamp_tokens(si)
    timestamp = check_token(tokens[0], [bytes(si["signature"].native)]) if tokens else None
    return SignatureReport(
        intact=result.valid,
        problem=None if result.valid else signer.reason.value,
        detail=signer.detail,
        algorithm=_family(signer.signature_algorithm),
        signature_algorithm=signer.signature_algorithm,
        digest_algorithm=signer.digest_algorithm,
        signer_certificate=signer.certificate.der if signer.certificate else None,
        certificates=tuple(c.der for c in result.certificates),
        signing_time=signer.signing_time or _pdf_time(sig),
        timestamp=timestamp,
        **base,
    )


def _dss(reader: Any) -> DssReport:
    try:
        dss = reader.root["/DSS"]
    except KeyError:
        return DssReport()

    def streams(key: str) -> tuple[bytes, ...]:
        try:
            arr = dss[key]
        except KeyError:
            return ()
        return tuple(bytes(arr[i].data) for i in range(len(arr)))

    return DssReport(streams("/Certs"), streams("/CRLs"), streams("/OCSPs"))


def verify_pdf(pdf: object, *, max_bytes: int = DEFAULT_MAX_PDF_BYTES) -> PdfReport:
    """Report on every signature field of ``pdf``; never raises on bad input."""
    try:
        raw = check_pdf_bytes(pdf, max_bytes)
    except PdfTooLarge as exc:
        return PdfReport(True, MalformedReason.TOO_LARGE, str(exc))
    except NotAPdf as exc:
        return PdfReport(True, MalformedReason.NOT_PDF, str(exc))
    try:
        reader = open_reader(raw)
    except NotAPdf as exc:
        return PdfReport(True, MalformedReason.UNREADABLE, str(exc))
    if reader.encrypted:
        return PdfReport(True, MalformedReason.ENCRYPTED, "encrypted documents are not verified")
    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))[:MAX_SIGNATURES]
        slices = find_slices(reader)
        dss = _dss(reader)
        revisions = int(reader.xrefs.total_revisions)
    except Exception as exc:
        return PdfReport(
            True, MalformedReason.UNREADABLE, f"the document structure is broken: {exc}"
        )
    reports: list[SignatureReport] = []
    for name, sig_obj, sig_field in fields:
        try:
            reports.append(_signature(reader, raw, str(name), sig_obj, sig_field, slices))
        except Exception as exc:  # one broken signature must not hide the others
            reports.append(
                SignatureReport(
                    field_name=str(name),
                    kind="signature",
                    intact=False,
                    problem="unreadable",
                    detail=f"the signature cannot be read: {exc}",
                )
            )
    return PdfReport(False, None, "", tuple(reports), dss, revisions)

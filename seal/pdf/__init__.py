"""PDF stamping and verification (§6.4.2 b): visible seal, paging seal, PAdES / SM2 signatures.

    from seal.pdf import Placement, PdfSealSigner, Level, stamp_pdf, verify_pdf
    signed = stamp_pdf(pdf, signer=PdfSealSigner(key, cert, chain), picture=png,
                       placement=Placement.at_keyword("（盖章）"), level=Level.B_T,
                       timestamper="http://tsa.example/tsa", seal_id="5201000000001")
    report = verify_pdf(signed)                       # never raises on a bad PDF

    pending = prepare(pdf, placement=..., picture=png, certificate=cert)   # USBKey, phase 1
    blob = pending.to_bytes(key)                      # keep it in the ephemeral store
    signed = complete(PendingStamp.from_bytes(blob, key), token_signature)  # phase 2

Pure library: the caller passes the picture, the signer and the trust decisions stay outside
(the report carries the certificates for the trust store).
"""

from __future__ import annotations

from seal.pdf.completion import complete
from seal.pdf.errors import (
    EncryptedPdf,
    FieldNameTaken,
    InvalidPlacement,
    InvalidRequest,
    InvalidSigner,
    KeywordNotFound,
    NotAPdf,
    PageOutOfRange,
    PagingSealTooFewPages,
    PdfLocked,
    PdfSealError,
    PdfTooLarge,
    PendingStampInvalid,
    PictureTooLarge,
    PictureUnreadable,
    RevocationInfoUnavailable,
    SignatureRejected,
    SignatureTooLarge,
    TimestamperMissing,
    TimestampFailed,
    UnsupportedPicture,
)
from seal.pdf.levels import Level, RevocationMaterial
from seal.pdf.paging import PagingSeal
from seal.pdf.pending import PendingStamp
from seal.pdf.picture import SealPicture
from seal.pdf.placement import Placement
from seal.pdf.report import (
    DssReport,
    MalformedReason,
    PdfReport,
    SignatureReport,
    TimestampReport,
)
from seal.pdf.signer import PdfSealSigner
from seal.pdf.stamping import prepare, stamp_pdf
from seal.pdf.verify import verify_pdf

__all__ = [
    "DssReport",
    "EncryptedPdf",
    "FieldNameTaken",
    "InvalidPlacement",
    "InvalidRequest",
    "InvalidSigner",
    "KeywordNotFound",
    "Level",
    "MalformedReason",
    "NotAPdf",
    "PageOutOfRange",
    "PagingSeal",
    "PagingSealTooFewPages",
    "PdfLocked",
    "PdfReport",
    "PdfSealError",
    "PdfSealSigner",
    "PdfTooLarge",
    "PendingStamp",
    "PendingStampInvalid",
    "PictureTooLarge",
    "PictureUnreadable",
    "Placement",
    "RevocationInfoUnavailable",
    "RevocationMaterial",
    "SealPicture",
    "SignatureRejected",
    "SignatureReport",
    "SignatureTooLarge",
    "TimestampFailed",
    "TimestampReport",
    "TimestamperMissing",
    "UnsupportedPicture",
    "complete",
    "prepare",
    "stamp_pdf",
    "verify_pdf",
]

"""Typed errors of PDF stamping: ``SealError`` subclasses with a stable ``code`` and Chinese text.

Only stamping raises them (bad caller input, a refused signature, a TSA that does not answer).
Verification never raises for a bad PDF: it reports ``malformed`` with a reason instead.
"""

from __future__ import annotations

from seal.errors import SealError

__all__ = [
    "EncryptedPdf",
    "FieldNameTaken",
    "InvalidPlacement",
    "InvalidRequest",
    "InvalidSigner",
    "KeywordNotFound",
    "NotAPdf",
    "PageOutOfRange",
    "PagingSealTooFewPages",
    "PdfLocked",
    "PdfSealError",
    "PdfTooLarge",
    "PendingStampInvalid",
    "PictureTooLarge",
    "PictureUnreadable",
    "RevocationInfoUnavailable",
    "SignatureRejected",
    "SignatureTooLarge",
    "TimestampFailed",
    "TimestamperMissing",
    "UnsupportedPicture",
]


class PdfSealError(SealError):
    """Base of the errors of :mod:`seal.pdf`."""

    code = "pdf_error"
    message_zh = "PDF 盖章失败"


class NotAPdf(PdfSealError):
    code = "pdf_not_pdf"
    message_zh = "文件不是有效的 PDF 文档"


class PdfTooLarge(PdfSealError):
    code = "pdf_too_large"
    message_zh = "PDF 文件过大"


class EncryptedPdf(PdfSealError):
    code = "pdf_encrypted"
    message_zh = "PDF 文件已加密，无法盖章"


class PdfLocked(PdfSealError):
    """A certification signature that forbids any further change (DocMDP P=1)."""

    code = "pdf_locked"
    message_zh = "PDF 文件已被认证签名锁定，不允许再盖章"


class PageOutOfRange(PdfSealError):
    code = "pdf_page_out_of_range"
    message_zh = "盖章页码超出文档页数"


class KeywordNotFound(PdfSealError):
    code = "pdf_keyword_not_found"
    message_zh = "文档中未找到盖章关键字"


class InvalidPlacement(PdfSealError):
    code = "pdf_invalid_placement"
    message_zh = "盖章位置或印章尺寸无效"


class InvalidRequest(PdfSealError):
    """An option of the stamping call that is of the wrong type or out of bounds."""

    code = "pdf_invalid_request"
    message_zh = "盖章参数无效"


class PagingSealTooFewPages(PdfSealError):
    code = "pdf_paging_too_few_pages"
    message_zh = "骑缝章至少需要两页文档"


class PictureUnreadable(PdfSealError):
    code = "pdf_picture_unreadable"
    message_zh = "印章图片无法读取"


class UnsupportedPicture(PdfSealError):
    """Neither PNG, JPEG nor SVG, or an SVG refused by :func:`seal.pdf.svg.check_svg`."""

    code = "pdf_picture_unsupported"
    message_zh = "不支持该印章图片（须为 PNG、JPEG 或符合要求的 SVG）"


class PictureTooLarge(PdfSealError):
    code = "pdf_picture_too_large"
    message_zh = "印章图片过大"


class FieldNameTaken(PdfSealError):
    code = "pdf_field_exists"
    message_zh = "签名域名称已被使用"


class InvalidSigner(PdfSealError):
    """A key that does not belong to the certificate, a certificate not meant for signing, or a
    key type this library cannot put into a PDF signature."""

    code = "pdf_invalid_signer"
    message_zh = "签章证书或密钥不可用"


class SignatureRejected(PdfSealError):
    """The signature handed to ``complete`` does not verify with the signer's certificate."""

    code = "pdf_signature_invalid"
    message_zh = "签名值验证失败，未写入文档"


class PendingStampInvalid(PdfSealError):
    """A pending stamp blob that is not ours, of another format version, or altered."""

    code = "pdf_pending_invalid"
    message_zh = "待签章数据无效或已被篡改"


class SignatureTooLarge(PdfSealError):
    code = "pdf_signature_too_large"
    message_zh = "签名数据超出预留空间"


class TimestamperMissing(PdfSealError):
    code = "pdf_timestamper_missing"
    message_zh = "未提供时间戳服务"


class TimestampFailed(PdfSealError):
    code = "pdf_timestamp_failed"
    message_zh = "获取时间戳失败"


class RevocationInfoUnavailable(PdfSealError):
    code = "pdf_revocation_unavailable"
    message_zh = "无法获取或嵌入证书吊销信息"

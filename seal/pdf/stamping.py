"""Stamp a PDF: draw the seal (and its paging slices), then sign, in one go or in two phases.

``prepare`` does everything up to the signature with pyhanko's low-level ``PdfCMSEmbedder``:
the paging slices go into the incremental writer first, then the embedder creates the
signature field with the seal as its widget appearance, writes the update with a zero-filled
``/Contents`` and digests the byte range (SHA-256, or SM3 for SM2 keys). The signed attributes
over that digest are what the key must sign; :func:`seal.pdf.completion.complete` finishes
the stamp (CMS from pyhanko for RSA/ECDSA, from :mod:`seal.pdf.sign_sm2` for SM2, written into
the reserved region, then the DSS for B-LT). :func:`stamp_pdf` is the two back to back.

SubFilter: ``ETSI.CAdES.detached`` for RSA/ECDSA (a real PAdES baseline signature);
``adbe.pkcs7.detached`` for SM2, because PAdES' algorithm suites do not include SM2/SM3 (an
"ETSI" claim would be false) and the Chinese readers that do check SM2 expect PKCS#7 there.
The seal ID is written under ``/HurenSealID`` in the signature dictionary, which the signature
covers (and on every paging slice).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.signers import constants
from pyhanko.sign.signers.cms_embedder import (
    PdfCMSEmbedder,
    SigAppearanceSetup,
    SigIOSetup,
    SigObjSetup,
)
from pyhanko.sign.signers.pdf_byterange import (
    BuildProps,
    PreparedByteRangeDigest,
    SignatureObject,
)
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext

from cert_interop.x509 import Certificate
from seal.pdf.appearance import SealImage, seal_style
from seal.pdf.cms_api import CmsBuilder, builder_for
from seal.pdf.completion import complete
from seal.pdf.document import DEFAULT_MAX_PDF_BYTES, open_for_stamping
from seal.pdf.errors import (
    FieldNameTaken,
    InvalidRequest,
    InvalidSigner,
    NotAPdf,
    PdfSealError,
    RevocationInfoUnavailable,
    TimestamperMissing,
)
from seal.pdf.levels import Level, RevocationMaterial
from seal.pdf.paging import SEAL_ID_KEY, PagingSeal, draw_paging_seal
from seal.pdf.pending import PendingStamp
from seal.pdf.picture import SealPicture
from seal.pdf.placement import Placement, resolve
from seal.pdf.signer import PdfSealSigner, SignatureProfile, digest, profile_for
from seal.pdf.timestamps import resolve_timestamper, token_size, tsa_url

__all__ = ["prepare", "stamp_pdf"]

MAX_SEAL_ID = 128
MAX_TEXT = 256
MAX_FIELD_NAME = 64


def _check_text(value: str | None, what: str, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidRequest(f"{what} must be 1-{limit} characters", zh=f"{what} 长度无效")
    if any(ord(c) < 0x20 for c in value):
        raise InvalidRequest(f"{what} contains control characters", zh=f"{what} 含有控制字符")


def _field_names(reader: Any) -> set[str]:
    try:
        fields = reader.root["/AcroForm"]["/Fields"]
    except KeyError:
        return set()
    names: set[str] = set()
    for i in range(len(fields)):
        title = fields[i].get("/T")
        if title is not None:
            names.add(str(title))
    return names


def _choose_field_name(reader: Any, wanted: str | None) -> str:
    taken = _field_names(reader)
    if wanted is not None:
        _check_text(wanted, "field_name", MAX_FIELD_NAME)
        if "." in wanted:
            raise InvalidRequest("field_name must not contain '.'", zh="签名域名称不能包含“.”")
        if wanted in taken:
            raise FieldNameTaken(f"the document already has a field named {wanted!r}")
        return wanted
    n = 1
    while f"HurenSeal{n}" in taken:
        n += 1
    return f"HurenSeal{n}"


async def _reserve(
    builder: CmsBuilder, profile: SignatureProfile, when: datetime, ts: TimeStamper | None
) -> int:
    """Hex digits to reserve for ``/Contents``: a dry-run CMS, the TSA's token, a margin."""
    attrs = await builder.signed_attributes(digest(profile.digest), when)
    size = len(await builder.assemble(attrs, bytes(profile.max_signature_bytes), None))
    if ts is not None:
        size += await token_size(ts) + 64
    return 2 * (size + size // 4 + 1024)


def _with_pades_extension(writer: IncrementalPdfFileWriter) -> None:
    """PAdES asks for PDF 1.7 with Adobe's ESIC extension (or PDF 2.0)."""
    cast(Any, writer).ensure_output_version(version=(1, 7))
    if writer.output_version < (2, 0):
        writer.register_extension(constants.ESIC_EXTENSION_1)


def prepare(
    pdf: bytes,
    *,
    placement: Placement,
    picture: SealPicture | bytes,
    certificate: Certificate,
    chain: Sequence[Certificate] = (),
    level: Level = Level.B_B,
    timestamper: TimeStamper | str | None = None,
    revocation: RevocationMaterial | None = None,
    paging: PagingSeal | None = None,
    seal_id: str | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    signing_time: datetime | None = None,
    max_pdf_bytes: int = DEFAULT_MAX_PDF_BYTES,
) -> PendingStamp:
    """Draw the seal and reserve the signature; the result says what to sign.

    ``timestamper`` (a pyhanko ``TimeStamper`` or a TSA URL) is needed for B-T and B-LT; a URL
    travels in the pending stamp, an object must be given to :func:`complete` again.
    ``revocation`` is embedded for B-LT (or give a ``ValidationContext`` to ``complete``).
    """
    return asyncio.run(
        _prepare(
            pdf,
            placement=placement,
            picture=picture,
            certificate=certificate,
            chain=tuple(chain),
            level=level,
            timestamper=resolve_timestamper(timestamper),
            revocation=revocation or RevocationMaterial(),
            paging=paging,
            seal_id=seal_id,
            field_name=field_name,
            reason=reason,
            location=location,
            signing_time=signing_time,
            max_pdf_bytes=max_pdf_bytes,
        )
    )


async def _prepare(
    pdf: bytes,
    *,
    placement: Placement,
    picture: SealPicture | bytes,
    certificate: Certificate,
    chain: tuple[Certificate, ...],
    level: Level,
    timestamper: TimeStamper | None,
    revocation: RevocationMaterial,
    paging: PagingSeal | None,
    seal_id: str | None,
    field_name: str | None,
    reason: str | None,
    location: str | None,
    signing_time: datetime | None,
    max_pdf_bytes: int,
) -> PendingStamp:
    if not isinstance(placement, Placement):
        raise InvalidRequest("placement must be a Placement", zh="盖章位置参数无效")
    if not isinstance(level, Level):
        raise InvalidRequest("level must be a Level", zh="签章级别参数无效")
    for value, what in ((seal_id, "seal_id"), (reason, "reason"), (location, "location")):
        _check_text(value, what, MAX_SEAL_ID if what == "seal_id" else MAX_TEXT)
    profile = profile_for(certificate)
    if not all(isinstance(c, Certificate) for c in chain):
        raise InvalidSigner("chain certificates must be parsed cert_interop Certificates")
    if level.timestamped and timestamper is None:
        raise TimestamperMissing(f"a {level.value} signature needs a timestamper or a TSA URL")
    when = signing_time or datetime.now(UTC)
    if when.tzinfo is None:
        raise InvalidRequest("signing_time must carry a time zone", zh="签章时间须带时区")
    reader = open_for_stamping(pdf, max_pdf_bytes)
    pic = picture if isinstance(picture, SealPicture) else SealPicture.load(picture)
    try:
        box = resolve(placement, reader, pic.aspect)
        name = _choose_field_name(reader, field_name)
    except PdfSealError:
        raise
    except Exception as exc:  # a page tree or form pyhanko cannot walk
        raise NotAPdf(f"the document's pages or form cannot be read: {exc}") from exc
    builder = builder_for(profile, certificate, chain)
    reserved = await _reserve(builder, profile, when, timestamper)
    try:
        writer = IncrementalPdfFileWriter.from_reader(reader)
        image = SealImage(pic, writer)
        if paging is not None:
            draw_paging_seal(writer, image, paging, pic.aspect, name, seal_id)
        if profile.family != "sm2":
            _with_pades_extension(writer)
        spec = SigFieldSpec(
            sig_field_name=name,
            on_page=box.page_index,
            box=cast(tuple[int, int, int, int], box.rect),  # pyhanko writes floats as given
        )
        cms_writer = PdfCMSEmbedder(new_field_spec=spec).write_cms(field_name=name, writer=writer)
        next(cms_writer)
        sig_obj = SignatureObject(
            timestamp=when,
            subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED
            if profile.family == "sm2"
            else SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            app_build_props=BuildProps(name="Huren"),
            bytes_reserved=reserved,
        )
        if seal_id is not None:
            sig_obj[pdf_name(SEAL_ID_KEY)] = pdf_string(seal_id)
        appearance = SigAppearanceSetup(style=seal_style(image), timestamp=when, name=None)
        cms_writer.send(SigObjSetup(sig_placeholder=sig_obj, appearance_setup=appearance))
        prepared, output = cms_writer.send(SigIOSetup(md_algorithm=profile.digest))
    except PdfSealError:
        raise
    except Exception as exc:  # a page tree or object pyhanko cannot update
        raise NotAPdf(f"the document cannot be stamped: {exc}") from exc
    assert isinstance(prepared, PreparedByteRangeDigest)
    to_be_signed = await builder.signed_attributes(prepared.document_digest, when)
    return PendingStamp(
        to_be_signed=to_be_signed,
        algorithm=profile.algorithm,
        family=profile.family,
        digest=profile.digest,
        document=bytes(output.getvalue()),
        reserved_start=prepared.reserved_region_start,
        reserved_end=prepared.reserved_region_end,
        document_digest=prepared.document_digest,
        certificate=certificate.der,
        chain=tuple(c.der for c in chain),
        level=level,
        tsa_url=tsa_url(timestamper),
        revocation=revocation,
        field_name=name,
        signing_time=when,
        seal_id=seal_id,
    )


def stamp_pdf(
    pdf: bytes,
    *,
    signer: PdfSealSigner,
    placement: Placement,
    picture: SealPicture | bytes,
    level: Level = Level.B_B,
    timestamper: TimeStamper | str | None = None,
    revocation: RevocationMaterial | ValidationContext | None = None,
    paging: PagingSeal | None = None,
    seal_id: str | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    signing_time: datetime | None = None,
    max_pdf_bytes: int = DEFAULT_MAX_PDF_BYTES,
) -> bytes:
    """Stamp and sign in one call with a key object, an ``ExternalSigner`` or a callable.

    Errors raised by the key itself (a token's PIN, a removed USBKey) pass through untouched.
    """
    if not isinstance(signer, PdfSealSigner):
        raise InvalidSigner("signer must be a PdfSealSigner")
    ts = resolve_timestamper(timestamper)
    material = revocation if isinstance(revocation, RevocationMaterial) else None
    context = revocation if isinstance(revocation, ValidationContext) else None
    if level is Level.B_LT and material is None and context is None:
        raise RevocationInfoUnavailable(
            "a B-LT signature needs revocation material or a ValidationContext"
        )
    pending = prepare(
        pdf,
        placement=placement,
        picture=picture,
        certificate=signer.certificate,
        chain=signer.chain,
        level=level,
        timestamper=ts,
        revocation=material,
        paging=paging,
        seal_id=seal_id,
        field_name=field_name,
        reason=reason,
        location=location,
        signing_time=signing_time,
        max_pdf_bytes=max_pdf_bytes,
    )
    signature = signer.sign(pending.to_be_signed)
    return complete(pending, signature, timestamper=ts, validation_context=context)

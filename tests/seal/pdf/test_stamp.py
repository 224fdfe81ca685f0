"""Stamping with every signer shape and algorithm, checked by our verifier and independently
(pyhanko's validator for RSA/ECDSA, a raw ``cert_interop.cms`` check for SM2)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.validation.status import SignatureCoverageLevel

from cert_interop import signatures
from cert_interop.cms import oids as O
from seal.pdf import (
    Level,
    PdfSealSigner,
    PendingStamp,
    Placement,
    SealPicture,
    complete,
    prepare,
    stamp_pdf,
    verify_pdf,
)
from seal.pdf.cmsparts import signed_data
from seal.pdf.sign_sm2 import ATTR_SIGNING_CERTIFICATE_V2
from tests.seal.pdf.checks import pyhanko_sign, pyhanko_status, raw_cms, signed_content
from tests.seal.pdf.conftest import Ca, Pki, seal_jpeg
from tests.seal.pdf.pdfs import make_pdf
from tests.seal.pdf.tsa_server import dummy_timestamper

ALGS = ["rsa", "ecdsa", "sm2"]
SHAPES = ["key", "callable", "protocol", "two_phase"]
AT = Placement.at(2, 300, 200, size_mm=40)


class _TokenLike:
    """What a USBKey / PKCS#11 adapter looks like: ``sign(algorithm, data=…, digest=…)``."""

    def __init__(self, ca: Ca) -> None:
        self._key = ca.leaf.key
        self.calls: list[str] = []

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
        self.calls.append(algorithm)
        return signatures.sign(self._key, algorithm, data=data)


def _stamp(shape: str, ca: Ca, pdf: bytes, seal_picture: bytes, **kw: object) -> bytes:
    leaf = ca.leaf
    if shape == "two_phase":
        pending = prepare(
            pdf, placement=AT, picture=seal_picture, certificate=leaf.cert, chain=[ca.cert], **kw
        )  # type: ignore[arg-type]
        blob = PendingStamp.from_bytes(pending.to_bytes())
        signature = signatures.sign(leaf.key, blob.algorithm, data=blob.to_be_signed)
        return complete(blob, signature)
    if shape == "key":
        signer = ca.signer()
    elif shape == "callable":
        signer = PdfSealSigner.from_callable(
            lambda data, alg: signatures.sign(leaf.key, alg, data=data), leaf.cert, [ca.cert]
        )
    else:
        signer = PdfSealSigner(_TokenLike(ca), leaf.cert, (ca.cert,))
    return stamp_pdf(pdf, signer=signer, placement=AT, picture=seal_picture, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("alg", ALGS)
def test_every_signer_shape_and_algorithm(
    pdf_pki: Pki, seal_picture: bytes, alg: str, shape: str
) -> None:
    ca = pdf_pki.ca(alg)
    before = datetime.now(UTC) - timedelta(seconds=5)
    signed = _stamp(shape, ca, make_pdf(3), seal_picture, seal_id="5201020000001")

    report = verify_pdf(signed)
    assert not report.malformed and report.all_ok
    (sig,) = report.signatures
    assert sig.intact and sig.problem is None
    assert sig.algorithm == alg
    assert sig.digest_algorithm == ("sm3" if alg == "sm2" else "sha256")
    assert sig.coverage == "entire_file" and sig.modified_after_signing is False
    assert sig.signer_certificate == ca.leaf.cert.der
    assert ca.cert.der in sig.certificates
    assert sig.seal_id == "5201020000001"
    assert sig.signing_time is not None and sig.signing_time >= before
    assert sig.timestamp is None and sig.paging_seal_pages == ()

    if alg == "sm2":
        result = raw_cms(signed, sig.field_name)
        assert result.valid and result.signers[0].signature_algorithm == "sm2-sm3"
        assert not result.gm  # standard content types (see seal.pdf.sign_sm2)
        assert sig.subfilter == "/adbe.pkcs7.detached"
    else:
        status = pyhanko_status(signed, sig.field_name, [ca.cert])
        assert status.intact and status.valid and status.trusted and status.bottom_line
        assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        assert sig.subfilter == "/ETSI.CAdES.detached"


def test_sm2_cms_shape(pdf_pki: Pki, seal_picture: bytes) -> None:
    """GM/T 0010 algorithm OIDs, signed attributes incl. signingCertificateV2 over SM3."""
    signed = stamp_pdf(
        make_pdf(1),
        signer=pdf_pki.sm2.signer(),
        placement=Placement.at(1, 200, 200),
        picture=seal_picture,
    )
    der, _content = signed_content(signed, "HurenSeal1")
    sd = signed_data(der)
    si = sd["signer_infos"][0]
    assert si["digest_algorithm"]["algorithm"].dotted == O.SM3
    assert si["signature_algorithm"]["algorithm"].dotted == O.SM2_SIGN
    attrs = {a["type"].dotted for a in si["signed_attrs"]}
    assert attrs == {
        O.ATTR_CONTENT_TYPE,
        O.ATTR_MESSAGE_DIGEST,
        O.ATTR_SIGNING_TIME,
        ATTR_SIGNING_CERTIFICATE_V2,
    }
    assert sd["encap_content_info"]["content_type"].dotted == O.DATA


def test_the_widget_shows_the_seal_where_asked(pdf_pki: Pki, seal_picture: bytes) -> None:
    signed = stamp_pdf(
        make_pdf(3),
        signer=pdf_pki.rsa.signer(),
        placement=AT,
        picture=seal_picture,
        reason="投标文件签章",
        location="贵阳",
    )
    reader = PdfFileReader(io.BytesIO(signed))
    field = reader.root["/AcroForm"]["/Fields"][0]
    x0, y0, x1, y1 = (float(v) for v in field["/Rect"])
    width = 40 * 72 / 25.4
    assert (x1 - x0) == pytest.approx(width) and (y1 - y0) == pytest.approx(width)
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx((300, 200))
    page2 = reader.root["/Pages"]["/Kids"][1]
    (annot,) = (page2["/Annots"][i] for i in range(len(page2["/Annots"])))
    assert annot["/FT"] == "/Sig" and annot["/T"] == "HurenSeal1"
    resources = field["/AP"]["/N"]["/Resources"]
    assert resources["/ExtGState"]["/HurenSealGS"]["/BM"] == "/Multiply"
    assert resources["/XObject"]["/ImgHurenSeal"]["/Subtype"] == "/Image"
    report = verify_pdf(signed)
    assert report.signatures[0].reason == "投标文件签章"
    assert report.signatures[0].location == "贵阳"


def test_jpeg_picture(pdf_pki: Pki) -> None:
    picture = SealPicture.load(seal_jpeg())
    assert picture.format == "jpeg" and picture.image.mode == "RGB"
    signed = stamp_pdf(
        make_pdf(1),
        signer=pdf_pki.ecdsa.signer(),
        placement=Placement.at(1, 300, 300),
        picture=picture,
    )
    assert verify_pdf(signed).all_ok


def test_document_already_signed_gets_more_signatures(pdf_pki: Pki, seal_picture: bytes) -> None:
    """RSA, then SM2, then ECDSA: each earlier signature stays valid (later updates are only
    new signatures), and pyhanko agrees for the RSA one."""
    pdf = make_pdf(2)
    pdf = stamp_pdf(
        pdf, signer=pdf_pki.rsa.signer(), placement=Placement.at(1, 150, 150), picture=seal_picture
    )
    pdf = stamp_pdf(
        pdf, signer=pdf_pki.sm2.signer(), placement=Placement.at(1, 300, 150), picture=seal_picture
    )
    pdf = stamp_pdf(
        pdf,
        signer=pdf_pki.ecdsa.signer(),
        placement=Placement.at(2, 450, 150),
        picture=seal_picture,
    )
    report = verify_pdf(pdf)
    assert [s.field_name for s in report.signatures] == ["HurenSeal1", "HurenSeal2", "HurenSeal3"]
    assert [s.algorithm for s in report.signatures] == ["rsa", "sm2", "ecdsa"]
    assert report.all_ok
    first, second, third = report.signatures
    assert first.coverage == second.coverage == "entire_revision"
    assert first.modification_level == second.modification_level == "form_filling"
    assert third.coverage == "entire_file"
    assert [s.revision for s in report.signatures] == [1, 2, 3]
    status = pyhanko_status(pdf, "HurenSeal1", [pdf_pki.rsa.cert])
    assert status.intact and status.valid
    assert status.modification_level == ModificationLevel.FORM_FILLING and status.bottom_line


def test_form_with_a_text_field(pdf_pki: Pki, seal_picture: bytes) -> None:
    pdf = make_pdf(2, text_field=True)
    signed = stamp_pdf(pdf, signer=pdf_pki.ecdsa.signer(), placement=AT, picture=seal_picture)
    reader = PdfFileReader(io.BytesIO(signed))
    fields = reader.root["/AcroForm"]["/Fields"]
    names = [str(fields[i]["/T"]) for i in range(len(fields))]
    assert names == ["bidder_name", "HurenSeal1"]
    assert verify_pdf(signed).all_ok
    status = pyhanko_status(signed, "HurenSeal1", [pdf_pki.ecdsa.cert])
    assert status.bottom_line


def test_named_field(pdf_pki: Pki, seal_picture: bytes) -> None:
    signed = stamp_pdf(
        make_pdf(1),
        signer=pdf_pki.rsa.signer(),
        placement=Placement.at(1, 100, 100),
        picture=seal_picture,
        field_name="投标人签章",
    )
    assert verify_pdf(signed).signatures[0].field_name == "投标人签章"


def test_level_b_b_is_default_and_signing_time_is_kept(pdf_pki: Pki, seal_picture: bytes) -> None:
    when = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    for alg in ALGS:
        signed = stamp_pdf(
            make_pdf(1),
            signer=pdf_pki.ca(alg).signer(),
            level=Level.B_B,
            placement=Placement.at(1, 100, 100),
            picture=seal_picture,
            signing_time=when,
        )
        assert verify_pdf(signed).signatures[0].signing_time == when


def test_a_document_signed_by_someone_else(pdf_pki: Pki, seal_picture: bytes) -> None:
    """A pyhanko approval signature, then our SM2 seal: both verify, and the first one only
    sees a new signature after it."""
    other = pyhanko_sign(
        make_pdf(2), pdf_pki.ecdsa.leaf.key, pdf_pki.ecdsa.leaf.cert, pdf_pki.ecdsa.cert
    )
    signed = stamp_pdf(other, signer=pdf_pki.sm2.signer(), placement=AT, picture=seal_picture)
    report = verify_pdf(signed)
    author, seal = report.signatures
    assert author.field_name == "Author" and author.algorithm == "ecdsa" and author.ok
    assert author.modification_level == "form_filling"
    assert seal.ok and seal.algorithm == "sm2"
    assert pyhanko_status(signed, "Author", [pdf_pki.ecdsa.cert]).bottom_line


def test_a_certified_document_that_allows_form_filling(pdf_pki: Pki, seal_picture: bytes) -> None:
    """Stamping is allowed (DocMDP P=2), but pyhanko's diff policy, stricter than Acrobat,
    counts a new *visible* signature field after a certification signature as a change;
    our report follows pyhanko there."""
    certified = pyhanko_sign(
        make_pdf(2),
        pdf_pki.ecdsa.leaf.key,
        pdf_pki.ecdsa.leaf.cert,
        pdf_pki.ecdsa.cert,
        certify=True,
        docmdp_permissions=MDPPerm.FILL_FORMS,
    )
    signed = stamp_pdf(certified, signer=pdf_pki.rsa.signer(), placement=AT, picture=seal_picture)
    author, seal = verify_pdf(signed).signatures
    assert author.intact and author.modification_level == "other" and seal.ok
    assert not pyhanko_status(signed, "Author", [pdf_pki.ecdsa.cert]).bottom_line


def test_a_document_timestamp_is_reported(pdf_pki: Pki, seal_picture: bytes) -> None:
    signed = stamp_pdf(make_pdf(2), signer=pdf_pki.rsa.signer(), placement=AT, picture=seal_picture)
    w = IncrementalPdfFileWriter(io.BytesIO(signed))
    stamper = PdfTimeStamper(dummy_timestamper(pdf_pki.tsa_cert, pdf_pki.tsa_key))
    out = stamper.timestamp_pdf(w, "sha256")
    report = verify_pdf(out.getvalue())
    seal, doc_ts = report.signatures
    assert seal.ok and seal.modification_level == "lta_updates"
    assert doc_ts.kind == "document_timestamp" and doc_ts.ok
    assert doc_ts.timestamp is not None and doc_ts.timestamp.valid
    assert doc_ts.signer_certificate == pdf_pki.tsa_cert.der

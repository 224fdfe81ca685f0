"""B-T (an RFC 3161 token from a real HTTP TSA on 127.0.0.1) and B-LT (validation data in the
DSS), for RSA/ECDSA (checked by pyhanko too) and SM2."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import x509 as ax509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from cert_interop import signatures
from cert_interop.x509 import SingleResponse, build_ocsp_response, cert_id, parse_crl
from seal.pdf import (
    Level,
    PendingStamp,
    Placement,
    RevocationInfoUnavailable,
    RevocationMaterial,
    complete,
    prepare,
    stamp_pdf,
    verify_pdf,
)
from seal.pdf.cmsparts import signed_data, timestamp_tokens
from seal.pdf.tokens import check_token
from tests.seal.pdf.checks import pyhanko_status, raw_cms, signed_content
from tests.seal.pdf.conftest import Pki
from tests.seal.pdf.pdfs import make_pdf

ALGS = ["rsa", "ecdsa", "sm2"]
AT = Placement.at(1, 200, 200)


@pytest.mark.parametrize("alg", ALGS)
def test_b_t_with_a_tsa_url(pdf_pki: Pki, seal_picture: bytes, tsa_url: str, alg: str) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    signed = stamp_pdf(
        make_pdf(2),
        signer=pdf_pki.ca(alg).signer(),
        placement=AT,
        picture=seal_picture,
        level=Level.B_T,
        timestamper=tsa_url,
    )
    (sig,) = verify_pdf(signed).signatures
    assert sig.ok and sig.timestamp is not None
    assert sig.timestamp.valid and sig.timestamp.time is not None
    assert before <= sig.timestamp.time <= datetime.now(UTC) + timedelta(seconds=5)
    assert sig.timestamp.tsa_certificate == pdf_pki.tsa_cert.der
    if alg == "sm2":
        assert raw_cms(signed, sig.field_name).valid
    else:
        status = pyhanko_status(signed, sig.field_name, [pdf_pki.ca(alg).cert, pdf_pki.rsa.cert])
        assert status.bottom_line
        assert status.timestamp_validity is not None and status.timestamp_validity.intact
        assert status.timestamp_validity.valid and status.timestamp_validity.trusted


def test_b_t_in_two_phases_keeps_the_tsa_url(
    pdf_pki: Pki, seal_picture: bytes, tsa_url: str
) -> None:
    ca = pdf_pki.sm2
    pending = prepare(
        make_pdf(1),
        placement=AT,
        picture=seal_picture,
        certificate=ca.leaf.cert,
        level=Level.B_T,
        timestamper=tsa_url,
    )
    back = PendingStamp.from_bytes(pending.to_bytes())
    assert back.tsa_url == tsa_url
    signed = complete(back, signatures.sign(ca.leaf.key, back.algorithm, data=back.to_be_signed))
    ts = verify_pdf(signed).signatures[0].timestamp
    assert ts is not None and ts.valid


def test_a_token_stamps_only_its_own_signature(
    pdf_pki: Pki, seal_picture: bytes, tsa_url: str
) -> None:
    signed = stamp_pdf(
        make_pdf(1),
        signer=pdf_pki.sm2.signer(),
        placement=AT,
        picture=seal_picture,
        level=Level.B_T,
        timestamper=tsa_url,
    )
    der, _content = signed_content(signed, "HurenSeal1")
    si = signed_data(der)["signer_infos"][0]
    (token,) = timestamp_tokens(si)
    assert check_token(token, [bytes(si["signature"].native)]).valid
    other = check_token(token, [b"another signature value"])
    assert not other.valid and "imprint" in other.detail
    assert not check_token(b"\x30\x03\x02\x01\x01", [b"x"]).valid


def _dss(pdf: bytes) -> DocumentSecurityStore:
    return DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf)))


@pytest.mark.parametrize("alg", ALGS)
def test_b_lt_with_revocation_material(
    pdf_pki: Pki, seal_picture: bytes, tsa_url: str, alg: str
) -> None:
    ca = pdf_pki.ca(alg)
    crl = ca.crl_der()
    ocsp = build_ocsp_response(
        [SingleResponse(cert_id(ca.leaf.cert, ca.cert), "good", datetime.now(UTC))],
        signer=ca.cert,
        signer_key=ca.key,
    ).der
    signed = stamp_pdf(
        make_pdf(2),
        signer=ca.signer(),
        placement=AT,
        picture=seal_picture,
        level=Level.B_LT,
        timestamper=tsa_url,
        revocation=RevocationMaterial(crls=(crl,), ocsp_responses=(ocsp,)),
    )
    report = verify_pdf(signed)
    (sig,) = report.signatures
    assert report.dss.crls == (crl,) and report.dss.ocsp_responses == (ocsp,)
    assert {ca.leaf.cert.der, ca.cert.der, pdf_pki.tsa_cert.der} <= set(report.dss.certificates)
    # the DSS is a later update that changes nothing signed
    assert sig.ok and sig.coverage == "entire_revision"
    assert sig.modification_level == "lta_updates" and report.revisions == 3
    dss = _dss(signed)  # pyhanko reads the same DSS, with the signature's VRI entry
    assert [c.get_object().data for c in dss.crls] == [crl]
    assert len(dss.vri_entries) == 1
    if alg != "sm2":
        status = pyhanko_status(signed, sig.field_name, [ca.cert, pdf_pki.rsa.cert], crls=(crl,))
        assert status.bottom_line and status.modification_level == ModificationLevel.LTA_UPDATES


def test_b_lt_with_a_validation_context(pdf_pki: Pki, seal_picture: bytes, tsa_url: str) -> None:
    """RSA/ECDSA: pyhanko validates the chains with the context and embeds what it used."""
    ca = pdf_pki.ecdsa
    crls = (ca.crl_der(), pdf_pki.rsa.crl_der())
    vc = ValidationContext(
        trust_roots=[ax509.Certificate.load(c.cert.der) for c in (ca, pdf_pki.rsa)],
        crls=list(crls),
        allow_fetching=False,
    )
    signed = stamp_pdf(
        make_pdf(1),
        signer=ca.signer(),
        placement=AT,
        picture=seal_picture,
        level=Level.B_LT,
        timestamper=tsa_url,
        revocation=vc,
    )
    report = verify_pdf(signed)
    assert set(crls) <= set(report.dss.crls) and report.signatures[0].ok
    assert ca.cert.der in report.dss.certificates


def test_b_lt_sm2_with_a_validation_context(
    pdf_pki: Pki, seal_picture: bytes, tsa_url: str
) -> None:
    """SM2: pyhanko cannot validate the chain; the context lends its CRLs to our DSS."""
    crl = pdf_pki.sm2.crl_der()
    vc = ValidationContext(
        trust_roots=[ax509.Certificate.load(pdf_pki.sm2.cert.der)], crls=[crl], allow_fetching=False
    )
    signed = stamp_pdf(
        make_pdf(1),
        signer=pdf_pki.sm2.signer(),
        placement=AT,
        picture=seal_picture,
        level=Level.B_LT,
        timestamper=tsa_url,
        revocation=vc,
    )
    report = verify_pdf(signed)
    assert crl in report.dss.crls and report.signatures[0].ok


def test_b_lt_two_phases_needs_material_or_context(
    pdf_pki: Pki, seal_picture: bytes, tsa_url: str
) -> None:
    ca = pdf_pki.rsa
    pending = prepare(
        make_pdf(1),
        placement=AT,
        picture=seal_picture,
        certificate=ca.leaf.cert,
        level=Level.B_LT,
        timestamper=tsa_url,
    )
    signature = signatures.sign(ca.leaf.key, pending.algorithm, data=pending.to_be_signed)
    with pytest.raises(RevocationInfoUnavailable):
        complete(pending, signature)
    pem_crl = parse_crl(ca.crl_der()).pem()
    pending = prepare(
        make_pdf(1),
        placement=AT,
        picture=seal_picture,
        certificate=ca.leaf.cert,
        level=Level.B_LT,
        timestamper=tsa_url,
        revocation=RevocationMaterial(crls=(pem_crl,)),
    )
    back = PendingStamp.from_bytes(pending.to_bytes())
    signature = signatures.sign(ca.leaf.key, back.algorithm, data=back.to_be_signed)
    assert len(verify_pdf(complete(back, signature)).dss.crls) == 1
    with pytest.raises(RevocationInfoUnavailable):
        RevocationMaterial(crls=(b"not a crl",))

"""Independent second opinions on a signed PDF: pyhanko's validator (RSA/ECDSA) and a raw CMS
check with ``cert_interop.cms`` over the byte ranges (any algorithm, SM2 in particular)."""

from __future__ import annotations

import io

from asn1crypto import x509 as ax509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from cert_interop import cms
from cert_interop.cms import SignedDataResult
from cert_interop.x509 import Certificate
from seal.pdf.cmsparts import trim_der


def pyhanko_status(
    pdf: bytes, field: str, roots: list[Certificate], *, crls: tuple[bytes, ...] = ()
) -> PdfSignatureStatus:
    reader = PdfFileReader(io.BytesIO(pdf))
    sig = next(s for s in reader.embedded_signatures if s.field_name == field)
    vc = ValidationContext(
        trust_roots=[ax509.Certificate.load(c.der) for c in roots],
        crls=list(crls),
        allow_fetching=False,
    )
    return validate_pdf_signature(sig, vc)


def signed_content(pdf: bytes, field: str) -> tuple[bytes, bytes]:
    """(CMS DER without padding, the bytes its /ByteRange covers)."""
    reader = PdfFileReader(io.BytesIO(pdf))
    sig = next(s for s in reader.embedded_signatures if s.field_name == field)
    a, b, c, d = (int(v) for v in sig.byte_range)
    return trim_der(sig.pkcs7_content), pdf[a : a + b] + pdf[c : c + d]


def raw_cms(pdf: bytes, field: str) -> SignedDataResult:
    der, content = signed_content(pdf, field)
    return cms.verify(der, content=content)


def pyhanko_sign(
    pdf: bytes, leaf_key: object, leaf: Certificate, ca: Certificate, **meta: object
) -> bytes:
    """A signature made by pyhanko itself (a third party's signature, as far as we know)."""
    from asn1crypto import keys as akeys
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigFieldSpec
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key_der = leaf_key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = signers.SimpleSigner(
        signing_cert=ax509.Certificate.load(leaf.der),
        signing_key=akeys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([ax509.Certificate.load(ca.der)]),
    )
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="Author", **meta),  # type: ignore[arg-type]
        signer,
        new_field_spec=SigFieldSpec("Author", box=(50, 50, 150, 100)),
    )
    out = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)))
    return bytes(out.getvalue())

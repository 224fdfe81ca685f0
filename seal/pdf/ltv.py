"""B-LT: put certificates, CRLs and OCSP responses in the document's DSS, after the signature.

pyhanko's ``DocumentSecurityStore.add_dss`` writes the DSS (and the signature's VRI entry) as an
incremental update; it only handles opaque DER, so SM2 signatures get their DSS the same way.
With a pyhanko ``ValidationContext`` and an RSA/ECDSA signature, pyhanko's own
``async_add_validation_info`` validates the signer's (and the TSA's) chain and embeds what it
used; SM2 chains cannot be validated by pyhanko, so for SM2 the context only lends its CRLs and
OCSP responses.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from asn1crypto import crl as acrl
from asn1crypto import ocsp as aocsp
from asn1crypto import x509 as ax509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore, async_add_validation_info
from pyhanko_certvalidator import ValidationContext

from seal.pdf.errors import RevocationInfoUnavailable
from seal.pdf.levels import RevocationMaterial

__all__ = ["embed_material", "embed_with_context", "material_from_context"]


def material_from_context(context: ValidationContext) -> RevocationMaterial:
    """The CRLs and OCSP responses a validation context holds (given or fetched)."""
    return RevocationMaterial(
        crls=tuple(bytes(c.dump()) for c in context.crls),
        ocsp_responses=tuple(bytes(o.dump()) for o in context.ocsps),
    )


def embed_material(
    output: io.BytesIO,
    sig_contents: bytes,
    material: RevocationMaterial,
    certificates: Iterable[bytes],
) -> None:
    """Append a DSS update carrying ``material`` plus ``certificates`` (signer, chain, TSA)."""
    certs = list(dict.fromkeys([*certificates, *material.certificates]))
    try:
        DocumentSecurityStore.add_dss(
            output_stream=output,
            sig_contents=sig_contents,
            certs=[ax509.Certificate.load(c) for c in certs],
            crls=[acrl.CertificateList.load(c) for c in material.crls],
            ocsps=[aocsp.OCSPResponse.load(o) for o in material.ocsp_responses],
            force_write=True,
            strict=False,
        )
    except Exception as exc:
        raise RevocationInfoUnavailable(f"the DSS could not be written: {exc}") from exc


async def embed_with_context(
    output: io.BytesIO, field_name: str, context: ValidationContext
) -> None:
    """Validate the new signature's chains with ``context`` and embed what it used (RSA/ECDSA)."""
    try:
        reader = PdfFileReader(output, strict=False)
        signature = next(s for s in reader.embedded_signatures if s.field_name == field_name)
        await async_add_validation_info(
            signature, context, in_place=True, force_write=True, add_vri_entry=True
        )
    except Exception as exc:
        raise RevocationInfoUnavailable(
            f"revocation information could not be collected for the signer: {exc}"
        ) from exc

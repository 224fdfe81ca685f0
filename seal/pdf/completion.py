"""Finish a prepared stamp: check the signature, build the CMS, fill ``/Contents``, add the DSS.

The signature is verified with the certificate before anything is written, so a token holding
another key (or a bridge answering for another request) never produces a broken PDF. The CMS
comes from pyhanko for RSA/ECDSA and from :mod:`seal.pdf.sign_sm2` for SM2; pyhanko's
``PreparedByteRangeDigest.fill_with_cms`` writes it into the region ``prepare`` reserved.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any, cast

from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext

from cert_interop import signatures
from cert_interop.errors import CertInteropError
from cert_interop.x509 import Certificate
from seal.pdf import cmsparts
from seal.pdf.cms_api import builder_for
from seal.pdf.errors import (
    PendingStampInvalid,
    RevocationInfoUnavailable,
    SignatureRejected,
    SignatureTooLarge,
    TimestamperMissing,
)
from seal.pdf.levels import Level, RevocationMaterial
from seal.pdf.ltv import embed_material, embed_with_context, material_from_context
from seal.pdf.pending import PendingStamp
from seal.pdf.signer import der_signature, profile_for
from seal.pdf.timestamps import resolve_timestamper

__all__ = ["complete"]


def complete(
    pending: PendingStamp,
    signature: bytes,
    *,
    timestamper: TimeStamper | str | None = None,
    validation_context: ValidationContext | None = None,
) -> bytes:
    """Embed ``signature`` (the token's, over ``pending.to_be_signed``); returns the signed PDF.

    ``timestamper`` is needed again only when ``prepare`` was given an in-process timestamper
    (a URL travels in the pending stamp). ``validation_context`` serves B-LT in place of (or on
    top of) the revocation material given to ``prepare``.
    """
    if not isinstance(pending, PendingStamp):
        raise PendingStampInvalid("complete() takes the PendingStamp that prepare() returned")
    return asyncio.run(
        _complete(pending, signature, resolve_timestamper(timestamper), validation_context)
    )


async def _complete(
    p: PendingStamp,
    signature: bytes,
    timestamper: TimeStamper | None,
    context: ValidationContext | None,
) -> bytes:
    try:
        return await _fill(p, signature, timestamper, context)
    finally:
        if context is not None:  # its network sessions belong to this event loop
            await cast(Any, context).aclose()


async def _fill(
    p: PendingStamp,
    signature: bytes,
    timestamper: TimeStamper | None,
    context: ValidationContext | None,
) -> bytes:
    cert, chain = p.check()
    if not isinstance(signature, bytes | bytearray | memoryview):
        raise SignatureRejected("the signature must be bytes")
    sig = der_signature(bytes(signature), cert)
    try:
        ok = signatures.verify(cert.public_key, p.algorithm, sig, data=p.to_be_signed)
    except CertInteropError as exc:
        raise SignatureRejected(f"the signature cannot be checked: {exc}") from exc
    if not ok:
        raise SignatureRejected(
            f"the signature does not verify with the key of {cert.subject.rfc4514}"
        )
    ts = (timestamper or resolve_timestamper(p.tsa_url)) if p.level.timestamped else None
    if p.level.timestamped and ts is None:
        raise TimestamperMissing("give the timestamper again: the pending stamp has no TSA URL")
    cms = await builder_for(profile_for(cert), cert, chain).assemble(p.to_be_signed, sig, ts)
    room = (p.reserved_end - p.reserved_start - 2) // 2
    if len(cms) > room:
        raise SignatureTooLarge(f"the signature needs {len(cms)} bytes, {room} were reserved")
    out = io.BytesIO(p.document)
    prepared = PreparedByteRangeDigest(p.document_digest, p.reserved_start, p.reserved_end)
    contents = bytes(prepared.fill_with_cms(out, cms))
    if p.level is Level.B_LT:
        await _add_dss(out, p, cms, contents, [cert, *chain], context)
    return out.getvalue()


async def _add_dss(
    out: io.BytesIO,
    p: PendingStamp,
    cms: bytes,
    contents: bytes,
    certs: list[Certificate],
    context: ValidationContext | None,
) -> None:
    material = p.revocation
    if context is not None and p.family != "sm2":
        await embed_with_context(out, p.field_name, context)
        if not material.empty:
            embed_material(out, contents, material, ())
        return
    if context is not None:
        extra = material_from_context(context)
        material = RevocationMaterial(
            certificates=material.certificates,
            crls=material.crls + extra.crls,
            ocsp_responses=material.ocsp_responses + extra.ocsp_responses,
        )
    if material.empty:
        raise RevocationInfoUnavailable(
            "a B-LT signature needs revocation material or a ValidationContext"
        )
    tsa_certs: list[bytes] = []
    signer_info = cmsparts.signed_data(cms)["signer_infos"][0]
    for token in cmsparts.timestamp_tokens(signer_info):
        tsa_certs.extend(cmsparts.certificates(cmsparts.signed_data(token)))
    embed_material(out, contents, material, [c.der for c in certs] + tsa_certs)

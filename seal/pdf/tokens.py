"""Check an RFC 3161 timestamp token against what it claims to stamp.

The token is a CMS SignedData over a TSTInfo; ``cert_interop.cms.verify`` checks its signature
(RSA, ECDSA or SM2 TSAs alike) and the imprint is recomputed here with the token's own hash
(SHA-2 or SM3). Whether the TSA is trusted is the caller's question: the TSA's certificate is
returned with the verdict.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC

from asn1crypto import tsp
from cryptography.hazmat.primitives import hashes

from cert_interop import cms
from cert_interop.cms import oids as O
from cert_interop.errors import CertInteropError
from seal.pdf.report import TimestampReport

__all__ = ["TST_INFO", "check_token"]

TST_INFO = "1.2.840.113549.1.9.16.1.4"
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sm3": hashes.SM3,
}


def check_token(token: bytes, stamped: Sequence[bytes | memoryview]) -> TimestampReport:
    """Verdict on ``token`` as a timestamp of the concatenation of ``stamped``."""
    content = io.BytesIO()
    try:
        result = cms.verify(token, out=content)
    except CertInteropError as exc:
        return TimestampReport(False, None, f"the token does not parse: {exc}", None)
    signer = result.signers[0] if result.signers else None
    tsa_cert = signer.certificate.der if signer and signer.certificate else None
    certs = tuple(c.der for c in result.certificates)
    if result.content_type != TST_INFO:
        return TimestampReport(False, None, "the token is not a TSTInfo", tsa_cert, certs)
    try:
        info = tsp.TSTInfo.load(content.getvalue())
        imprint = info["message_imprint"]
        digest_name = O.DIGESTS.get(imprint["hash_algorithm"]["algorithm"].dotted)
        expected = bytes(imprint["hashed_message"].native)
        when = info["gen_time"].native
    except Exception as exc:
        return TimestampReport(False, None, f"the TSTInfo does not parse: {exc}", tsa_cert, certs)
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if digest_name not in _HASHES:
        return TimestampReport(False, when, "the imprint's hash is unsupported", tsa_cert, certs)
    h = hashes.Hash(_HASHES[digest_name]())
    for part in stamped:
        h.update(part)
    if h.finalize() != expected:
        return TimestampReport(
            False, when, "the token stamps other data (imprint mismatch)", tsa_cert, certs
        )
    if not result.valid:
        detail = signer.detail if signer else "the token has no signer"
        return TimestampReport(
            False, when, f"the token's signature fails: {detail}", tsa_cert, certs
        )
    return TimestampReport(
        True,
        when,
        f"stamped by {signer.certificate.subject.rfc4514}"
        if signer and signer.certificate
        else "stamped",
        tsa_cert,
        certs,
    )

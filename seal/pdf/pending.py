"""A stamp waiting for its signature: what ``prepare`` hands out and ``complete`` takes back.

Between the two it sits in the ephemeral store (two HTTP requests apart), so it serialises to
bytes with ``to_bytes`` and comes back with ``from_bytes``. The format is a fixed magic, a
format version, a JSON header, the prepared PDF, and a tag: HMAC-SHA256 under the caller's key
when one is given (then a blob written by anyone without the key is refused), SHA-256 otherwise
(then only damage and foreign data are caught). ``complete`` also re-derives everything it can
(the byte-range digest, the signed messageDigest, the certificate) before trusting a blob.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import cms as acms

from cert_interop import sm2
from cert_interop.errors import CertInteropError
from cert_interop.x509 import Certificate, parse_certificate
from seal.pdf.errors import PdfSealError, PendingStampInvalid
from seal.pdf.levels import Level, RevocationMaterial
from seal.pdf.signer import Family, digest, profile_for

__all__ = ["FORMAT_VERSION", "MAGIC", "PendingStamp"]

MAGIC = b"HURENPDFSEAL"
FORMAT_VERSION = 1
MAX_BLOB = 256 * 1024 * 1024
_TAG = 32
_HEAD = struct.Struct(">BBI")  # version, keyed, header length
_DOC = struct.Struct(">Q")
ATTR_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError("expected base64 text")
    return base64.b64decode(text, validate=True)


@dataclass(frozen=True)
class PendingStamp:
    """A prepared document and the bytes its signer must sign."""

    to_be_signed: bytes
    """DER signed attributes: sign these raw (``data``, not a digest) with :attr:`algorithm`."""
    algorithm: str
    """``rsa-pkcs1-sha256``, ``ecdsa-sha256`` or ``sm2-sm3`` (the ``Token`` mechanism names)."""
    family: Family
    digest: str
    document: bytes = field(repr=False)
    """The PDF with the seal drawn and the signature's ``/Contents`` reserved."""
    reserved_start: int
    reserved_end: int
    document_digest: bytes
    certificate: bytes
    """The signer's certificate (DER)."""
    chain: tuple[bytes, ...]
    level: Level
    tsa_url: str | None
    revocation: RevocationMaterial
    field_name: str
    signing_time: datetime
    seal_id: str | None

    @property
    def digest_to_sign(self) -> bytes:
        """For tokens that sign a digest (``Token.sign(digest=…)``): SHA-256 of
        :attr:`to_be_signed`, or for SM2 ``e = SM3(Z || to_be_signed)`` with the default ID."""
        if self.family != "sm2":
            return digest("sha256", self.to_be_signed)
        key = parse_certificate(self.certificate).public_key
        if not isinstance(key, sm2.Sm2PublicKey):
            raise PendingStampInvalid("the pending stamp's certificate is not SM2")
        return digest("sm3", sm2.z_value(key), self.to_be_signed)

    def check(self) -> tuple[Certificate, tuple[Certificate, ...]]:
        """Re-derive what the stamp claims (placeholder, digest, signed messageDigest,
        certificate and algorithm); returns the signer's certificate and chain."""
        try:
            cert = parse_certificate(self.certificate)
            chain = tuple(parse_certificate(c) for c in self.chain)
            profile = profile_for(cert)
        except (CertInteropError, PdfSealError) as exc:
            raise PendingStampInvalid(
                f"the pending stamp's certificate is unusable: {exc}"
            ) from exc
        if (profile.algorithm, profile.family, profile.digest) != (
            self.algorithm,
            self.family,
            self.digest,
        ):
            raise PendingStampInvalid("the pending stamp's algorithm does not fit its certificate")
        doc, start, end = self.document, self.reserved_start, self.reserved_end
        if not 0 < start < end <= len(doc) or end - start < 4:
            raise PendingStampInvalid("the pending stamp's reserved region is impossible")
        if doc[start:end] != b"<" + b"0" * (end - start - 2) + b">":
            raise PendingStampInvalid("the pending stamp's signature placeholder was altered")
        view = memoryview(doc)
        if digest(self.digest, view[:start], view[end:]) != self.document_digest:
            raise PendingStampInvalid("the pending stamp's document does not match its digest")
        try:
            attrs = acms.CMSAttributes.load(self.to_be_signed)
            signed = [
                bytes(a["values"][0].native)
                for a in attrs
                if a["type"].dotted == ATTR_MESSAGE_DIGEST
            ]
        except Exception as exc:
            raise PendingStampInvalid(f"the signed attributes do not parse: {exc}") from exc
        if signed != [self.document_digest]:
            raise PendingStampInvalid("the signed attributes do not sign this document")
        return cert, chain

    def _header(self) -> dict[str, Any]:
        return {
            "to_be_signed": _b64(self.to_be_signed),
            "algorithm": self.algorithm,
            "family": self.family,
            "digest": self.digest,
            "reserved": [self.reserved_start, self.reserved_end],
            "document_digest": _b64(self.document_digest),
            "certificate": _b64(self.certificate),
            "chain": [_b64(c) for c in self.chain],
            "level": self.level.value,
            "tsa_url": self.tsa_url,
            "revocation": {
                "certificates": [_b64(c) for c in self.revocation.certificates],
                "crls": [_b64(c) for c in self.revocation.crls],
                "ocsp_responses": [_b64(o) for o in self.revocation.ocsp_responses],
            },
            "field_name": self.field_name,
            "signing_time": self.signing_time.isoformat(),
            "seal_id": self.seal_id,
        }

    def to_bytes(self, key: bytes | None = None) -> bytes:
        """Serialise; with ``key`` the blob is authenticated (HMAC-SHA256)."""
        header = json.dumps(self._header(), separators=(",", ":")).encode("utf-8")
        body = b"".join(
            [
                MAGIC,
                _HEAD.pack(FORMAT_VERSION, 1 if key is not None else 0, len(header)),
                header,
                _DOC.pack(len(self.document)),
                self.document,
            ]
        )
        return body + _tag(body, key)

    @classmethod
    def from_bytes(cls, blob: object, key: bytes | None = None) -> PendingStamp:
        """Deserialise a blob from :meth:`to_bytes`; ``PendingStampInvalid`` for anything else."""
        if not isinstance(blob, bytes | bytearray | memoryview):
            raise PendingStampInvalid("a pending stamp is bytes")
        raw = bytes(blob)
        if len(raw) > MAX_BLOB or len(raw) < len(MAGIC) + _HEAD.size + _DOC.size + _TAG:
            raise PendingStampInvalid("not a pending stamp (size)")
        if not raw.startswith(MAGIC):
            raise PendingStampInvalid("not a pending stamp (magic)")
        version, keyed, header_len = _HEAD.unpack_from(raw, len(MAGIC))
        if version != FORMAT_VERSION:
            raise PendingStampInvalid(f"pending stamp format {version} is not supported")
        if bool(keyed) != (key is not None):
            raise PendingStampInvalid(
                "the pending stamp was written with a key" if keyed else "written without a key"
            )
        body, tag = raw[:-_TAG], raw[-_TAG:]
        if not hmac.compare_digest(tag, _tag(body, key)):
            raise PendingStampInvalid("the pending stamp was altered")
        try:
            at = len(MAGIC) + _HEAD.size
            header = json.loads(raw[at : at + header_len].decode("utf-8"))
            at += header_len
            (doc_len,) = _DOC.unpack_from(raw, at)
            at += _DOC.size
            document = raw[at : at + doc_len]
            if at + doc_len != len(body):
                raise ValueError("document length mismatch")
            return cls._from_header(header, document)
        except PendingStampInvalid:
            raise
        except (
            ValueError,
            TypeError,
            KeyError,
            struct.error,
            binascii.Error,
            PdfSealError,
        ) as exc:
            raise PendingStampInvalid(f"the pending stamp is malformed: {exc}") from exc

    @classmethod
    def _from_header(cls, h: dict[str, Any], document: bytes) -> PendingStamp:
        start, end = (int(v) for v in h["reserved"])
        family = h["family"]
        if family not in ("rsa", "ecdsa", "sm2"):
            raise ValueError(f"unknown family {family!r}")
        rev = h["revocation"]
        tsa_url = h["tsa_url"]
        seal_id = h["seal_id"]
        if tsa_url is not None and not isinstance(tsa_url, str):
            raise TypeError("tsa_url")
        if seal_id is not None and not isinstance(seal_id, str):
            raise TypeError("seal_id")
        signing_time = datetime.fromisoformat(str(h["signing_time"]))
        if signing_time.tzinfo is None:
            raise ValueError("signing time without a time zone")
        return cls(
            to_be_signed=_unb64(h["to_be_signed"]),
            algorithm=str(h["algorithm"]),
            family=family,
            digest=str(h["digest"]),
            document=document,
            reserved_start=start,
            reserved_end=end,
            document_digest=_unb64(h["document_digest"]),
            certificate=_unb64(h["certificate"]),
            chain=tuple(_unb64(c) for c in h["chain"]),
            level=Level(h["level"]),
            tsa_url=tsa_url,
            revocation=RevocationMaterial(
                certificates=tuple(_unb64(c) for c in rev["certificates"]),
                crls=tuple(_unb64(c) for c in rev["crls"]),
                ocsp_responses=tuple(_unb64(o) for o in rev["ocsp_responses"]),
            ),
            field_name=str(h["field_name"]),
            signing_time=signing_time,
            seal_id=seal_id,
        )


def _tag(body: bytes, key: bytes | None) -> bytes:
    if key is None:
        return hashlib.sha256(body).digest()
    return hmac.new(key, body, hashlib.sha256).digest()

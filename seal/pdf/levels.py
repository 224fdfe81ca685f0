"""What the caller asks a signature to carry: its PAdES level and the revocation data to embed.

``B-B`` is the signature alone; ``B-T`` adds an RFC 3161 timestamp token over the signature
value; ``B-LT`` adds, on top of ``B-T``, certificates, CRLs and OCSP responses in the document's
DSS (a later incremental update that the signature's coverage analysis accepts as LTA data).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from asn1crypto import crl as acrl
from asn1crypto import ocsp as aocsp
from asn1crypto import pem as apem
from asn1crypto import x509 as ax509

from seal.pdf.errors import RevocationInfoUnavailable

__all__ = ["Level", "RevocationMaterial"]


class Level(enum.Enum):
    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"

    @property
    def timestamped(self) -> bool:
        return self is not Level.B_B


def _der(blob: object, kind: str, loader: Any) -> bytes:
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise RevocationInfoUnavailable(f"a {kind} must be given as bytes")
    raw = bytes(blob)
    if apem.detect(raw):
        _type, _headers, raw = apem.unarmor(raw)
    try:
        parsed = loader.load(raw)
        _ = parsed.native  # parse it all now, not at embedding time
    except Exception as exc:
        raise RevocationInfoUnavailable(f"a {kind} does not parse: {exc}") from exc
    return bytes(raw)


@dataclass(frozen=True)
class RevocationMaterial:
    """Validation data to put in the DSS (DER or PEM in, DER kept)."""

    certificates: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()
    ocsp_responses: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "certificates",
            tuple(_der(c, "certificate", ax509.Certificate) for c in self.certificates),
        )
        object.__setattr__(
            self, "crls", tuple(_der(c, "CRL", acrl.CertificateList) for c in self.crls)
        )
        object.__setattr__(
            self,
            "ocsp_responses",
            tuple(_der(o, "OCSP response", aocsp.OCSPResponse) for o in self.ocsp_responses),
        )

    @property
    def empty(self) -> bool:
        return not (self.certificates or self.crls or self.ocsp_responses)

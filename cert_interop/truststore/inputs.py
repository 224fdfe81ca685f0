"""What operators hand the trust store: certificate bundles and references to stored CAs.

Kept apart from the store so that the parsing rules (which PEM blocks count, what a fingerprint
reference looks like) can be tested on their own, without a database.
"""

from __future__ import annotations

import re
import unicodedata

from cert_interop.errors import CertInteropError, MalformedInput
from cert_interop.x509 import Certificate, parse_certificate

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_CERTIFICATES",
    "MIN_FINGERPRINT_PREFIX",
    "clean_name",
    "is_uuid",
    "looks_like_reference",
    "normalize_fingerprint",
    "read_certificates",
]

MAX_BUNDLE_BYTES = 4 << 20
"""Largest bundle accepted (a CA's published chain is a few KiB)."""
MAX_BUNDLE_CERTIFICATES = 64
MIN_FINGERPRINT_PREFIX = 8
"""Shortest fingerprint prefix a reference may use: 32 bits, so a typo rarely hits another CA."""

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n(.*?)-----END \1-----", re.DOTALL)
_CERT_LABELS = frozenset({b"CERTIFICATE", b"X509 CERTIFICATE"})
_PKCS7_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX = re.compile(r"[0-9a-f]+")


def read_certificates(data: bytes, what: str = "input") -> list[Certificate]:
    """Every certificate of a PEM bundle (in order), or the one certificate of a DER file.

    Text around PEM blocks (OpenSSL's ``subject=`` lines) is ignored; a block of another kind
    (a private key, a CRL) is refused rather than skipped, since it means the wrong file was
    given. Raises ``MalformedInput`` naming the block that does not parse.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInput(f"{what} must be bytes")
    raw = bytes(data)
    if not raw.strip():
        raise MalformedInput(f"{what} is empty")
    if len(raw) > MAX_BUNDLE_BYTES:
        raise MalformedInput(f"{what} is larger than {MAX_BUNDLE_BYTES} bytes")
    if b"-----BEGIN" not in raw:
        try:
            return [parse_certificate(raw)]
        except CertInteropError as exc:
            hint = ""
            if _PKCS7_SIGNED_DATA in raw[:64]:
                hint = (
                    " (it looks like a PKCS#7 .p7b bundle: convert it with "
                    "`openssl pkcs7 -print_certs -in FILE`)"
                )
            raise MalformedInput(f"{what}: {exc}{hint}") from None
    blocks = list(_PEM_BLOCK.finditer(raw))
    if not blocks:
        raise MalformedInput(f"{what} has a PEM header but no complete PEM block")
    if len(blocks) > MAX_BUNDLE_CERTIFICATES:
        raise MalformedInput(
            f"{what} holds {len(blocks)} PEM blocks; at most {MAX_BUNDLE_CERTIFICATES} are accepted"
        )
    certs: list[Certificate] = []
    for i, block in enumerate(blocks, 1):
        label = block.group(1)
        where = f"{what}, PEM block #{i}" if len(blocks) > 1 else what
        if label not in _CERT_LABELS:
            raise MalformedInput(
                f"{where} is a {label.decode()} block; only CERTIFICATE blocks are accepted"
            )
        try:
            certs.append(parse_certificate(block.group(0)))
        except CertInteropError as exc:
            raise MalformedInput(f"{where}: {exc}") from None
    return certs


def normalize_fingerprint(text: str) -> str | None:
    """Lower-case hex of a SHA-256 fingerprint or prefix as people write it (``AB:CD…``,
    ``sha256:abcd…``, spaced groups), or None when ``text`` is not one (too short, not hex)."""
    value = text.strip()
    if value[:7].lower() == "sha256:" or value[:7].lower() == "sha256=":
        value = value[7:]
    value = "".join(ch for ch in value if ch not in ": \t").lower()
    if MIN_FINGERPRINT_PREFIX <= len(value) <= 64 and _HEX.fullmatch(value):
        return value
    return None


def is_uuid(text: str) -> bool:
    """A stored CA's id (canonical lower-case UUID)."""
    return _UUID.fullmatch(text.strip().lower()) is not None


def looks_like_reference(text: str) -> bool:
    """True when ``text`` could be read as an id or a fingerprint: such names are refused so
    that every reference stays unambiguous."""
    return is_uuid(text) or normalize_fingerprint(text) is not None


def clean_name(text: str) -> str:
    """A CA name without control characters and surrounding spaces (it is printed in tables)."""
    kept = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(kept.split())

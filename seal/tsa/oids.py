"""Object identifiers and hash tables of RFC 3161 / RFC 5035, and our default TSA policy.

The default policy sits under the ITU-T X.667 UUID arc (``2.25.<uuid>``): it is globally
unique without registering anything, so a token never claims someone else's policy. The
platform replaces it with its own registered OID through configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from cryptography.hazmat.primitives import hashes

from cert_interop.cms import oids as cms_oids

TST_INFO: Final = "1.2.840.113549.1.9.16.1.4"  # id-ct-TSTInfo
SIGNING_CERTIFICATE: Final = "1.2.840.113549.1.9.16.2.12"  # RFC 2634, ESSCertID (SHA-1)
SIGNING_CERTIFICATE_V2: Final = "1.2.840.113549.1.9.16.2.47"  # RFC 5035, ESSCertIDv2
KP_TIME_STAMPING: Final = "1.3.6.1.5.5.7.3.8"  # id-kp-timeStamping
EXTENDED_KEY_USAGE: Final = "2.5.29.37"

DEFAULT_POLICY: Final = "2.25.255578140594412909382561363979854947614"
"""UUID c0468f35-8112-4c8b-91a9-7a9c724c251e as an OID: Huren's default timestamp policy."""

IMPRINT_HASHES: Final[dict[str, str]] = {
    cms_oids.SHA256: "sha256",
    cms_oids.SHA384: "sha384",
    cms_oids.SHA512: "sha512",
    cms_oids.SM3: "sm3",
}
"""Message imprint algorithms the TSA accepts: OID → name."""
IMPRINT_OIDS: Final[dict[str, str]] = {name: oid for oid, name in IMPRINT_HASHES.items()}

HASHES: Final[dict[str, Callable[[], hashes.HashAlgorithm]]] = {
    "sha1": hashes.SHA1,  # read only: ESSCertID v1 in tokens of other TSAs
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sm3": hashes.SM3,
}


def digest(name: str, data: bytes) -> bytes:
    """``name`` digest of ``data`` (a name of :data:`HASHES`)."""
    h = hashes.Hash(HASHES[name]())
    h.update(data)
    return h.finalize()


def digest_size(name: str) -> int:
    return HASHES[name]().digest_size

"""Object identifiers of CMS (RFC 5652, 5083, 5084, 5753, 8017) and of GM/T 0010 / GM/T 0006.

Sources: RFC texts; the SM OIDs from GM/T 0006 as listed in GmSSL (``doc/oid.md``, ``src/cms.c``)
and OpenSSL 3.0's object table (``openssl list -cipher-algorithms`` names
``1.2.156.10197.1.104.2`` SM4-CBC on this machine). One table per concern, so a parser can say
"unknown" without guessing.
"""

from __future__ import annotations

from typing import Final

# --- content types ---------------------------------------------------------------------------
DATA: Final = "1.2.840.113549.1.7.1"
SIGNED_DATA: Final = "1.2.840.113549.1.7.2"
ENVELOPED_DATA: Final = "1.2.840.113549.1.7.3"
AUTH_ENVELOPED_DATA: Final = "1.2.840.113549.1.9.16.1.23"  # RFC 5083
GM_DATA: Final = "1.2.156.10197.6.1.4.2.1"  # GM/T 0010
GM_SIGNED_DATA: Final = "1.2.156.10197.6.1.4.2.2"
GM_ENVELOPED_DATA: Final = "1.2.156.10197.6.1.4.2.3"

SIGNED_TYPES: Final = frozenset({SIGNED_DATA, GM_SIGNED_DATA})
ENVELOPED_TYPES: Final = frozenset({ENVELOPED_DATA, GM_ENVELOPED_DATA})
DATA_TYPES: Final = frozenset({DATA, GM_DATA})

# --- signed attributes -----------------------------------------------------------------------
ATTR_CONTENT_TYPE: Final = "1.2.840.113549.1.9.3"
ATTR_MESSAGE_DIGEST: Final = "1.2.840.113549.1.9.4"
ATTR_SIGNING_TIME: Final = "1.2.840.113549.1.9.5"

# --- digests: OID → name (names as ``cryptography`` and ``hashlib`` spell them) -----------------
SHA1: Final = "1.3.14.3.2.26"
SHA224: Final = "2.16.840.1.101.3.4.2.4"
SHA256: Final = "2.16.840.1.101.3.4.2.1"
SHA384: Final = "2.16.840.1.101.3.4.2.2"
SHA512: Final = "2.16.840.1.101.3.4.2.3"
SM3: Final = "1.2.156.10197.1.401"
DIGESTS: Final[dict[str, str]] = {
    SHA1: "sha1",
    SHA224: "sha224",
    SHA256: "sha256",
    SHA384: "sha384",
    SHA512: "sha512",
    SM3: "sm3",
}
DIGEST_OIDS: Final[dict[str, str]] = {name: oid for oid, name in DIGESTS.items()}

# --- signature algorithms: OID → (family, hash named by the OID or None) -----------------------
RSA_ENCRYPTION: Final = "1.2.840.113549.1.1.1"
RSASSA_PSS: Final = "1.2.840.113549.1.1.10"
MGF1: Final = "1.2.840.113549.1.1.8"
EC_PUBLIC_KEY: Final = "1.2.840.10045.2.1"
ECDSA_SHA256: Final = "1.2.840.10045.4.3.2"
ECDSA_SHA384: Final = "1.2.840.10045.4.3.3"
ECDSA_SHA512: Final = "1.2.840.10045.4.3.4"
SM2: Final = "1.2.156.10197.1.301"
SM2_SIGN: Final = "1.2.156.10197.1.301.1"  # GM/T 0010 digestEncryptionAlgorithm
SM2_ENCRYPT: Final = "1.2.156.10197.1.301.3"
SM2_WITH_SM3: Final = "1.2.156.10197.1.501"  # what GmSSL 3 writes in SignerInfo
SIGNATURES: Final[dict[str, tuple[str, str | None]]] = {
    RSA_ENCRYPTION: ("rsa", None),
    "1.2.840.113549.1.1.5": ("rsa", "sha1"),
    "1.2.840.113549.1.1.14": ("rsa", "sha224"),
    "1.2.840.113549.1.1.11": ("rsa", "sha256"),
    "1.2.840.113549.1.1.12": ("rsa", "sha384"),
    "1.2.840.113549.1.1.13": ("rsa", "sha512"),
    RSASSA_PSS: ("rsa-pss", None),
    EC_PUBLIC_KEY: ("ecdsa", None),
    "1.2.840.10045.4.1": ("ecdsa", "sha1"),
    "1.2.840.10045.4.3.1": ("ecdsa", "sha224"),
    ECDSA_SHA256: ("ecdsa", "sha256"),
    ECDSA_SHA384: ("ecdsa", "sha384"),
    ECDSA_SHA512: ("ecdsa", "sha512"),
    SM2_SIGN: ("sm2", "sm3"),
    SM2_WITH_SM3: ("sm2", "sm3"),
    SM2: ("sm2", "sm3"),
}
ECDSA_BY_HASH: Final[dict[str, str]] = {
    "sha256": ECDSA_SHA256,
    "sha384": ECDSA_SHA384,
    "sha512": ECDSA_SHA512,
}

# --- key transport and key agreement ---------------------------------------------------------
RSAES_OAEP: Final = "1.2.840.113549.1.1.7"
P_SPECIFIED: Final = "1.2.840.113549.1.1.9"
# dhSinglePass-stdDH-<hash>kdf-scheme (RFC 5753 / SEC 1): OID → KDF hash
ECDH_STD_SHA1KDF: Final = "1.3.133.16.840.63.0.2"
ECDH_STD_SHA224KDF: Final = "1.3.132.1.11.0"
ECDH_STD_SHA256KDF: Final = "1.3.132.1.11.1"
ECDH_STD_SHA384KDF: Final = "1.3.132.1.11.2"
ECDH_STD_SHA512KDF: Final = "1.3.132.1.11.3"
ECDH_SCHEMES: Final[dict[str, str]] = {
    ECDH_STD_SHA1KDF: "sha1",
    ECDH_STD_SHA224KDF: "sha224",
    ECDH_STD_SHA256KDF: "sha256",
    ECDH_STD_SHA384KDF: "sha384",
    ECDH_STD_SHA512KDF: "sha512",
}
AES128_WRAP: Final = "2.16.840.1.101.3.4.1.5"
AES192_WRAP: Final = "2.16.840.1.101.3.4.1.25"
AES256_WRAP: Final = "2.16.840.1.101.3.4.1.45"
KEY_WRAPS: Final[dict[str, int]] = {AES128_WRAP: 16, AES192_WRAP: 24, AES256_WRAP: 32}

# --- content encryption: OID → (name, key bytes, mode) -----------------------------------------
AES128_CBC: Final = "2.16.840.1.101.3.4.1.2"
AES192_CBC: Final = "2.16.840.1.101.3.4.1.22"
AES256_CBC: Final = "2.16.840.1.101.3.4.1.42"
AES128_GCM: Final = "2.16.840.1.101.3.4.1.6"
AES192_GCM: Final = "2.16.840.1.101.3.4.1.26"
AES256_GCM: Final = "2.16.840.1.101.3.4.1.46"
SM4_CBC: Final = "1.2.156.10197.1.104.2"  # GM/T 0006; OpenSSL 3.0 obj table: SM4-CBC
DES_EDE3_CBC: Final = "1.2.840.113549.3.7"  # read only: OpenSSL's default, old CA kits
CIPHERS: Final[dict[str, tuple[str, int, str]]] = {
    DES_EDE3_CBC: ("des-ede3-cbc", 24, "cbc"),
    AES128_CBC: ("aes-128-cbc", 16, "cbc"),
    AES192_CBC: ("aes-192-cbc", 24, "cbc"),
    AES256_CBC: ("aes-256-cbc", 32, "cbc"),
    AES128_GCM: ("aes-128-gcm", 16, "gcm"),
    AES192_GCM: ("aes-192-gcm", 24, "gcm"),
    AES256_GCM: ("aes-256-gcm", 32, "gcm"),
    SM4_CBC: ("sm4-cbc", 16, "cbc"),
}
CIPHER_OIDS: Final[dict[str, str]] = {v[0]: oid for oid, v in CIPHERS.items()}


def name_of(oid: str) -> str:
    """A readable name for the OIDs this package knows, else the dotted OID itself."""
    return _NAMES.get(oid, oid)


_NAMES: Final[dict[str, str]] = {
    DATA: "data",
    SIGNED_DATA: "signedData",
    ENVELOPED_DATA: "envelopedData",
    AUTH_ENVELOPED_DATA: "authEnvelopedData",
    GM_DATA: "data (GM/T 0010)",
    GM_SIGNED_DATA: "signedData (GM/T 0010)",
    GM_ENVELOPED_DATA: "envelopedData (GM/T 0010)",
    **DIGESTS,
    **{oid: name for oid, (name, _k, _m) in CIPHERS.items()},
}

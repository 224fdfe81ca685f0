"""Raw (not CMS) signatures with RSA, ECDSA or SM2 keys, over data or over a digest.

One entry point for every caller that gets "a signature, a certificate and the data" (the
integrator API, the CLI, the certificate login): the algorithm is named explicitly, so a peer
cannot make us verify RSA-PSS as PKCS#1 or a digest as data. SM2 uses SM3 with the Z value of the
signer's ID (default ``1234567812345678``); its "digest" is ``e = SM3(Z || M)``.
"""

from __future__ import annotations

from typing import Literal, get_args

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from cert_interop import sm2
from cert_interop.errors import InvalidKey, MalformedInput, UnsupportedAlgorithm
from cert_interop.keys import PrivateKey, PublicKey

__all__ = ["ALGORITHMS", "SignatureAlgorithm", "default_algorithm", "sign", "verify"]

SignatureAlgorithm = Literal[
    "sm2-sm3",
    "rsa-pkcs1-sha256",
    "rsa-pkcs1-sha384",
    "rsa-pkcs1-sha512",
    "rsa-pss-sha256",
    "ecdsa-sha256",
    "ecdsa-sha384",
    "ecdsa-sha512",
]
ALGORITHMS: tuple[str, ...] = get_args(SignatureAlgorithm)

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def default_algorithm(key: PrivateKey | PublicKey) -> str:
    """What a key signs with unless told otherwise."""
    if isinstance(key, sm2.Sm2PrivateKey | sm2.Sm2PublicKey):
        return "sm2-sm3"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "rsa-pkcs1-sha256"
    return "ecdsa-sha256"


def _parts(algorithm: str) -> tuple[str, str | None, hashes.HashAlgorithm]:
    if algorithm not in ALGORITHMS:
        raise UnsupportedAlgorithm(
            f"signature algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}"
        )
    family, *rest = algorithm.split("-")
    if family == "sm2":
        return "sm2", None, hashes.SHA256()  # hash unused: SM3 inside sm2
    if family == "rsa":
        return "rsa", rest[0], _HASHES[rest[1]]()
    return "ecdsa", None, _HASHES[rest[0]]()


def _message(
    data: bytes | None, digest: bytes | None, hash_alg: hashes.HashAlgorithm | None
) -> tuple[bytes, bool]:
    if (data is None) == (digest is None):
        raise MalformedInput("give exactly one of data and digest")
    if digest is not None:
        if hash_alg is not None and len(digest) != hash_alg.digest_size:
            raise MalformedInput(
                f"a {hash_alg.name} digest is {hash_alg.digest_size} bytes, not {len(digest)}"
            )
        return bytes(digest), True
    assert data is not None
    return bytes(data), False


def _check_key_family(key: object, family: str, algorithm: str) -> None:
    ok = {
        "sm2": isinstance(key, sm2.Sm2PrivateKey | sm2.Sm2PublicKey),
        "rsa": isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey),
        "ecdsa": isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey),
    }[family]
    if not ok:
        raise InvalidKey(f"a {type(key).__name__} cannot be used with {algorithm}")


def _rsa_padding(
    scheme: str | None, hash_alg: hashes.HashAlgorithm, *, signing: bool
) -> padding.AsymmetricPadding:
    if scheme == "pss":
        # sign with salt = hash length (RFC 8017's recommendation, what peers expect); verify any
        salt = padding.PSS.DIGEST_LENGTH if signing else padding.PSS.AUTO
        return padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=salt)
    return padding.PKCS1v15()


def _ecdsa_der(signature: bytes, key: ec.EllipticCurvePublicKey) -> bytes | None:
    """Canonical DER as is, or raw r || s (what WebCrypto and many JS libraries emit)."""
    try:
        r, s = decode_dss_signature(signature)
        if encode_dss_signature(r, s) == signature:
            return signature
    except ValueError:
        pass
    size = (key.curve.key_size + 7) // 8
    if len(signature) != 2 * size:
        return None
    r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    return encode_dss_signature(r, s)


def verify(
    public_key: PublicKey,
    algorithm: str,
    signature: bytes,
    *,
    data: bytes | None = None,
    digest: bytes | None = None,
    uid: bytes = sm2.DEFAULT_ID,
) -> bool:
    """True when ``signature`` verifies; a malformed or wrong signature is False, misuse
    (wrong key family, unknown algorithm, bad digest length) raises a ``CertInteropError``."""
    family, scheme, hash_alg = _parts(algorithm)
    _check_key_family(public_key, family, algorithm)
    message, prehashed = _message(data, digest, None if family == "sm2" else hash_alg)
    signature = bytes(signature)
    if isinstance(public_key, sm2.Sm2PublicKey):
        if prehashed:
            return sm2.verify_digest(public_key, signature, message)
        return sm2.verify(public_key, signature, message, uid=uid)
    chosen: hashes.HashAlgorithm | Prehashed = Prehashed(hash_alg) if prehashed else hash_alg
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(
                signature, message, _rsa_padding(scheme, hash_alg, signing=False), chosen
            )
        else:
            assert isinstance(public_key, ec.EllipticCurvePublicKey)
            der = _ecdsa_der(signature, public_key)
            if der is None:
                return False
            public_key.verify(der, message, ec.ECDSA(chosen))
    except (InvalidSignature, ValueError):
        return False
    return True


def sign(
    private_key: PrivateKey,
    algorithm: str,
    *,
    data: bytes | None = None,
    digest: bytes | None = None,
    uid: bytes = sm2.DEFAULT_ID,
) -> bytes:
    """A signature in the usual encoding: DER for ECDSA and SM2, the PKCS#1 block for RSA."""
    family, scheme, hash_alg = _parts(algorithm)
    _check_key_family(private_key, family, algorithm)
    message, prehashed = _message(data, digest, None if family == "sm2" else hash_alg)
    if isinstance(private_key, sm2.Sm2PrivateKey):
        if prehashed:
            return sm2.sign_digest(private_key, message)
        return sm2.sign(private_key, message, uid=uid)
    chosen: hashes.HashAlgorithm | Prehashed = Prehashed(hash_alg) if prehashed else hash_alg
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(message, _rsa_padding(scheme, hash_alg, signing=True), chosen)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    return private_key.sign(message, ec.ECDSA(chosen))

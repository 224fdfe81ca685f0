"""RecipientInfos: how the content-encryption key reaches each recipient.

- RSA: KeyTransRecipientInfo with RSAES-OAEP (SHA-256, MGF1-SHA-256, as ``openssl cms -keyopt
  rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256`` writes) or PKCS#1 v1.5 for old peers.
- SM2: KeyTransRecipientInfo, keyEncryptionAlgorithm 1.2.156.10197.1.301.3 without parameters,
  the key SM2-encrypted in the GM/T 0009 ASN.1 form (what GmSSL and CA kits write).
- EC: KeyAgreeRecipientInfo, ephemeral-static ECDH, dhSinglePass-stdDH-sha256kdf-scheme (X9.63
  KDF over ECC-CMS-SharedInfo, RFC 5753) and AES-256 key wrap (RFC 3394). OpenSSL writes the
  SHA-1 KDF by default and reads SHA-256; both (and SHA-224/384/512) are read here.

Decryption takes the private key or an ``unwrap`` callable, so a USBKey or HSM can recover the
key without exposing its private key: ``unwrap(encrypted_key, algorithm) -> bytes`` with
``algorithm`` one of ``rsa-pkcs1v15``, ``rsa-oaep-<hash>`` (``-mgf1-<hash>`` appended when the
MGF1 hash differs), ``sm2`` (GM/T 0009 ASN.1 ciphertext); for EC key agreement
``unwrap(originator_public_point, "ecdh")`` returns the raw ECDH shared secret (the x
coordinate), the rest is done here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms as _acms
from asn1crypto import core as _core
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from cert_interop import sm2
from cert_interop.cms import der
from cert_interop.cms import oids as O
from cert_interop.cms.ber import BerReader, read_oid
from cert_interop.errors import (
    CertInteropError,
    DecryptionFailed,
    InvalidKey,
    MalformedInput,
    NotARecipient,
    UnsupportedAlgorithm,
)
from cert_interop.keys import PrivateKey
from cert_interop.x509 import Certificate
from cert_interop.x509.names import name_from_asn1

__all__ = ["RSA_PADDINGS", "Unwrap", "recipient_info", "recover_key"]

Unwrap = Callable[[bytes, str], bytes]
RSA_PADDINGS = ("oaep", "pkcs1v15")

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_OAEP_SHA256 = der.seq(
    der.explicit(0, der.algorithm(O.SHA256)),
    der.explicit(1, der.algorithm(O.MGF1, der.algorithm(O.SHA256))),
)


def _issuer_and_serial(cert: Certificate) -> bytes:
    return der.seq(der.issuer_der(cert.der), der.integer(cert.serial_number))


def _check_usage(cert: Certificate, wanted: str) -> None:
    usage = cert.key_usage
    if usage is not None and wanted not in usage:
        label = wanted.replace("_", " ")
        raise InvalidKey(
            f"{cert.subject.rfc4514} cannot receive envelopes: its key usage lacks {label}"
        )


def recipient_info(
    cert: Certificate, cek: bytes, *, rsa_padding: str = "oaep", check_key_usage: bool = True
) -> bytes:
    """The RecipientInfo (DER) that gives ``cek`` to the holder of ``cert``."""
    pub = cert.public_key
    if isinstance(pub, rsa.RSAPublicKey):
        if check_key_usage:
            _check_usage(cert, "key_encipherment")
        if rsa_padding == "oaep":
            ek = pub.encrypt(
                cek, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
            )
            alg = der.algorithm(O.RSAES_OAEP, _OAEP_SHA256)
        elif rsa_padding == "pkcs1v15":
            ek = pub.encrypt(cek, padding.PKCS1v15())
            alg = der.algorithm(O.RSA_ENCRYPTION, der.NULL_TLV)
        else:
            raise UnsupportedAlgorithm(f"RSA padding must be one of {', '.join(RSA_PADDINGS)}")
        return der.seq(der.integer(0), _issuer_and_serial(cert), alg, der.octets(ek))
    if isinstance(pub, sm2.Sm2PublicKey):
        if check_key_usage:
            _check_usage(cert, "key_encipherment")
        ek = sm2.encrypt(pub, cek, mode="asn1")
        alg = der.algorithm(O.SM2_ENCRYPT)
        return der.seq(der.integer(0), _issuer_and_serial(cert), alg, der.octets(ek))
    if isinstance(pub, ec.EllipticCurvePublicKey):
        if check_key_usage:
            _check_usage(cert, "key_agreement")
        return _kari(cert, pub, cek)
    raise UnsupportedAlgorithm("recipients must have RSA, EC or SM2 keys")


def _shared_info(wrap_alg: bytes, ukm: bytes | None, kek_len: int) -> bytes:
    return der.seq(
        wrap_alg,
        der.explicit(0, der.octets(ukm)) if ukm is not None else b"",
        der.explicit(2, der.octets((kek_len * 8).to_bytes(4, "big"))),
    )


def _kek(kdf_hash: str, z: bytes, wrap_alg: bytes, ukm: bytes | None, kek_len: int) -> bytes:
    kdf = X963KDF(_HASHES[kdf_hash](), kek_len, _shared_info(wrap_alg, ukm, kek_len))
    return kdf.derive(z)


def _kari(cert: Certificate, pub: ec.EllipticCurvePublicKey, cek: bytes) -> bytes:
    eph = ec.generate_private_key(pub.curve)
    z = eph.exchange(ec.ECDH(), pub)
    wrap_alg = der.algorithm(O.AES256_WRAP)
    wrapped = aes_key_wrap(_kek("sha256", z, wrap_alg, None, 32), cek)
    point = eph.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    originator = der.tlv(
        0xA1, der.algorithm(O.EC_PUBLIC_KEY) + der.tlv(0x03, b"\x00" + point)
    )  # [1] IMPLICIT OriginatorPublicKey
    body = b"".join(
        [
            der.integer(3),
            der.explicit(0, originator),
            der.algorithm(O.ECDH_STD_SHA256KDF, wrap_alg),
            der.seq(der.seq(_issuer_and_serial(cert), der.octets(wrapped))),
        ]
    )
    return der.tlv(0xA1, body)  # RecipientInfo ::= CHOICE { …, kari [1] … }


# ---------------------------------------------------------------------------------------------
# decryption


@dataclass(frozen=True)
class Recovered:
    key: bytes
    algorithm: str


def _matches_ias(ias: Any, cert: Certificate) -> bool:
    try:
        serial = int(ias["serial_number"].native)
        issuer = name_from_asn1(ias["issuer"])
    except Exception:  # hostile bytes: just not a match
        return False
    return serial == cert.serial_number and issuer.matches(cert.issuer)


def _oaep(params: Any) -> tuple[str, str, bytes | None]:
    if isinstance(params, _core.Void) or params.native is None:
        return "sha1", "sha1", None
    h = O.DIGESTS.get(params["hash_algorithm"]["algorithm"].dotted)
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].dotted != O.MGF1:
        raise UnsupportedAlgorithm("RSAES-OAEP with a mask generation other than MGF1")
    mh = O.DIGESTS.get(mgf["parameters"]["algorithm"].dotted)
    src = params["p_source_algorithm"]
    if src["algorithm"].dotted != O.P_SPECIFIED:
        raise UnsupportedAlgorithm("RSAES-OAEP with an unknown label source")
    label = bytes(src["parameters"].native or b"") or None
    if h not in _HASHES or mh not in _HASHES:
        raise UnsupportedAlgorithm("RSAES-OAEP with an unsupported hash")
    assert h is not None and mh is not None
    return h, mh, label


def _ktri(
    ri: Any, cert: Certificate, key: PrivateKey | None, unwrap: Unwrap | None
) -> Recovered | None:
    rid = ri["rid"]
    if rid.name == "issuer_and_serial_number":
        if not _matches_ias(rid.chosen, cert):
            return None
    elif cert.subject_key_identifier is None or bytes(rid.chosen.native) != (
        cert.subject_key_identifier
    ):
        return None
    alg = ri["key_encryption_algorithm"]
    oid = alg["algorithm"].dotted
    ek = bytes(ri["encrypted_key"].native)
    if oid == O.RSA_ENCRYPTION:
        name = "rsa-pkcs1v15"
        pad: padding.AsymmetricPadding = padding.PKCS1v15()
    elif oid == O.RSAES_OAEP:
        h, mh, label = _oaep(alg["parameters"])
        name = f"rsa-oaep-{h}" + (f"-mgf1-{mh}" if mh != h else "")
        pad = padding.OAEP(padding.MGF1(_HASHES[mh]()), _HASHES[h](), label)
    elif oid in (O.SM2_ENCRYPT, O.SM2):
        name = "sm2"
    else:
        raise UnsupportedAlgorithm(f"key transport algorithm {oid} is not supported")
    if unwrap is not None:
        return Recovered(_call(unwrap, ek, name), name)
    if name == "sm2":
        if not isinstance(key, sm2.Sm2PrivateKey):
            raise DecryptionFailed("the envelope is for an SM2 key")
        try:
            return Recovered(sm2.decrypt(key, ek, mode="asn1"), name)
        except DecryptionFailed:  # some kits put C1C3C2 bytes instead of the ASN.1 form
            return Recovered(sm2.decrypt(key, ek, mode="c1c3c2"), name)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DecryptionFailed("the envelope is for an RSA key")
    try:
        return Recovered(key.decrypt(ek, pad), name)
    except ValueError as exc:
        raise DecryptionFailed("RSA decryption of the content key failed") from exc


def _call(unwrap: Unwrap, data: bytes, algorithm: str) -> bytes:
    try:
        out = unwrap(data, algorithm)
    except CertInteropError:
        raise
    except Exception as exc:
        raise DecryptionFailed(f"unwrap ({algorithm}) failed: {type(exc).__name__}") from exc
    if not isinstance(out, bytes | bytearray):
        raise DecryptionFailed(f"unwrap ({algorithm}) did not return bytes")
    return bytes(out)


def _kari_match(ri: Any, cert: Certificate) -> bytes | None:
    for rek in ri["recipient_encrypted_keys"]:
        rid = rek["rid"]
        if rid.name == "issuer_and_serial_number":
            if _matches_ias(rid.chosen, cert):
                return bytes(rek["encrypted_key"].native)
        elif cert.subject_key_identifier is not None and (
            bytes(rid.chosen["subject_key_identifier"].native) == cert.subject_key_identifier
        ):
            return bytes(rek["encrypted_key"].native)
    return None


def _kari_recover(
    ri: Any, cert: Certificate, key: PrivateKey | None, unwrap: Unwrap | None
) -> Recovered | None:
    ek = _kari_match(ri, cert)
    if ek is None:
        return None
    originator = ri["originator"]
    if originator.name != "originator_key":
        raise UnsupportedAlgorithm("key agreement with a static originator key")
    point = _originator_point(bytes(originator.chosen.dump()))
    alg = ri["key_encryption_algorithm"]
    scheme = alg["algorithm"].dotted
    kdf_hash = O.ECDH_SCHEMES.get(scheme)
    if kdf_hash is None:
        raise UnsupportedAlgorithm(f"key agreement scheme {scheme} is not supported")
    wrap_alg = bytes(alg["parameters"].dump())
    r = BerReader(io.BytesIO(wrap_alg))
    r.enter(r.header())
    wrap_oid = read_oid(r)
    kek_len = O.KEY_WRAPS.get(wrap_oid)
    if kek_len is None:
        raise UnsupportedAlgorithm(f"key wrap algorithm {wrap_oid} is not supported")
    ukm_field = ri["ukm"]
    ukm = None if isinstance(ukm_field, _core.Void) else bytes(ukm_field.native)
    if unwrap is not None:
        z = _call(unwrap, point, "ecdh")
    else:
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise DecryptionFailed("the envelope is for an EC key")
        try:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, point)
            z = key.exchange(ec.ECDH(), peer)
        except ValueError as exc:
            raise DecryptionFailed("the originator's public key is not on the curve") from exc
    try:
        cek = aes_key_unwrap(_kek(kdf_hash, z, wrap_alg, ukm, kek_len), ek)
    except (InvalidUnwrap, ValueError) as exc:
        raise DecryptionFailed("AES key unwrap failed (wrong key or tampered)") from exc
    return Recovered(cek, f"ecdh-{kdf_hash}kdf-aes{kek_len * 8}-wrap")


def _originator_point(spki_der: bytes) -> bytes:
    """The EC point of an OriginatorPublicKey ([1] IMPLICIT SEQUENCE {algorithm, BIT STRING})."""
    r = BerReader(io.BytesIO(spki_der))
    f = r.enter(r.header())
    r.element(4096)  # algorithm (parameters absent, NULL or the curve: all accepted)
    h = r.header()
    if h.number != 3 or h.constructed:
        raise MalformedInput("originator public key is not a BIT STRING")
    bits = r.primitive(h, 1024)
    if r.more(f):
        raise MalformedInput("unexpected data in the originator public key")
    if not bits or bits[0] != 0:
        raise MalformedInput("originator public key has unused bits")
    return bits[1:]


def recover_key(
    infos: list[bytes],
    cert: Certificate,
    key: PrivateKey | None,
    unwrap: Unwrap | None,
    key_length: int,
) -> Recovered:
    """The content key from the RecipientInfo addressed to ``cert``."""
    for raw in infos:
        if raw[:1] == b"\x30":
            ri: Any = _acms.KeyTransRecipientInfo.load(raw, strict=True)
            got = _ktri(ri, cert, key, unwrap)
        elif raw[:1] == b"\xa1":
            ri = _acms.KeyAgreeRecipientInfo.load(b"\x30" + raw[1:], strict=True)
            got = _kari_recover(ri, cert, key, unwrap)
        else:
            continue  # KEK, password and other recipient kinds: not for a certificate holder
        if got is None:
            continue
        if len(got.key) != key_length:
            raise DecryptionFailed("the recovered content key has the wrong length (wrong key?)")
        return got
    raise NotARecipient(
        f"{cert.subject.rfc4514} (serial {cert.serial_number:x}) is not a recipient"
    )

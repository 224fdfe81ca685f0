"""EnvelopedData / AuthEnvelopedData: every key type and cipher, several recipients, unwrap
callables (USBKey/HSM), and refusals: wrong key, not a recipient, tampering."""

from __future__ import annotations

import io

import pytest
from asn1crypto import cms as acms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from cert_interop import cms, sm2
from cert_interop.cms import oids
from cert_interop.errors import (
    DecryptionFailed,
    InvalidKey,
    MalformedInput,
    NotARecipient,
    UnsupportedAlgorithm,
)

from .conftest import Party, Pipe

CONTENT = bytes(range(256)) * 40  # 10240 bytes: a whole number of blocks
CIPHERS = ["aes-256-cbc", "aes-256-gcm", "sm4-cbc"]


def _decrypt(env: bytes, p: Party) -> cms.DecryptResult:
    return cms.decrypt(env, certificate=p.enc_cert, key=p.enc_key)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_round_trip(party: Party, cipher: str) -> None:
    env = cms.encrypt(CONTENT, None, [party.enc_cert], cipher=cipher)
    res = _decrypt(env, party)
    assert res.content == CONTENT and res.content_length == len(CONTENT)
    assert res.cipher == cipher
    assert res.authenticated is (cipher == "aes-256-gcm")
    expected = {"rsa": "rsa-oaep-sha256", "ec": "ecdh-sha256kdf-aes256-wrap", "sm2": "sm2"}
    assert res.key_encryption == expected[party.alg]
    outer = acms.ContentInfo.load(env)["content_type"].dotted
    if cipher == "aes-256-gcm":
        assert outer == oids.AUTH_ENVELOPED_DATA
    elif party.alg == "sm2":
        assert outer == oids.GM_ENVELOPED_DATA and res.gm
    else:
        assert outer == oids.ENVELOPED_DATA


def test_defaults_follow_the_recipients(parties: dict[str, Party]) -> None:
    sm2p, rsap = parties["sm2"], parties["rsa"]
    assert _decrypt(cms.encrypt(b"x", None, [sm2p.enc_cert]), sm2p).cipher == "sm4-cbc"
    assert _decrypt(cms.encrypt(b"x", None, [rsap.enc_cert]), rsap).cipher == "aes-256-cbc"
    mixed = cms.encrypt(b"x", None, [rsap.enc_cert, sm2p.enc_cert])
    assert acms.ContentInfo.load(mixed)["content_type"].dotted == oids.ENVELOPED_DATA
    assert _decrypt(mixed, rsap).cipher == "sm4-cbc"
    forced = cms.encrypt(b"x", None, [sm2p.enc_cert], gm_oids=False)
    assert not _decrypt(forced, sm2p).gm
    with pytest.raises(UnsupportedAlgorithm):
        cms.encrypt(b"x", None, [sm2p.enc_cert], cipher="aes-256-gcm", gm_oids=True)
    with pytest.raises(UnsupportedAlgorithm):
        cms.encrypt(b"x", None, [sm2p.enc_cert], cipher="des-ede3-cbc")


def test_sm2_structure(parties: dict[str, Party]) -> None:
    p = parties["sm2"]
    env = cms.encrypt(CONTENT, None, [p.enc_cert])
    ed = acms.ContentInfo.load(env)["content"].parse(acms.EnvelopedData)
    assert ed["version"].native == "v0"
    ktri = ed["recipient_infos"][0].chosen
    assert ktri["key_encryption_algorithm"]["algorithm"].dotted == oids.SM2_ENCRYPT
    assert ktri["key_encryption_algorithm"]["parameters"].native is None
    eci = ed["encrypted_content_info"]
    assert eci["content_type"].dotted == oids.GM_DATA
    assert eci["content_encryption_algorithm"]["algorithm"].dotted == oids.SM4_CBC
    ek = bytes(ktri["encrypted_key"].native)
    assert len(sm2.decrypt(p.enc_key, ek, mode="asn1")) == 16  # GM/T 0009 SM2Cipher


def test_rsa_pkcs1v15_and_oaep(parties: dict[str, Party]) -> None:
    p = parties["rsa"]
    for pad, name in (("oaep", "rsa-oaep-sha256"), ("pkcs1v15", "rsa-pkcs1v15")):
        res = _decrypt(cms.encrypt(CONTENT, None, [p.enc_cert], rsa_padding=pad), p)
        assert res.content == CONTENT and res.key_encryption == name
    with pytest.raises(UnsupportedAlgorithm):
        cms.encrypt(CONTENT, None, [p.enc_cert], rsa_padding="none")


def test_several_recipients(parties: dict[str, Party]) -> None:
    everyone = [p.enc_cert for p in parties.values()]
    for cipher in CIPHERS:
        env = cms.encrypt(CONTENT, None, everyone, cipher=cipher)
        for p in parties.values():
            res = _decrypt(env, p)
            assert res.content == CONTENT and res.recipients == 3


def test_streams_and_files(party: Party, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for cipher in CIPHERS:
        out = io.BytesIO()
        cms.encrypt(Pipe(CONTENT + b"tail"), out, [party.enc_cert], cipher=cipher)
        env = out.getvalue()
        assert env[:2] == b"\x30\x80"  # indefinite lengths for a stream of unknown length
        plain = io.BytesIO()
        res = cms.decrypt(Pipe(env, 500), plain, certificate=party.enc_cert, key=party.enc_key)
        assert res.content is None and plain.getvalue() == CONTENT + b"tail"
        path = tmp_path / f"{cipher}.bin"
        path.write_bytes(CONTENT)
        with open(path, "rb") as fh:
            definite = cms.encrypt(fh, None, [party.enc_cert], cipher=cipher)
        assert definite[1] != 0x80
        assert _decrypt(definite, party).content == CONTENT
    pem = io.BytesIO()
    writer = cms.PemWriter(pem)
    cms.encrypt(b"", writer, [party.enc_cert])
    writer.close()
    assert _decrypt(pem.getvalue(), party).content == b""


def test_unwrap_callable(parties: dict[str, Party]) -> None:
    """A token that keeps its key: only the key transport / agreement step goes to it."""
    calls: list[str] = []

    def token_for(p: Party):  # type: ignore[no-untyped-def]
        def unwrap(data: bytes, algorithm: str) -> bytes:
            calls.append(algorithm)
            k = p.enc_key
            if algorithm == "sm2":
                assert isinstance(k, sm2.Sm2PrivateKey)
                return sm2.decrypt(k, data, mode="asn1")
            if algorithm == "rsa-oaep-sha256":
                assert isinstance(k, rsa.RSAPrivateKey)
                return k.decrypt(
                    data, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
                )
            if algorithm == "ecdh":
                assert isinstance(k, ec.EllipticCurvePrivateKey)
                peer = ec.EllipticCurvePublicKey.from_encoded_point(k.curve, data)
                return k.exchange(ec.ECDH(), peer)
            raise AssertionError(algorithm)

        return unwrap

    for p in parties.values():
        env = cms.encrypt(CONTENT, None, [p.enc_cert])
        res = cms.decrypt(env, certificate=p.enc_cert, unwrap=token_for(p))
        assert res.content == CONTENT
    assert calls == ["rsa-oaep-sha256", "ecdh", "sm2"]

    def broken(data: bytes, algorithm: str) -> bytes:
        raise RuntimeError("PIN locked")

    p = parties["rsa"]
    with pytest.raises(DecryptionFailed, match="unwrap"):
        cms.decrypt(cms.encrypt(b"x", None, [p.enc_cert]), certificate=p.enc_cert, unwrap=broken)
    with pytest.raises(MalformedInput):
        cms.decrypt(b"x", certificate=p.enc_cert)


def test_wrong_key_and_wrong_recipient(parties: dict[str, Party]) -> None:
    rsap, ecp, sm2p = parties["rsa"], parties["ec"], parties["sm2"]
    env = cms.encrypt(CONTENT, None, [rsap.enc_cert])
    with pytest.raises(DecryptionFailed, match="does not belong"):
        cms.decrypt(env, certificate=rsap.enc_cert, key=ecp.enc_key)
    with pytest.raises(NotARecipient):
        _decrypt(env, ecp)
    # the SM2 signing certificate (same subject) is not the encryption one
    env = cms.encrypt(CONTENT, None, [sm2p.enc_cert])
    with pytest.raises(NotARecipient):
        cms.decrypt(env, certificate=sm2p.cert, key=sm2p.key)

    # a key that answers wrongly (a token with another key inside) is caught
    def liar(data: bytes, algorithm: str) -> bytes:
        return bytes(16)

    with pytest.raises(DecryptionFailed):
        cms.decrypt(env, certificate=sm2p.enc_cert, unwrap=liar)
    assert issubclass(NotARecipient, DecryptionFailed)


def test_recipient_key_usage(parties: dict[str, Party]) -> None:
    sm2p = parties["sm2"]
    with pytest.raises(InvalidKey, match="key encipherment"):
        cms.encrypt(b"x", None, [sm2p.cert])  # the signing certificate
    env = cms.encrypt(b"x", None, [sm2p.cert], check_key_usage=False)
    assert cms.decrypt(env, certificate=sm2p.cert, key=sm2p.key).content == b"x"


def _flip_at(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_tampering(party: Party, cipher: str) -> None:
    env = cms.encrypt(CONTENT, None, [party.enc_cert], cipher=cipher)
    if cipher == "aes-256-gcm":
        # any ciphertext byte, and the tag (the last 16 bytes)
        for at in (len(env) - 18 - 5000, len(env) - 1):
            with pytest.raises(DecryptionFailed):
                _decrypt(_flip_at(env, at), party)
    else:
        # CBC has no integrity of its own (sign, then envelope): a change in the last block's
        # chaining value breaks the padding, which is what decryption can detect
        with pytest.raises(DecryptionFailed):
            _decrypt(_flip_at(env, len(env) - 17), party)
    # the encrypted key
    ed = acms.ContentInfo.load(env)["content"]
    ed = (
        ed
        if isinstance(ed, acms.EnvelopedData | acms.AuthEnvelopedData)
        else ed.parse(acms.EnvelopedData)
    )
    ri = ed["recipient_infos"][0].chosen
    if "encrypted_key" in ri:
        ek = bytes(ri["encrypted_key"].native)
    else:
        ek = bytes(ri["recipient_encrypted_keys"][0]["encrypted_key"].native)
    with pytest.raises(DecryptionFailed):
        _decrypt(_flip_at(env, env.index(ek) + len(ek) // 2), party)


def test_truncated_envelope(party: Party) -> None:
    env = cms.encrypt(CONTENT, None, [party.enc_cert])
    for cut in (10, len(env) // 2, len(env) - 1):
        with pytest.raises((MalformedInput, DecryptionFailed)):
            _decrypt(env[:cut], party)
    with pytest.raises(MalformedInput, match="trailing"):
        _decrypt(env + b"\0", party)
    with pytest.raises(MalformedInput, match="not an EnvelopedData"):
        _decrypt(cms.sign(b"x", None, [(party.key, party.cert)]), party)


def test_refusals(parties: dict[str, Party]) -> None:
    with pytest.raises(MalformedInput):
        cms.encrypt(b"x", None, [])
    with pytest.raises(MalformedInput):
        cms.encrypt(b"x", None, [b"not a certificate"])  # type: ignore[list-item]

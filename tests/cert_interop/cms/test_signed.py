"""SignedData: round trips for every algorithm and input kind, signers' details, refusals."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms as acms

from cert_interop import cms
from cert_interop.cms import der, oids
from cert_interop.errors import InvalidKey, MalformedInput, UnsupportedAlgorithm

from .conftest import Party, Pipe

CONTENT = "投标文件 bid file №42\n".encode() * 500


def _signed_data(message: bytes) -> acms.SignedData:
    """The SignedData of standard and GM/T 0010 messages (asn1crypto knows only the former)."""
    content = acms.ContentInfo.load(message)["content"]
    if isinstance(content, acms.SignedData):
        return content
    return content.parse(acms.SignedData)


def _signer_infos(message: bytes) -> list[acms.SignerInfo]:
    return list(_signed_data(message)["signer_infos"])


def _flip(message: bytes, needle: bytes, offset: int = 0) -> bytes:
    at = message.index(needle) + offset
    out = bytearray(message)
    out[at] ^= 0x01
    return bytes(out)


@pytest.mark.parametrize("detached", [False, True])
def test_round_trip_from_bytes(party: Party, detached: bool) -> None:
    when = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    message = cms.sign(
        CONTENT, None, [(party.key, party.cert, party.chain)], detached=detached, signing_time=when
    )
    assert message[:2] == b"\x30\x82" or message[:2] == b"\x30\x83"  # DER, definite lengths
    res = cms.verify(message, content=CONTENT if detached else None)
    assert res.valid, res.signers
    assert res.detached is detached
    assert res.content_length == len(CONTENT)
    (s,) = res.signers
    assert s.reason is cms.SignerReason.OK
    assert s.certificate == party.cert
    assert s.signing_time == when
    assert s.serial_number == party.cert.serial_number
    assert {c.der for c in res.certificates} == {party.cert.der, party.h.intermediate.der}
    assert res.intermediates(s) == (party.h.intermediate,)
    expected = {"rsa": "rsa-pkcs1-sha256", "ec": "ecdsa-sha256", "sm2": "sm2-sm3"}[party.alg]
    assert s.signature_algorithm == expected
    assert res.gm is (party.alg == "sm2")
    assert res.content_type == (oids.GM_DATA if party.alg == "sm2" else oids.DATA)


def test_sm2_uses_gm_oids_and_sm2_algorithms(parties: dict[str, Party]) -> None:
    p = parties["sm2"]
    message = cms.sign(b"x", None, [(p.key, p.cert)])
    ci = acms.ContentInfo.load(message)
    assert ci["content_type"].dotted == oids.GM_SIGNED_DATA
    sd = _signed_data(message)
    assert sd["encap_content_info"]["content_type"].dotted == oids.GM_DATA
    assert [a["algorithm"].dotted for a in sd["digest_algorithms"]] == [oids.SM3]
    si = sd["signer_infos"][0]
    assert si["digest_algorithm"]["algorithm"].dotted == oids.SM3
    assert si["signature_algorithm"]["algorithm"].dotted == oids.SM2_SIGN
    assert si["sid"].name == "issuer_and_serial_number"
    attrs = {a["type"].dotted: a for a in si["signed_attrs"]}
    assert set(attrs) == {oids.ATTR_CONTENT_TYPE, oids.ATTR_MESSAGE_DIGEST, oids.ATTR_SIGNING_TIME}
    # gm_oids overrides either way
    std = cms.sign(b"x", None, [(p.key, p.cert)], gm_oids=False)
    assert acms.ContentInfo.load(std)["content_type"].dotted == oids.SIGNED_DATA
    assert cms.verify(std).valid
    rsa = parties["rsa"]
    gm = cms.sign(b"x", None, [(rsa.key, rsa.cert)], gm_oids=True)
    assert acms.ContentInfo.load(gm)["content_type"].dotted == oids.GM_SIGNED_DATA
    assert cms.verify(gm).gm


def test_files_and_streams(party: Party, tmp_path: Path) -> None:
    src = tmp_path / "bid.bin"
    src.write_bytes(CONTENT)
    signer = [(party.key, party.cert)]
    with open(src, "rb") as fh:  # seekable: read twice, DER with definite lengths
        fh.read(10)  # starts where the file object stands
        definite = cms.sign(fh, None, signer)
    assert definite[1] != 0x80
    assert cms.verify(definite).content_length == len(CONTENT) - 10
    out = io.BytesIO()
    cms.sign(Pipe(CONTENT), out, signer)  # not seekable: BER, indefinite lengths, segments
    streamed = out.getvalue()
    assert streamed[:2] == b"\x30\x80"
    got = io.BytesIO()
    res = cms.verify(Pipe(streamed, step=333), out=got)
    assert res.valid and got.getvalue() == CONTENT
    # PEM in and out
    pem = io.BytesIO()
    writer = cms.PemWriter(pem)
    cms.sign(CONTENT, writer, signer, detached=True)
    writer.close()
    text = pem.getvalue()
    assert text.startswith(b"-----BEGIN CMS-----\n") and text.endswith(b"-----END CMS-----\n")
    assert cms.verify(text, content=Pipe(CONTENT)).valid
    assert cms.verify(Pipe(text, step=50), content=io.BytesIO(CONTENT)).valid


def test_empty_content(party: Party) -> None:
    for message in (
        cms.sign(b"", None, [(party.key, party.cert)]),
        cms.sign(Pipe(b""), None, [(party.key, party.cert)]),
    ):
        res = cms.verify(message)
        assert res.valid and res.content_length == 0


@pytest.mark.parametrize("digest", ["sha384", "sha512"])
def test_other_digests(parties: dict[str, Party], digest: str) -> None:
    for alg in ("rsa", "ec"):
        p = parties[alg]
        res = cms.verify(cms.sign(CONTENT, None, [(p.key, p.cert)], digest=digest))
        assert res.valid
        assert res.signers[0].digest_algorithm == digest


def test_several_signers(parties: dict[str, Party]) -> None:
    signers = [(p.key, p.cert, p.chain) for p in parties.values()]
    message = cms.sign(CONTENT, None, signers)
    res = cms.verify(message)
    assert res.valid and len(res.signers) == 3
    assert not res.gm  # mixed signers: standard OIDs
    assert {s.certificate.der for s in res.signers if s.certificate} == {
        p.cert.der for p in parties.values()
    }
    digests = [a["algorithm"].dotted for a in _signed_data(message)["digest_algorithms"]]
    assert sorted(digests) == sorted([oids.SHA256, oids.SM3])
    # one bad signer: the others still verify, the message does not
    victim = _signer_infos(message)[1]
    sig = bytes(victim["signature"].native)
    bad = cms.verify(_flip(message, sig, len(sig) // 2))
    assert not bad.valid
    reasons = [s.reason for s in bad.signers]
    assert reasons.count(cms.SignerReason.BAD_SIGNATURE) == 1
    assert reasons.count(cms.SignerReason.OK) == 2


def test_tampered_content_and_signature(party: Party) -> None:
    message = cms.sign(CONTENT, None, [(party.key, party.cert)])
    res = cms.verify(_flip(message, CONTENT, 100))
    assert not res.valid
    assert res.signers[0].reason is cms.SignerReason.DIGEST_MISMATCH
    sig = bytes(_signer_infos(message)[0]["signature"].native)
    res = cms.verify(_flip(message, sig, 20))
    assert res.signers[0].reason is cms.SignerReason.BAD_SIGNATURE
    # a signed attribute changed (the signing time): the signature no longer covers it
    si = _signer_infos(message)[0]
    attrs = bytes(si["signed_attrs"].dump())
    res = cms.verify(_flip(message, attrs, len(attrs) - 40))
    assert not res.valid


def test_wrong_detached_content(party: Party) -> None:
    message = cms.sign(CONTENT, None, [(party.key, party.cert)], detached=True)
    res = cms.verify(message, content=CONTENT + b"!")
    assert res.signers[0].reason is cms.SignerReason.DIGEST_MISMATCH
    with pytest.raises(MalformedInput, match="detached"):
        cms.verify(message)
    attached = cms.sign(CONTENT, None, [(party.key, party.cert)])
    with pytest.raises(MalformedInput, match="carries its content"):
        cms.verify(attached, content=CONTENT)


def _without_certificates(message: bytes) -> bytes:
    ci = acms.ContentInfo.load(message)
    sd = _signed_data(message)
    bare = acms.SignedData(
        {
            "version": sd["version"],
            "digest_algorithms": sd["digest_algorithms"],
            "encap_content_info": sd["encap_content_info"],
            "signer_infos": sd["signer_infos"],
        }
    )
    return _content_info(ci["content_type"].dotted, bare)


def _content_info(content_type: str, signed_data: acms.SignedData) -> bytes:
    return der.seq(der.oid(content_type), der.explicit(0, signed_data.dump()))


def test_missing_signer_certificate(party: Party) -> None:
    bare = _without_certificates(cms.sign(CONTENT, None, [(party.key, party.cert)]))
    res = cms.verify(bare)
    assert not res.valid
    assert res.signers[0].reason is cms.SignerReason.CERTIFICATE_MISSING
    assert res.signers[0].certificate is None
    assert res.certificates == ()
    # the caller can supply it
    assert cms.verify(bare, certificates=[party.cert]).valid


def test_no_signers_is_not_valid(party: Party) -> None:
    message = cms.sign(CONTENT, None, [(party.key, party.cert)])
    ci = acms.ContentInfo.load(message)
    sd = _signed_data(message)
    empty = acms.SignedData(
        {
            "version": sd["version"],
            "digest_algorithms": sd["digest_algorithms"],
            "encap_content_info": sd["encap_content_info"],
            "signer_infos": [],
        }
    )
    ctype = ci["content_type"].dotted
    res = cms.verify(_content_info(ctype, empty))
    assert not res.valid and res.signers == ()


def test_signing_refusals(parties: dict[str, Party]) -> None:
    rsa, ec, sm2p = parties["rsa"], parties["ec"], parties["sm2"]
    with pytest.raises(InvalidKey, match="does not belong"):
        cms.sign(b"x", None, [(rsa.key, ec.cert)])
    with pytest.raises(InvalidKey, match="not a signing certificate"):
        cms.sign(b"x", None, [(sm2p.enc_key, sm2p.enc_cert)])
    # SM2 always signs with SM3; `digest` is for the RSA/ECDSA signers beside it
    mixed = cms.sign(b"x", None, [(sm2p.key, sm2p.cert), (rsa.key, rsa.cert)], digest="sha512")
    assert [s.digest_algorithm for s in cms.verify(mixed).signers] in (
        ["sm3", "sha512"],
        ["sha512", "sm3"],
    )
    with pytest.raises(UnsupportedAlgorithm):
        cms.sign(b"x", None, [(rsa.key, rsa.cert)], digest="sm3")
    with pytest.raises(UnsupportedAlgorithm):
        cms.sign(b"x", None, [(rsa.key, rsa.cert)], digest="md5")
    with pytest.raises(MalformedInput):
        cms.sign(b"x", None, [])


def test_not_signed_data(party: Party) -> None:
    envelope = cms.encrypt(b"x", None, [party.enc_cert])
    with pytest.raises(MalformedInput, match="not a SignedData"):
        cms.verify(envelope)


def _sm2_without_attributes(p: Party, content: bytes, *, attached: bool) -> bytes:
    """A GM/T 0010 SignedData whose SM2 signature covers the content itself (no signed
    attributes), as some CA kits write: e = SM3(Z || content)."""
    from cert_interop import sm2

    assert isinstance(p.key, sm2.Sm2PrivateKey)
    signature = sm2.sign(p.key, content)
    signer_info = der.seq(
        der.integer(1),
        der.seq(der.issuer_der(p.cert.der), der.integer(p.cert.serial_number)),
        der.algorithm(oids.SM3),
        der.algorithm(oids.SM2_SIGN),
        der.octets(signature),
    )
    encap = der.seq(
        der.oid(oids.GM_DATA), der.explicit(0, der.octets(content)) if attached else b""
    )
    body = (
        der.integer(1)
        + der.set_of([der.algorithm(oids.SM3)])
        + encap
        + der.tlv(0xA0, p.cert.der)
        + der.set_of([signer_info])
    )
    return der.seq(der.oid(oids.GM_SIGNED_DATA), der.explicit(0, der.tlv(0x30, body)))


def test_sm2_signature_over_the_content(parties: dict[str, Party]) -> None:
    p = parties["sm2"]
    detached = _sm2_without_attributes(p, CONTENT, attached=False)
    assert cms.verify(detached, content=CONTENT).valid  # Z known before the content is read
    assert not cms.verify(detached, content=CONTENT + b"x").valid
    attached = _sm2_without_attributes(p, CONTENT, attached=True)
    res = cms.verify(attached)  # bytes can be read twice: a second pass with Z in front
    assert res.valid and res.signers[0].signature_algorithm == "sm2-sm3"
    assert res.signers[0].signing_time is None
    res = cms.verify(Pipe(attached))  # a stream cannot: the reason says so
    assert res.signers[0].reason is cms.SignerReason.UNSUPPORTED_ALGORITHM
    assert "second pass" in res.signers[0].detail
    assert not cms.verify(_flip(attached, CONTENT, 7)).valid


def test_external_signer(parties: dict[str, Party]) -> None:
    """A USBKey / HSM / platform key service: it signs the signed attributes, never hands out
    its key; a token that holds another key is caught before the message goes out."""
    from cert_interop import signatures

    class Token:
        def __init__(self, key: object) -> None:
            self._key = key
            self.calls: list[str] = []

        def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
            self.calls.append(algorithm)
            assert data is not None and digest is None
            return signatures.sign(self._key, algorithm, data=data)  # type: ignore[arg-type]

    for p in parties.values():
        token = Token(p.key)
        res = cms.verify(cms.sign(CONTENT, None, [(token, p.cert)], detached=True), content=CONTENT)
        assert res.valid
        assert token.calls == [
            {"rsa": "rsa-pkcs1-sha256", "ec": "ecdsa-sha256", "sm2": "sm2-sm3"}[p.alg]
        ]
    from cert_interop import keys

    rsa = parties["rsa"]
    wrong = Token(keys.load_private_key((rsa.out / "intermediate.key").read_bytes()))
    with pytest.raises(InvalidKey, match="external signer"):
        cms.sign(CONTENT, None, [(wrong, parties["rsa"].cert)])
    with pytest.raises(InvalidKey):
        cms.sign(CONTENT, None, [(object(), parties["rsa"].cert)])  # type: ignore[list-item]

"""verify_token: a good token's facts, and each way a token can fail to prove its claim."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms, tsp

from cert_interop import signatures
from cert_interop.x509 import Certificate
from seal.tsa import (
    MalformedTimestamp,
    TimeStampAuthority,
    TimestampImprintMismatch,
    TimestampNonceMismatch,
    TimestampPolicyMismatch,
    TimestampSignatureInvalid,
    TsaCertificateRejected,
    UnsupportedTimestampAlgorithm,
    build_request,
    parse_response,
    verify_token,
)
from seal.tsa.oids import DEFAULT_POLICY
from seal.tsa.token import TstFields, build_token, profile_for
from tests.seal.tsa.conftest import TIME_STAMPING, Pki, eku, pki_for

DIGEST = hashlib.sha256(b"signature value").digest()


def stamp(authority: TimeStampAuthority, **kwargs: object) -> bytes:
    token = parse_response(authority.respond(build_request(DIGEST, "sha256", **kwargs))).token  # type: ignore[arg-type]
    assert token is not None
    return token


def test_a_good_token(pki: Pki, authority: TimeStampAuthority) -> None:
    info = verify_token(
        stamp(authority, nonce=99), DIGEST, "sha256", nonce=99, policy=DEFAULT_POLICY
    )
    assert info.nonce == 99
    assert info.policy == DEFAULT_POLICY
    assert info.hash_algorithm == "sha256"
    assert info.accuracy == timedelta(seconds=1)
    assert info.tsa_certificate.der == pki.cert.der
    assert {c.der for c in info.certificates} == {pki.cert.der, pki.ca.der}
    assert 0 < info.serial < 1 << 159
    assert info.time.tzinfo is not None


def test_sm2_token_signature_checked_independently() -> None:
    """OpenSSL 3.0 cannot verify SM2 CMS: check the signed attributes' SM2 signature directly."""
    pki = pki_for("sm2")
    token_der = stamp(TimeStampAuthority(pki.key, pki.cert))
    verify_token(token_der, DIGEST, "sha256")
    (si,) = cms.ContentInfo.load(token_der)["content"]["signer_infos"]
    signed = b"\x31" + si["signed_attrs"].dump()[1:]  # [0] IMPLICIT → SET OF, as signed
    signature = si["signature"].native
    assert signatures.verify(pki.cert.public_key, "sm2-sm3", signature, data=signed)
    tst_der = cms.ContentInfo.load(token_der)["content"]["encap_content_info"]["content"].contents
    digests = {a["type"].native: a["values"][0].native for a in si["signed_attrs"]}
    assert digests["message_digest"] == hashlib.new("sm3", tst_der).digest()
    assert not signatures.verify(pki.cert.public_key, "sm2-sm3", signature, data=signed + b"x")


def test_wrong_digest_or_hash(authority: TimeStampAuthority) -> None:
    token = stamp(authority)
    with pytest.raises(TimestampImprintMismatch):
        verify_token(token, hashlib.sha256(b"other").digest(), "sha256")
    with pytest.raises(TimestampImprintMismatch):
        verify_token(token, hashlib.new("sm3", b"x").digest(), "sm3")
    with pytest.raises(UnsupportedTimestampAlgorithm):
        verify_token(token, DIGEST[:20], "sha256")
    with pytest.raises(UnsupportedTimestampAlgorithm):
        verify_token(token, hashlib.md5(b"x").digest(), "md5")  # noqa: S324


def test_nonce_and_policy_must_match(authority: TimeStampAuthority) -> None:
    token = stamp(authority, nonce=5)
    with pytest.raises(TimestampNonceMismatch):
        verify_token(token, DIGEST, "sha256", nonce=6)
    with pytest.raises(TimestampNonceMismatch):
        verify_token(stamp(authority), DIGEST, "sha256", nonce=6)
    with pytest.raises(TimestampPolicyMismatch):
        verify_token(token, DIGEST, "sha256", policy="1.2.3.4")


def test_without_certificates_the_tsa_certificate_must_be_given(
    authority: TimeStampAuthority,
) -> None:
    with pytest.raises(TsaCertificateRejected, match="certReq"):
        verify_token(stamp(authority, cert_req=False), DIGEST, "sha256")


def _flip(data: bytes, needle: bytes) -> bytes:
    at = data.index(needle)
    return data[:at] + bytes([needle[0] ^ 1]) + needle[1:] + data[at + len(needle) :]


def test_tampered_tstinfo_breaks_the_message_digest(authority: TimeStampAuthority) -> None:
    token = stamp(authority)
    tampered = _flip(token, DIGEST)  # the stamped digest inside TSTInfo
    with pytest.raises(TimestampSignatureInvalid, match="digest"):
        verify_token(tampered, DIGEST, "sha256")


def test_tampered_signature(authority: TimeStampAuthority) -> None:
    token = stamp(authority)
    signature = bytes(cms.ContentInfo.load(token)["content"]["signer_infos"][0]["signature"].native)
    with pytest.raises(TimestampSignatureInvalid):
        verify_token(_flip(token, signature[-8:]), DIGEST, "sha256")


def test_tampered_signed_attribute(authority: TimeStampAuthority) -> None:
    ci = cms.ContentInfo.load(stamp(authority))
    si = ci["content"]["signer_infos"][0]
    attrs = si["signed_attrs"]
    for attr in attrs:
        if attr["type"].native == "signing_time":
            attr["values"] = [
                cms.Time(name="utc_time", value=attr["values"][0].native + timedelta(days=1))
            ]
    si["signed_attrs"] = attrs
    with pytest.raises(TimestampSignatureInvalid):
        verify_token(ci.dump(force=True), DIGEST, "sha256")


def test_another_certificate_for_the_same_key_is_not_the_signer() -> None:
    """Same key, same issuer: only the ESS binding tells the certificates apart."""
    pki = pki_for("ec")
    token = stamp(TimeStampAuthority(pki.key, pki.cert), cert_req=False)
    twin = pki.issue(eku(TIME_STAMPING))
    ci = cms.ContentInfo.load(token)
    sid = ci["content"]["signer_infos"][0]["sid"].chosen
    sid["serial_number"] = twin.serial_number  # unsigned: an attacker may rewrite it
    forged = ci.dump(force=True)
    with pytest.raises(TsaCertificateRejected, match="ESS"):
        verify_token(forged, DIGEST, "sha256", certificates=[twin])


def forge(pki: Pki, cert: Certificate, when: datetime) -> bytes:
    """A token built directly, around the authority's own checks."""
    fields = TstFields(
        policy=DEFAULT_POLICY,
        imprint=tsp.MessageImprint(
            {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": DIGEST}
        ),
        serial=1,
        gen_time=when,
        accuracy=None,
        nonce=None,
        tsa_name=None,
    )
    profile = profile_for(cert.key_algorithm)
    token = build_token(
        fields,
        certificate=cert,
        profile=profile,
        sign=lambda data: signatures.sign(pki.key, profile.algorithm, data=data),
        certificates=(cert,),
        signing_time=True,
    )
    return bytes(token.dump())


def test_the_builder_alone_makes_valid_tokens() -> None:
    pki = pki_for("ec")
    info = verify_token(forge(pki, pki.cert, datetime.now(UTC)), DIGEST, "sha256")
    assert info.accuracy is None


def test_signer_certificate_without_time_stamping_purpose() -> None:
    """A token signed under a certificate without id-kp-timeStamping is not a timestamp, even
    with a correct ESS binding."""
    pki = pki_for("ec")
    for cert, words in [
        (pki.issue(), "no extendedKeyUsage"),
        (pki.issue(eku(TIME_STAMPING, critical=False)), "critical"),
        (pki.issue(eku(TIME_STAMPING, "1.3.6.1.5.5.7.3.4")), "only"),
    ]:
        with pytest.raises(TsaCertificateRejected, match=words):
            verify_token(forge(pki, cert, datetime.now(UTC)), DIGEST, "sha256")


def test_stamped_time_outside_the_certificate_validity() -> None:
    pki = pki_for("ec")
    for when in (pki.cert.not_before - timedelta(days=1), pki.cert.not_after + timedelta(days=1)):
        with pytest.raises(TsaCertificateRejected, match="stamped time"):
            verify_token(forge(pki, pki.cert, when), DIGEST, "sha256")


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"\x30\x00",
        b"garbage",
        cms.ContentInfo({"content_type": "data", "content": b"x"}).dump(),
    ],
)
def test_not_a_token(junk: bytes) -> None:
    with pytest.raises(MalformedTimestamp):
        verify_token(junk, DIGEST, "sha256")


def test_a_signed_data_that_is_not_a_timestamp() -> None:
    from cert_interop import cms as cert_cms

    pki = pki_for("ec")
    signed = cert_cms.sign(b"hello", None, [(pki.key, pki.cert)])
    with pytest.raises(MalformedTimestamp, match="TSTInfo"):
        verify_token(signed, DIGEST, "sha256")

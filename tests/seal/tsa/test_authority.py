"""The authority: what it grants, what it refuses and how, and what it refuses to be built from."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import cms, core, tsp

from cert_interop.cms import der
from cert_interop.signatures import sign
from cert_interop.x509.names import name_from_asn1
from seal.tsa import (
    DEFAULT_POLICY,
    TimeStampAuthority,
    TsaMisconfigured,
    build_request,
    parse_response,
    random_serial,
    verify_token,
)
from seal.tsa.errors import SealError
from tests.seal.tsa.conftest import TIME_STAMPING, Pki, eku, keygen, pki_for

DATA = b"bid file contents"
SHA256 = hashlib.sha256(DATA).digest()


def granted_token(reply: bytes) -> cms.ContentInfo:
    parsed = parse_response(reply)
    assert parsed.status == "granted", parsed
    assert parsed.token is not None
    return cms.ContentInfo.load(parsed.token)


def tst_info(token: cms.ContentInfo) -> tsp.TSTInfo:
    return token["content"]["encap_content_info"]["content"].parsed


def refused(reply: bytes) -> tuple[str, ...]:
    parsed = parse_response(reply)
    assert parsed.status == "rejection"
    assert parsed.token is None
    assert parsed.texts
    return parsed.fail_info


def raw_request(**fields: Any) -> bytes:
    req: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": SHA256},
    }
    req.update(fields)
    return bytes(tsp.TimeStampReq(req).dump())


# --- granted ------------------------------------------------------------------------------


def test_grants_a_token_with_the_required_parts(pki: Pki, authority: TimeStampAuthority) -> None:
    token = granted_token(authority.respond(build_request(SHA256, "sha256", nonce=42)))
    sd = token["content"]
    assert token["content_type"].native == "signed_data"
    assert sd["version"].native == "v3"
    assert sd["encap_content_info"]["content_type"].dotted == "1.2.840.113549.1.9.16.1.4"
    tst = tst_info(token)
    assert tst["version"].native == "v1"
    assert tst["policy"].dotted == DEFAULT_POLICY
    assert tst["message_imprint"]["hashed_message"].native == SHA256
    assert tst["nonce"].native == 42
    assert tst["accuracy"].native == {"seconds": 1, "millis": None, "micros": None}
    assert tst["tsa"].name == "directory_name"
    assert name_from_asn1(tst["tsa"].chosen).matches(pki.cert.subject)
    (si,) = sd["signer_infos"]
    attrs = {a["type"].native: a["values"] for a in si["signed_attrs"]}
    assert set(attrs) == {
        "content_type",
        "message_digest",
        "signing_certificate_v2",
        "signing_time",
    }
    assert attrs["content_type"][0].native == "tst_info"
    cert_id = attrs["signing_certificate_v2"][0]["certs"][0]
    assert cert_id["cert_hash"].native == hashlib.sha256(pki.cert.der).digest()
    assert cert_id["issuer_serial"]["serial_number"].native == pki.cert.serial_number
    expected = {
        "rsa": ("1.2.840.113549.1.1.11", "sha256"),
        "ec": ("1.2.840.10045.4.3.2", "sha256"),
        "sm2": ("1.2.156.10197.1.301.1", "1.2.156.10197.1.401"),
    }[pki.alg]
    assert si["signature_algorithm"]["algorithm"].dotted == expected[0]
    assert si["digest_algorithm"]["algorithm"].native == expected[1]
    certs = {c.chosen.dump() for c in sd["certificates"]}
    assert certs == {pki.cert.der, pki.ca.der}
    info = verify_token(token.dump(), SHA256, "sha256", nonce=42)
    assert info.tsa_certificate.der == pki.cert.der


@pytest.mark.parametrize("hash_name", ["sha256", "sha384", "sha512", "sm3"])
def test_every_imprint_hash(authority: TimeStampAuthority, hash_name: str) -> None:
    digest = hashlib.new(hash_name, DATA).digest()
    token = granted_token(authority.respond(build_request(digest, hash_name)))
    info = verify_token(token.dump(), digest, hash_name)
    assert info.hash_algorithm == hash_name


def test_nonce_is_echoed_and_absent_without_one(authority: TimeStampAuthority) -> None:
    big = (1 << 200) + 12345
    tst = tst_info(granted_token(authority.respond(build_request(SHA256, "sha256", nonce=big))))
    assert tst["nonce"].native == big
    tst = tst_info(granted_token(authority.respond(build_request(SHA256, "sha256"))))
    assert isinstance(tst["nonce"], core.Void)


def test_cert_req_false_leaves_certificates_out(pki: Pki, authority: TimeStampAuthority) -> None:
    reply = authority.respond(build_request(SHA256, "sha256", cert_req=False))
    token = granted_token(reply)
    assert isinstance(token["content"]["certificates"], core.Void)
    # the token still verifies once the TSA certificate is supplied
    info = verify_token(token.dump(), SHA256, "sha256", certificates=[pki.cert])
    assert info.certificates == ()


def test_our_own_policy_may_be_asked_for(authority: TimeStampAuthority) -> None:
    reply = authority.respond(build_request(SHA256, "sha256", policy=DEFAULT_POLICY))
    assert tst_info(granted_token(reply))["policy"].dotted == DEFAULT_POLICY


def test_clock_serials_accuracy_and_policy_are_injectable() -> None:
    pki = pki_for("ec")
    when = datetime.now(UTC).replace(microsecond=123456)
    serials = iter([7, 8])
    authority = TimeStampAuthority(
        pki.key,
        pki.cert,
        policy="1.2.156.10197.9999.1",
        accuracy=timedelta(milliseconds=500),
        clock=lambda: when,
        serial_source=lambda: next(serials),
        signing_time=False,
    )
    token = granted_token(authority.respond(build_request(SHA256, "sha256")))
    tst = tst_info(token)
    assert tst["serial_number"].native == 7
    assert tst["gen_time"].native == when  # below a second of accuracy, fractions are kept
    assert tst["policy"].dotted == "1.2.156.10197.9999.1"
    assert tst["accuracy"].native == {"seconds": None, "millis": 500, "micros": None}
    attrs = {a["type"].native for a in token["content"]["signer_infos"][0]["signed_attrs"]}
    assert "signing_time" not in attrs
    assert (
        tst_info(granted_token(authority.respond(build_request(SHA256, "sha256"))))[
            "serial_number"
        ].native
        == 8
    )


def test_random_serials_are_positive_and_fit_20_bytes() -> None:
    serials = {random_serial() for _ in range(2000)}
    assert len(serials) == 2000
    assert all(0 < s < 1 << 159 for s in serials)
    assert all(len(core.Integer(s).dump()) <= 22 for s in serials)  # tag + length + 20


def test_an_external_signer_signs_without_handing_out_its_key() -> None:
    pki = pki_for("sm2")
    calls: list[str] = []

    class Hsm:
        def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
            calls.append(algorithm)
            return sign(pki.key, algorithm, data=data, digest=digest)

    authority = TimeStampAuthority(Hsm(), pki.cert)
    token = granted_token(authority.respond(build_request(SHA256, "sha256")))
    verify_token(token.dump(), SHA256, "sha256")
    assert calls == ["sm2-sm3"]


# --- refused ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fail"),
    [
        (b"", "bad_data_format"),
        (b"\x30\x03\x02\x01", "bad_data_format"),
        (b"not DER at all", "bad_data_format"),
        (raw_request() + b"\x00", "bad_data_format"),  # trailing bytes
        (b"\x30" + b"\x84\xff\xff\xff\xff", "bad_data_format"),  # absurd length
        (raw_request(version=2), "bad_request"),
    ],
)
def test_malformed_requests(authority: TimeStampAuthority, body: bytes, fail: str) -> None:
    assert refused(authority.respond(body)) == (fail,)


def test_wrong_imprint_length(authority: TimeStampAuthority) -> None:
    body = raw_request(
        message_imprint={"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"x" * 20}
    )
    assert refused(authority.respond(body)) == ("bad_data_format",)
    sm3_short = raw_request(
        message_imprint={
            "hash_algorithm": {"algorithm": "1.2.156.10197.1.401"},
            "hashed_message": b"x" * 64,
        }
    )
    assert refused(authority.respond(sm3_short)) == ("bad_data_format",)


@pytest.mark.parametrize("oid", ["sha1", "md5", "1.2.3.4.5", "2.16.840.1.101.3.4.2.8"])
def test_unknown_hash_algorithms(authority: TimeStampAuthority, oid: str) -> None:
    body = raw_request(
        message_imprint={"hash_algorithm": {"algorithm": oid}, "hashed_message": b"x" * 32}
    )
    assert refused(authority.respond(body)) == ("bad_alg",)


def test_hash_parameters_other_than_null(authority: TimeStampAuthority) -> None:
    alg = der.seq(der.oid("2.16.840.1.101.3.4.2.1"), der.integer(1))  # parameters: INTEGER 1
    body = der.seq(der.integer(1), der.seq(alg, der.octets(SHA256)))
    assert refused(authority.respond(body)) == ("bad_alg",)
    null = raw_request(
        message_imprint={
            "hash_algorithm": {"algorithm": "sha256", "parameters": core.Null()},
            "hashed_message": SHA256,
        }
    )
    assert parse_response(authority.respond(null)).status == "granted"


def test_unaccepted_policy(authority: TimeStampAuthority) -> None:
    body = build_request(SHA256, "sha256", policy="1.3.6.1.4.1.4146.2.3")
    assert refused(authority.respond(body)) == ("unaccepted_policy",)


def test_extensions_are_refused(authority: TimeStampAuthority) -> None:
    ext = {"extn_id": "1.2.3.4", "critical": False, "extn_value": b"\x05\x00"}
    assert refused(authority.respond(raw_request(extensions=[ext]))) == ("unaccepted_extensions",)


@pytest.mark.parametrize("value", ["not bytes", None, 12])
def test_non_bytes_input(authority: TimeStampAuthority, value: Any) -> None:
    assert refused(authority.respond(value)) == ("bad_data_format",)


def test_a_failing_signer_gives_system_failure_not_an_exception() -> None:
    pki = pki_for("rsa")

    class BrokenHsm:
        def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
            raise OSError("CKR_DEVICE_REMOVED")

    authority = TimeStampAuthority(BrokenHsm(), pki.cert)
    assert refused(authority.respond(build_request(SHA256, "sha256"))) == ("system_failure",)


def test_an_external_signer_with_another_key_gives_system_failure() -> None:
    pki = pki_for("ec")
    other = keygen("ec")

    class WrongToken:
        def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
            return sign(other, algorithm, data=data, digest=digest)

    authority = TimeStampAuthority(WrongToken(), pki.cert)
    assert refused(authority.respond(build_request(SHA256, "sha256"))) == ("system_failure",)


def test_outside_the_certificate_validity_gives_system_failure() -> None:
    pki = pki_for("ec")
    late = pki.cert.not_after + timedelta(days=1)
    authority = TimeStampAuthority(pki.key, pki.cert, clock=lambda: late)
    assert refused(authority.respond(build_request(SHA256, "sha256"))) == ("system_failure",)
    naive = TimeStampAuthority(pki.key, pki.cert, clock=datetime.now)
    assert refused(naive.respond(build_request(SHA256, "sha256"))) == ("system_failure",)


def test_bad_serial_source_gives_system_failure() -> None:
    pki = pki_for("ec")
    authority = TimeStampAuthority(pki.key, pki.cert, serial_source=lambda: 1 << 160)
    assert refused(authority.respond(build_request(SHA256, "sha256"))) == ("system_failure",)


# --- construction -------------------------------------------------------------------------


def test_certificate_without_time_stamping_eku_is_refused() -> None:
    pki = pki_for("ec")
    cases = {
        "no extendedKeyUsage": pki.issue(),
        "must be critical": pki.issue(eku(TIME_STAMPING, critical=False)),
        "id-kp-timeStamping only": pki.issue(eku(TIME_STAMPING, "1.3.6.1.5.5.7.3.1")),
        "only, not": pki.issue(eku("1.3.6.1.5.5.7.3.1")),
    }
    for words, cert in cases.items():
        with pytest.raises(TsaMisconfigured, match=words) as caught:
            TimeStampAuthority(pki.key, cert)
        assert caught.value.code == "tsa_misconfigured"
        assert isinstance(caught.value, SealError)
        assert caught.value.message_zh


def test_key_must_match_the_certificate() -> None:
    pki = pki_for("ec")
    with pytest.raises(TsaMisconfigured, match="does not belong"):
        TimeStampAuthority(keygen("ec"), pki.cert)
    with pytest.raises(TsaMisconfigured, match="does not belong"):
        TimeStampAuthority(pki_for("sm2").key, pki.cert)
    with pytest.raises(TsaMisconfigured, match="private key"):
        TimeStampAuthority(object(), pki.cert)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"policy": "not an oid"},
        {"policy": "3.1.2"},
        {"policy": "1.2.03"},
        {"accuracy": timedelta(0)},
        {"chain": ["not a certificate"]},
    ],
)
def test_bad_settings(kwargs: dict[str, Any]) -> None:
    pki = pki_for("ec")
    with pytest.raises(TsaMisconfigured):
        TimeStampAuthority(pki.key, pki.cert, **kwargs)

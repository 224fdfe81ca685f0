"""Build → parse → verify for RSA, ECDSA and SM2; interop with `cryptography`, OpenSSL (structure
for SM2, full chain for RSA/EC) and an independent pure-Python SM2 verifier."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import x509 as a509
from asn1crypto.algos import DSASignature
from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cert_interop import sm2
from cert_interop.errors import InvalidKey, MalformedInput, UnsupportedAlgorithm
from cert_interop.pki_cli import DEFAULT_CREDIT_CODE, OID_ORG_CODE
from cert_interop.sm3 import sm3
from cert_interop.x509 import (
    OID_SM2_CURVE,
    OID_SM2_SM3,
    ExtensionSpec,
    Revocation,
    build_certificate,
    build_crl,
    parse_certificate,
    parse_crl,
    string_extension,
    verify_signature,
)

from .conftest import Made

SIG_OIDS = {"rsa": "1.2.840.113549.1.1.11", "ec": "1.2.840.10045.4.3.2", "sm2": OID_SM2_SM3}


def test_every_signature_verifies(made: Made) -> None:
    h = made.h
    root_pub = h.root.public_key
    inter_pub = h.intermediate.public_key
    assert verify_signature(h.root, root_pub)
    assert verify_signature(h.intermediate, root_pub)
    assert verify_signature(h.leaf, inter_pub)
    assert verify_signature(h.revoked, inter_pub)
    assert verify_signature(h.crl, inter_pub)
    assert verify_signature(h.root_crl, root_pub)
    if h.encryption_leaf is not None:
        assert verify_signature(h.encryption_leaf, inter_pub)
    # wrong issuer key
    assert not verify_signature(h.leaf, root_pub)
    assert not verify_signature(h.crl, root_pub)
    assert not verify_signature(h.intermediate, inter_pub)


def test_signature_algorithm_follows_issuer_key(made: Made) -> None:
    for cert in (made.h.root, made.h.intermediate, made.h.leaf):
        assert cert.signature_algorithm_oid == SIG_OIDS[made.alg]
        assert cert.key_algorithm == made.alg
    assert made.h.crl.signature_algorithm_oid == SIG_OIDS[made.alg]
    if made.alg == "sm2":
        assert made.h.leaf.signature_algorithm == "SM2-with-SM3"
        assert made.h.leaf.curve == OID_SM2_CURVE
        spki = a509.Certificate.load(made.h.leaf.der).public_key
        assert spki["algorithm"]["algorithm"].dotted == "1.2.840.10045.2.1"
        assert spki["algorithm"]["parameters"].chosen.dotted == OID_SM2_CURVE


def test_tampering_is_detected(made: Made) -> None:
    h = made.h
    pub = h.intermediate.public_key
    tbs = bytearray(h.leaf.tbs_bytes)
    tbs[len(tbs) // 2] ^= 0x01
    assert not verify_signature(dataclasses.replace(h.leaf, tbs_bytes=bytes(tbs)), pub)
    sig = bytearray(h.leaf.signature)
    sig[-1] ^= 0x01
    assert not verify_signature(dataclasses.replace(h.leaf, signature=bytes(sig)), pub)
    assert not verify_signature(dataclasses.replace(h.leaf, signature=b""), pub)
    crl_tbs = bytearray(h.crl.tbs_bytes)
    crl_tbs[-3] ^= 0x40
    assert not verify_signature(dataclasses.replace(h.crl, tbs_bytes=bytes(crl_tbs)), pub)
    # a tampered certificate file re-parsed: the TBS bytes come from the file
    der = bytearray(h.leaf.der)
    i = der.index(b"ca-test@example.cn")
    der[i] = ord("X")
    assert not verify_signature(parse_certificate(bytes(der)), pub)
    with pytest.raises(UnsupportedAlgorithm):
        verify_signature(dataclasses.replace(h.leaf, signature_algorithm_oid="1.2.3.4"), pub)


def test_fields_parse_back(made: Made) -> None:
    h = made.h
    root, inter, leaf = h.root, h.intermediate, h.leaf
    base = f"http://127.0.0.1/pki/{made.alg}"
    assert root.self_issued and root.is_ca and root.basic_constraints is not None
    assert root.basic_constraints.path_length is None
    assert root.key_usage == {"key_cert_sign", "crl_sign"}
    assert root.authority_key_identifier == root.subject_key_identifier
    assert inter.issuer == root.subject and leaf.issuer == inter.subject
    assert inter.basic_constraints is not None and inter.basic_constraints.path_length == 0
    assert inter.authority_key_identifier == root.subject_key_identifier
    assert leaf.authority_key_identifier == inter.subject_key_identifier
    assert inter.crl_distribution_points == (f"{base}/root.crl",)
    assert inter.ca_issuers_urls == (f"{base}/root.cer",)
    assert leaf.crl_distribution_points == (f"{base}/intermediate.crl",)
    assert leaf.ocsp_urls == (f"{base}/ocsp",)
    assert leaf.ca_issuers_urls == (f"{base}/intermediate.cer",)
    assert not leaf.is_ca
    assert leaf.extended_key_usage == ("1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.4")
    assert [(g.kind, g.value) for g in leaf.subject_alt_names] == [("email", "ca-test@example.cn")]
    assert leaf.subject.get("serialNumber") == [DEFAULT_CREDIT_CODE]
    assert leaf.subject.get("C") == ["CN"]
    assert [a.name for a in leaf.subject.attributes] == ["C", "ST", "L", "O", "serialNumber", "CN"]
    ident = leaf.extension(OID_ORG_CODE)
    assert ident is not None and not ident.critical and ident.text == DEFAULT_CREDIT_CODE
    assert ident.value_der[0] == 0x13  # PrintableString
    assert leaf.extension("2.5.29.15") is not None
    assert leaf.extension("2.5.29.15").critical  # type: ignore[union-attr]
    assert leaf.not_before.tzinfo is not None and leaf.not_after > leaf.not_before
    assert leaf.not_after - leaf.not_before == timedelta(days=365)
    assert leaf.version == 3 and leaf.serial_number > 0
    # PEM and DER give the same object
    assert parse_certificate(leaf.pem()) == parse_certificate(leaf.der) == leaf
    if made.alg == "rsa":
        assert leaf.key_usage == {"digital_signature", "non_repudiation", "key_encipherment"}
    if made.alg == "sm2":
        assert leaf.key_usage == {"digital_signature", "non_repudiation"}
        enc = h.encryption_leaf
        assert enc is not None
        assert enc.key_usage == {"key_encipherment", "data_encipherment", "key_agreement"}
        assert enc.subject == leaf.subject
        assert enc.extension(OID_ORG_CODE) == ident
        assert enc.public_key != leaf.public_key


def test_crl_lists_the_revoked_leaf(made: Made) -> None:
    crl = parse_crl((made.out / "intermediate.crl").read_bytes())
    assert crl == made.h.crl
    assert crl.issuer == made.h.intermediate.subject
    assert crl.authority_key_identifier == made.h.intermediate.subject_key_identifier
    assert crl.crl_number == 1 and crl.version == 2
    assert crl.next_update is not None and crl.next_update > crl.this_update
    entry = crl.entry(made.h.revoked.serial_number)
    assert entry is not None and entry.reason == "key_compromise"
    assert entry.revocation_date.tzinfo is not None
    assert crl.entry(made.h.leaf.serial_number) is None
    assert [r.serial_number for r in crl.revoked] == [made.h.revoked.serial_number]
    assert made.h.root_crl.revoked == ()


def test_files_hold_keys_that_match(made: Made) -> None:
    for name in ("root", "intermediate", "leaf", "revoked"):
        cert = parse_certificate((made.out / f"{name}.pem").read_bytes())
        assert made.key(name).public_key() == cert.public_key or (
            cert.key_algorithm != "sm2"
            and made.key(name).public_key().public_numbers() == cert.public_key.public_numbers()  # type: ignore[union-attr]
        )


@pytest.mark.parametrize("alg", ["rsa", "ec"])
def test_cryptography_loads_and_verifies(alg: str, hierarchies: dict[str, Made]) -> None:
    made = hierarchies[alg]
    root = cx509.load_pem_x509_certificate((made.out / "root.pem").read_bytes())
    inter = cx509.load_pem_x509_certificate((made.out / "intermediate.pem").read_bytes())
    leaf = cx509.load_pem_x509_certificate((made.out / "leaf.pem").read_bytes())
    root.verify_directly_issued_by(root)
    inter.verify_directly_issued_by(root)
    leaf.verify_directly_issued_by(inter)
    assert leaf.serial_number == made.h.leaf.serial_number
    assert leaf.subject.public_bytes() == made.h.leaf.subject.der
    bc = leaf.extensions.get_extension_for_class(cx509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    ibc = inter.extensions.get_extension_for_class(cx509.BasicConstraints).value
    assert ibc.ca and ibc.path_length == 0
    ku = leaf.extensions.get_extension_for_class(cx509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment and not ku.key_cert_sign
    ski = leaf.extensions.get_extension_for_class(cx509.SubjectKeyIdentifier).value
    assert ski.digest == made.h.leaf.subject_key_identifier
    unknown = leaf.extensions.get_extension_for_oid(cx509.ObjectIdentifier(OID_ORG_CODE))
    assert unknown.value.value == made.h.leaf.extension(OID_ORG_CODE).value_der  # type: ignore[attr-defined,union-attr]
    assert leaf.not_valid_after_utc == made.h.leaf.not_after
    crl = cx509.load_pem_x509_crl((made.out / "intermediate.crl").read_bytes())
    assert crl.is_signature_valid(inter.public_key())  # type: ignore[arg-type]
    revoked = crl.get_revoked_certificate_by_serial_number(made.h.revoked.serial_number)
    assert revoked is not None


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")


@needs_openssl
@pytest.mark.parametrize("alg", ["rsa", "ec"])
def test_openssl_verifies_rsa_and_ec_chains(alg: str, hierarchies: dict[str, Made]) -> None:
    out = hierarchies[alg].out
    res = subprocess.run(
        ["openssl", "verify", "-CAfile", out / "root.pem", "-untrusted", out / "intermediate.pem",
         out / "leaf.pem"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr


@needs_openssl
def test_openssl_parses_sm2_structure(hierarchies: dict[str, Made]) -> None:
    # OpenSSL 3.0 is only a structure oracle for SM2 (it uses an empty SM2 ID when verifying).
    out = hierarchies["sm2"].out
    res = subprocess.run(
        ["openssl", "x509", "-in", out / "leaf.pem", "-noout", "-text"],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert "SM2-with-SM3" in res.stdout
    assert "ASN1 OID: SM2" in res.stdout
    assert DEFAULT_CREDIT_CODE in res.stdout
    assert "Digital Signature, Non Repudiation" in res.stdout
    assert "127.0.0.1/pki/sm2/ocsp" in res.stdout
    res = subprocess.run(
        ["openssl", "crl", "-in", out / "intermediate.crl", "-noout", "-text"],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert format(hierarchies["sm2"].h.revoked.serial_number, "X") in res.stdout.replace(":", "")


# --- an independent SM2 verifier: GB/T 32918.2 in plain Python -------------------------------

_P, _A, _N = sm2.P, sm2.A, sm2.N


def _add(p1: tuple[int, int] | None, p2: tuple[int, int] | None) -> tuple[int, int] | None:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and (p1[1] + p2[1]) % _P == 0:
        return None
    if p1 == p2:
        lam = (3 * p1[0] * p1[0] + _A) * pow(2 * p1[1], -1, _P) % _P
    else:
        lam = (p2[1] - p1[1]) * pow(p2[0] - p1[0], -1, _P) % _P
    x3 = (lam * lam - p1[0] - p2[0]) % _P
    return x3, (lam * (p1[0] - x3) - p1[1]) % _P


def _mul(k: int, pt: tuple[int, int]) -> tuple[int, int] | None:
    acc: tuple[int, int] | None = None
    add: tuple[int, int] | None = pt
    while k:
        if k & 1:
            acc = _add(acc, add)
        add = _add(add, add)
        k >>= 1
    return acc


def _der_rs(sig: bytes) -> tuple[int, int]:
    rs = DSASignature.load(sig).native
    return int(rs["r"]), int(rs["s"])


def _independent_sm2_verify(pub_xy: bytes, sig: bytes, msg: bytes) -> bool:
    uid = b"1234567812345678"
    za = sm3(
        (len(uid) * 8).to_bytes(2, "big")
        + uid
        + b"".join(v.to_bytes(32, "big") for v in (sm2.A, sm2.B, sm2.GX, sm2.GY))
        + pub_xy
    )
    e = int.from_bytes(sm3(za + msg), "big")
    r, s = _der_rs(sig)
    if not (1 <= r < _N and 1 <= s < _N):
        return False
    t = (r + s) % _N
    if t == 0:
        return False
    q = (int.from_bytes(pub_xy[:32], "big"), int.from_bytes(pub_xy[32:], "big"))
    pt = _add(_mul(s, (sm2.GX, sm2.GY)), _mul(t, q))
    return pt is not None and (e + pt[0]) % _N == r


def test_sm2_signatures_verify_independently(hierarchies: dict[str, Made]) -> None:
    h = hierarchies["sm2"].h
    root_xy = h.root.public_key.xy  # type: ignore[union-attr]
    inter_xy = h.intermediate.public_key.xy  # type: ignore[union-attr]
    assert _independent_sm2_verify(root_xy, h.root.signature, h.root.tbs_bytes)
    assert _independent_sm2_verify(root_xy, h.intermediate.signature, h.intermediate.tbs_bytes)
    assert _independent_sm2_verify(inter_xy, h.leaf.signature, h.leaf.tbs_bytes)
    assert _independent_sm2_verify(inter_xy, h.crl.signature, h.crl.tbs_bytes)
    # the check has teeth: wrong key, other message, and no Z value all fail
    assert not _independent_sm2_verify(root_xy, h.leaf.signature, h.leaf.tbs_bytes)
    assert not _independent_sm2_verify(inter_xy, h.leaf.signature, h.leaf.tbs_bytes + b"\0")


# --- building: refusals and options -------------------------------------------------------------


def test_build_refusals() -> None:
    k = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    subject = [("CN", "x")]
    with pytest.raises(InvalidKey):
        build_certificate(subject=subject, subject_public_key=k.public_key(), issuer_key=other)
    root = build_certificate(
        subject=subject, subject_public_key=k.public_key(), issuer_key=k, ca=True
    )
    with pytest.raises(InvalidKey):
        build_certificate(
            subject=subject, subject_public_key=k.public_key(), issuer_key=other, issuer=root
        )
    with pytest.raises(InvalidKey):
        build_crl(issuer=root, issuer_key=other)
    bad: list[dict[str, object]] = [
        {"path_length": 1},
        {"ca": True, "path_length": -1},
        {"key_usage": {"sign_everything"}},
        {"key_usage": set()},
        {"extended_key_usage": []},
        {"days": -1},
        {"serial_number": 0},
        {"serial_number": 1 << 170},
        {"subject_alt_names": [("x400", "a")]},
        {"not_before": datetime(2030, 1, 1)},  # naive on purpose
        {"extra_extensions": [ExtensionSpec("2.5.29.19", b"\x30\x00")], "ca": False},
    ]
    for kwargs in bad:
        with pytest.raises(MalformedInput):
            build_certificate(
                subject=subject, subject_public_key=k.public_key(), issuer_key=k, **kwargs
            )  # type: ignore[arg-type]
    for spec in ([], [("C", "CHN")], [("nope", "x")], [("CN", "")]):
        with pytest.raises(MalformedInput):
            build_certificate(subject=spec, subject_public_key=k.public_key(), issuer_key=k)
    with pytest.raises(MalformedInput):
        build_crl(issuer=root, issuer_key=k, revoked=[Revocation(5, datetime.now(UTC), "why")])
    with pytest.raises(MalformedInput):
        string_extension("1.2.3", "x", kind="bmp")


def test_build_options_round_trip() -> None:
    k = rsa.generate_private_key(65537, 2048)
    sk = sm2.generate_private_key()
    start = datetime(2051, 3, 1, tzinfo=UTC)  # GeneralizedTime after 2049
    cert = build_certificate(
        subject=[("C", "CN"), ("O", "a,b+c"), ("OU", "单位"), ("CN", "#x "),
                 ("emailAddress", "a@b.cn"), ("1.2.3.4.5", "custom")],
        subject_public_key=sk.public_key(),
        issuer_key=sk,
        serial_number=(1 << 158) + 7,
        not_before=start,
        not_after=start + timedelta(days=1),
        subject_alt_names=[("dns", "a.example.cn"), ("uri", "https://x.cn/"), ("ip", "10.0.0.1")],
        extra_extensions=[
            string_extension("1.2.156.10260.4.1.1", "11010519491231002X", kind="utf8",
                             critical=True),
            ExtensionSpec("1.2.156.1.8888.148", b"\x30\x03\x02\x01\x05"),
        ],
    )  # fmt: skip
    assert cert.serial_number == (1 << 158) + 7
    assert cert.not_before == start
    assert cert.subject.get("1.2.3.4.5") == ["custom"]
    assert cert.subject.rfc4514 == (
        "1.2.3.4.5=custom,emailAddress=a@b.cn,CN=\\#x\\ ,OU=单位,O=a\\,b\\+c,C=CN"
    )
    assert [(g.kind, g.value) for g in cert.subject_alt_names] == [
        ("dns", "a.example.cn"), ("uri", "https://x.cn/"), ("ip", "10.0.0.1"),
    ]  # fmt: skip
    ident = cert.extension("1.2.156.10260.4.1.1")
    assert ident is not None and ident.critical and ident.text == "11010519491231002X"
    raw = cert.extension("1.2.156.1.8888.148")
    assert raw is not None and raw.text is None and raw.value_der == b"\x30\x03\x02\x01\x05"
    assert cert.basic_constraints is None and cert.key_usage is None
    assert verify_signature(cert, sk.public_key())
    assert not verify_signature(cert, k.public_key())
    d = cert.as_dict()
    assert d["key_algorithm"] == "sm2" and d["serial_number"] == format(cert.serial_number, "x")

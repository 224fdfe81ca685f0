"""OCSP requests and responses: build, parse, verify the signer; cross-checked with openssl."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cert_interop.errors import CertInteropError, InvalidKey, MalformedInput, OcspResponseRejected
from cert_interop.x509 import (
    MAX_INPUT_BYTES,
    CertId,
    OcspRequest,
    OcspResponse,
    OcspResponseStatus,
    SingleResponse,
    build_ocsp_error_response,
    build_ocsp_request,
    build_ocsp_response,
    cert_id,
    new_nonce,
    parse_ocsp_request,
    parse_ocsp_response,
    verify_ocsp_response,
)

from .conftest import NOW, Pki

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl binary")


def _response(pki: Pki, **kw: object) -> OcspResponse:
    h = pki.h
    singles = [
        SingleResponse(cert_id(h.leaf, h.intermediate), "good", NOW, NOW + timedelta(hours=1)),
        SingleResponse(
            cert_id(h.revoked, h.intermediate),
            "revoked",
            NOW,
            None,
            NOW - timedelta(hours=1),
            "key_compromise",
        ),
    ]
    kw.setdefault("signer", h.intermediate)
    kw.setdefault("signer_key", pki.key("intermediate"))
    return build_ocsp_response(singles, **kw)  # type: ignore[arg-type]


# --- requests --------------------------------------------------------------------------------


@pytest.mark.parametrize("hash_algorithm", ["sha1", "sha256", "sm3"])
def test_request_round_trip(pki: Pki, hash_algorithm: str) -> None:
    h = pki.h
    ids = [cert_id(h.leaf, h.intermediate, hash_algorithm), cert_id(h.revoked, h.intermediate)]
    req = build_ocsp_request(ids)
    assert req.nonce is not None and len(req.nonce) == 16
    back = parse_ocsp_request(req.der)
    assert back == OcspRequest(req.der, tuple(ids), req.nonce, False)
    assert back.cert_ids[0].matches(h.leaf, h.intermediate)
    assert not back.cert_ids[0].matches(h.revoked, h.intermediate)
    assert not back.cert_ids[0].matches(h.leaf, h.root)


def test_request_nonce_options(pki: Pki) -> None:
    cid = cert_id(pki.h.leaf, pki.h.intermediate)
    assert parse_ocsp_request(build_ocsp_request([cid], nonce=False).der).nonce is None
    fixed = b"\x01" * 32
    assert parse_ocsp_request(build_ocsp_request([cid], nonce=fixed).der).nonce == fixed
    assert build_ocsp_request([cid]).nonce != build_ocsp_request([cid]).nonce
    for bad in (b"", b"\0" * 33):
        with pytest.raises(MalformedInput):
            build_ocsp_request([cid], nonce=bad)
    with pytest.raises(MalformedInput):
        build_ocsp_request([])
    with pytest.raises(MalformedInput):
        new_nonce(8)
    assert len(new_nonce(32)) == 32


def test_cert_id_hashes(pki: Pki) -> None:
    h = pki.h
    ids = {alg: cert_id(h.leaf, h.intermediate, alg) for alg in ("sha1", "sha256", "sm3")}
    assert [len(ids[a].issuer_key_hash) for a in ("sha1", "sha256", "sm3")] == [20, 32, 32]
    assert ids["sha256"].issuer_name_hash != ids["sm3"].issuer_name_hash
    with pytest.raises(CertInteropError):
        cert_id(h.leaf, h.intermediate, "md5")
    assert not CertId("1.2.3.4", b"", b"", h.leaf.serial_number).matches(h.leaf, h.intermediate)


# --- responses -------------------------------------------------------------------------------


def test_response_round_trip_and_signer(pki: Pki) -> None:
    h = pki.h
    nonce = new_nonce()
    resp = _response(pki, nonce=nonce)
    assert resp.status is OcspResponseStatus.SUCCESSFUL
    assert resp.nonce == nonce
    assert resp.responder_name is not None and resp.responder_name.matches(h.intermediate.subject)
    assert resp.certs == (h.intermediate,)
    good = resp.find(h.leaf, h.intermediate)
    revoked = resp.find(h.revoked, h.intermediate)
    assert good is not None and good.status == "good" and good.next_update is not None
    assert revoked is not None and revoked.status == "revoked"
    assert (revoked.revoked_at, revoked.reason) == (NOW - timedelta(hours=1), "key_compromise")
    assert resp.find(h.leaf, h.root) is None
    assert parse_ocsp_response(resp.der) == resp
    assert verify_ocsp_response(resp, h.intermediate) == h.intermediate


def test_responder_id_by_key_and_no_certs(pki: Pki) -> None:
    h = pki.h
    resp = _response(pki, responder_id="key", certs=())
    assert resp.responder_name is None and resp.responder_key_hash is not None
    assert resp.certs == ()
    assert verify_ocsp_response(resp, h.intermediate) == h.intermediate


def test_delegated_responder(pki: Pki) -> None:
    h = pki.h
    delegate, key = pki.delegate()
    for rid in ("name", "key"):
        resp = _response(pki, signer=delegate, signer_key=key, responder_id=rid)
        assert verify_ocsp_response(resp, h.intermediate, at=NOW) == delegate


def test_signer_key_must_match(pki: Pki) -> None:
    with pytest.raises(InvalidKey):
        _response(pki, signer_key=pki.key("root"))


@pytest.mark.parametrize(
    "case",
    ["no_eku", "other_eku", "other_ca", "expired", "not_included", "bad_signature", "root_signs"],
)
def test_unauthorised_signers_are_rejected(pki: Pki, case: str) -> None:
    h = pki.h
    kw: dict[str, object] = {}
    if case == "no_eku":
        signer, key = pki.delegate(eku=[])
    elif case == "other_eku":
        signer, key = pki.delegate(eku=["client_auth"])
    elif case == "other_ca":  # issued by the root, not by the leaf's issuer
        signer, key = pki.delegate(issuer_cert=h.root, issuer_key=pki.key("root"))
    elif case == "expired":
        signer, key = pki.delegate(
            not_before=NOW - timedelta(days=10), not_after=NOW - timedelta(days=1)
        )
    elif case == "not_included":
        signer, key = pki.delegate()
        kw["certs"] = ()
    elif case == "root_signs":
        signer, key = h.root, pki.key("root")
    else:
        signer, key = h.intermediate, pki.key("intermediate")
    resp = _response(pki, signer=signer, signer_key=key, **kw)
    if case == "bad_signature":
        der = bytearray(resp.der)
        der[der.rindex(resp.signature) + len(resp.signature) - 1] ^= 1
        resp = parse_ocsp_response(bytes(der))
    expected = {
        "no_eku": "lacks the id-kp-OCSPSigning",
        "other_eku": "lacks the id-kp-OCSPSigning",
        "other_ca": "was issued by",
        "expired": "expired at",
        "not_included": "names neither",
        "bad_signature": "does not verify",
        "root_signs": "was issued by",
    }[case]
    with pytest.raises(OcspResponseRejected, match=expected):
        verify_ocsp_response(resp, h.intermediate, at=NOW)


def test_delegate_of_a_twin_ca_is_rejected(pki: Pki, pkis: dict[str, Pki]) -> None:
    """Same issuer name, other key: the delegate's signature does not verify under ours."""
    other = pkis["ec" if pki.alg != "ec" else "rsa"]
    h = pki.h
    key = pki.new_key()
    from cert_interop.x509 import build_certificate

    forged_ca = build_certificate(
        subject=[(a.oid, a.value) for a in h.intermediate.subject.attributes],
        subject_public_key=other.key("intermediate").public_key(),
        issuer_key=other.key("root"),
        issuer=other.h.root,
        ca=True,
        key_usage={"key_cert_sign", "crl_sign"},
    )
    delegate = pki.issue(
        "Forged Responder",
        key=key,
        issuer_cert=forged_ca,
        issuer_key=other.key("intermediate"),
        extended_key_usage=["ocsp_signing"],
    )
    resp = _response(pki, signer=delegate, signer_key=key)
    with pytest.raises(OcspResponseRejected, match="key"):
        verify_ocsp_response(resp, h.intermediate, at=NOW)


@pytest.mark.parametrize("status", [s for s in OcspResponseStatus if s.value != "successful"])
def test_error_responses(pki: Pki, status: OcspResponseStatus) -> None:
    resp = build_ocsp_error_response(status)
    assert parse_ocsp_response(resp.der).status is status
    assert resp.responses == () and resp.nonce is None
    with pytest.raises(OcspResponseRejected, match=status.value):
        verify_ocsp_response(resp, pki.h.intermediate)
    with pytest.raises(MalformedInput):
        build_ocsp_error_response(OcspResponseStatus.SUCCESSFUL)


def test_build_refuses_bad_single_responses(pki: Pki) -> None:
    cid = cert_id(pki.h.leaf, pki.h.intermediate)
    kw = {"signer": pki.h.intermediate, "signer_key": pki.key("intermediate")}
    bad = [
        [],
        [SingleResponse(cid, "revoked", NOW)],  # no revocation time
        [SingleResponse(cid, "revoked", NOW, None, NOW, "bored")],
        [SingleResponse(cid, "good", NOW, NOW - timedelta(1))],
        [SingleResponse(cid, "maybe", NOW)],  # type: ignore[arg-type]
        [SingleResponse(cid, "good", NOW.replace(tzinfo=None))],
    ]
    for singles in bad:
        with pytest.raises(MalformedInput):
            build_ocsp_response(singles, **kw)  # type: ignore[arg-type]


# --- hostile bytes ---------------------------------------------------------------------------


def _try(data: bytes) -> None:
    for parse in (parse_ocsp_response, parse_ocsp_request):
        try:
            parse(data)
        except CertInteropError:
            continue


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    _try(data)
    n = len(data)
    header = b"\x30" + (bytes([n]) if n < 0x80 else b"\x82" + n.to_bytes(2, "big"))
    _try(header + data)


_SAMPLES: dict[str, tuple[bytes, bytes]] = {}


def _samples(pki: Pki) -> tuple[bytes, bytes]:
    """One request and one response per algorithm (ECDSA signature lengths vary, and
    hypothesis wants the same sizes on every run)."""
    if pki.alg not in _SAMPLES:
        req = build_ocsp_request([cert_id(pki.h.leaf, pki.h.intermediate)]).der
        _SAMPLES[pki.alg] = (req, _response(pki, nonce=b"n" * 16).der)
    return _SAMPLES[pki.alg]


@FUZZ
@given(data=st.data())
def test_truncated_and_bit_flipped(pki: Pki, data: st.DataObject) -> None:
    req, resp = _samples(pki)
    for der in (req, resp):
        cut = data.draw(st.integers(0, len(der) - 1))
        with pytest.raises(MalformedInput):
            parse_ocsp_response(der[:cut])
        with pytest.raises(MalformedInput):
            parse_ocsp_request(der[:cut])
        flipped = bytearray(der)
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(der) - 1))
            flipped[i] ^= 1 << data.draw(st.integers(0, 7))
        _try(bytes(flipped))
        try:
            parsed = parse_ocsp_response(bytes(flipped))
            verify_ocsp_response(parsed, pki.h.intermediate)
        except CertInteropError:
            pass
        _try(der + data.draw(st.binary(min_size=1, max_size=8)))


def test_oversized_wrong_kind_and_non_bytes(pki: Pki) -> None:
    resp = _response(pki).der
    req = build_ocsp_request([cert_id(pki.h.leaf, pki.h.intermediate)]).der
    for parse in (parse_ocsp_response, parse_ocsp_request):
        with pytest.raises(MalformedInput, match="larger"):
            parse(resp + b"\0" * MAX_INPUT_BYTES)
        with pytest.raises(MalformedInput):
            parse(b"")
        with pytest.raises(MalformedInput):
            parse("not bytes")  # type: ignore[arg-type]
        with pytest.raises(MalformedInput):
            parse(pki.h.leaf.der)
    with pytest.raises(MalformedInput):
        parse_ocsp_response(req)
    with pytest.raises(MalformedInput):
        parse_ocsp_request(resp)


# --- openssl ---------------------------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
    )
    return done.stdout + done.stderr


@needs_openssl
@pytest.mark.parametrize("alg", ["rsa", "ec"])
def test_openssl_reads_our_request_and_response(
    alg: str, pkis: dict[str, Pki], tmp_path: Path
) -> None:
    pki = pkis[alg]
    h = pki.h
    req = build_ocsp_request([cert_id(h.leaf, h.intermediate, "sha256")])
    (tmp_path / "req.der").write_bytes(req.der)
    text = _openssl("ocsp", "-reqin", "req.der", "-req_text", cwd=tmp_path)
    assert "Hash Algorithm: sha256" in text
    assert f"Serial Number: {h.leaf.serial_number:X}" in text
    assert req.nonce is not None and req.nonce.hex().upper() in text.replace(":", "")

    (tmp_path / "root.pem").write_bytes(h.root.pem())
    (tmp_path / "inter.pem").write_bytes(h.intermediate.pem())
    delegate, key = pki.delegate()
    for name, kw in (
        ("ca", {}),
        ("key-id", {"responder_id": "key"}),
        ("delegate", {"signer": delegate, "signer_key": key}),
    ):
        (tmp_path / f"{name}.der").write_bytes(_response(pki, **kw).der)
        text = _openssl(
            "ocsp", "-respin", f"{name}.der", "-resp_text", "-CAfile", "root.pem",
            "-verify_other", "inter.pem", "-issuer", "inter.pem", "-no_nonce",
            cwd=tmp_path,
        )  # fmt: skip
        assert "Response verify OK" in text, (name, text)
        assert "Cert Status: good" in text and "Revocation Reason: keyCompromise" in text


@needs_openssl
@pytest.mark.parametrize("alg", ["rsa", "ec"])
def test_openssl_client_against_our_responder(
    alg: str, pkis: dict[str, Pki], tmp_path: Path
) -> None:
    pki = pkis[alg]
    h = pki.h
    (tmp_path / "root.pem").write_bytes(h.root.pem())
    (tmp_path / "inter.pem").write_bytes(h.intermediate.pem())
    for name, cert, status in (("leaf", h.leaf, "good"), ("revoked", h.revoked, "revoked")):
        (tmp_path / f"{name}.pem").write_bytes(cert.pem())
        text = _openssl(
            "ocsp", "-issuer", "inter.pem", "-cert", f"{name}.pem", "-url", pki.ocsp_url,
            "-CAfile", "root.pem", "-timeout", "10",
            cwd=tmp_path,
        )  # fmt: skip
        assert "Response verify OK" in text, text
        assert f"{name}.pem: {status}" in text, text

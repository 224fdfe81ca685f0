"""The OCSP client over real HTTP: every answer it must believe, and every one it must not."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from cert_interop.errors import CertInteropError
from cert_interop.revocation import OcspClient, RevocationStatus
from cert_interop.revocation.ocsp_client import STORE_PREFIX
from cert_interop.revocation.responder import Authority, RevocationResponder
from cert_interop.x509 import (
    Certificate,
    OcspResponseStatus,
    build_ocsp_request,
    cert_id,
    parse_ocsp_response,
    verify_ocsp_response,
)
from storage.ephemeral import EphemeralStore

from .conftest import NOW, Pki, closed_port

GOOD, REVOKED, UNKNOWN = RevocationStatus.GOOD, RevocationStatus.REVOKED, RevocationStatus.UNKNOWN


def test_good_and_revoked(pki: Pki, responder: RevocationResponder) -> None:
    client = OcspClient(None)
    h = pki.h
    good = client.check(h.leaf, h.intermediate, NOW)
    assert good.status is GOOD, good
    assert good.source == f"ocsp {pki.ocsp_url}"
    assert f"serial {h.leaf.serial_number:x} is good" in good.detail
    revoked = client.check(h.revoked, h.intermediate, NOW)
    assert revoked.status is REVOKED, revoked
    assert revoked.reason == "key_compromise"
    assert revoked.revoked_at == h.crl.revoked[0].revocation_date
    assert responder.count("ocsp") == 2


def test_revoked_after_the_time_asked_is_good_then(
    pki: Pki, responder: RevocationResponder
) -> None:
    h = pki.h
    later = {h.leaf.serial_number: (NOW + timedelta(hours=1), "superseded")}
    responder.authorities.insert(
        0, Authority(h.intermediate, h.intermediate, pki.key("intermediate"), later)
    )
    answer = OcspClient(None).check(h.leaf, h.intermediate, NOW)
    assert answer.status is GOOD and "revoked only from" in answer.detail


@pytest.mark.parametrize("hash_algorithm", ["sha256", "sm3"])
def test_other_cert_id_hashes(pki: Pki, hash_algorithm: str) -> None:
    client = OcspClient(None, hash_algorithm=hash_algorithm)
    assert client.check(pki.h.revoked, pki.h.intermediate, NOW).status is REVOKED


def test_bad_arguments() -> None:
    with pytest.raises(CertInteropError):
        OcspClient(None, hash_algorithm="md5")
    with pytest.raises(CertInteropError):
        OcspClient(None, timeout=0)


def test_unknown_from_the_responder(pki: Pki, responder: RevocationResponder) -> None:
    h = pki.h
    responder.authorities.insert(
        0, Authority(h.intermediate, h.intermediate, pki.key("intermediate"), known=frozenset())
    )
    answer = OcspClient(None).check(h.leaf, h.intermediate, NOW)
    assert answer.status is UNKNOWN and "unknown to it" in answer.detail


def test_ca_the_responder_does_not_serve(pki: Pki) -> None:
    """A CA missing from the responder's table gets `unauthorized`."""
    other_key = pki.new_key()
    other_ca = pki.issue(
        "Unserved CA",
        key=other_key,
        issuer_cert=pki.h.root,
        issuer_key=pki.key("root"),
        ca=True,
        key_usage={"key_cert_sign", "crl_sign"},
    )
    leaf = pki.issue("Unserved Leaf", issuer_cert=other_ca, issuer_key=other_key)
    answer = OcspClient(None).check(leaf, other_ca, NOW)
    assert answer.status is UNKNOWN and answer.detail == "the responder answered unauthorized"


def test_no_responder_named(pki: Pki) -> None:
    client = OcspClient(None)
    assert client.check(pki.h.root, pki.h.root, NOW).detail == (
        "the certificate names no OCSP responder"
    )
    ldap = pki.issue("LDAP only", ocsp_urls=["ldap://ldap.example.cn/ocsp"])
    answer = client.check(ldap, pki.h.intermediate, NOW)
    assert answer.status is UNKNOWN and "only non-HTTP OCSP responders" in answer.detail


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ({"nonce": "wrong"}, "nonce is not the one sent"),
        ({"nonce": "omit"}, "carries no nonce, and one is required"),
        ({"stale": True}, "the answer is stale"),
        ({"bad_signature": True}, "signature of the response does not verify"),
        ({"ocsp_status": OcspResponseStatus.TRY_LATER}, "the responder answered try_later"),
        ({"ocsp_status": OcspResponseStatus.INTERNAL_ERROR}, "answered internal_error"),
        ({"http_status": 500}, "HTTP 500"),
        ({"http_status": 404}, "HTTP 404"),
    ],
)
def test_refused_answers(
    pki: Pki, responder: RevocationResponder, behaviour: dict[str, object], expected: str
) -> None:
    with responder.behaving(**behaviour):
        answer = OcspClient(None).check(pki.h.revoked, pki.h.intermediate, NOW)
    assert answer.status is UNKNOWN, answer
    assert expected in answer.detail, answer.detail
    assert answer.source == f"ocsp {pki.ocsp_url}"


def test_replayed_answer_is_refused(pki: Pki, responder: RevocationResponder) -> None:
    h = pki.h
    assert OcspClient(None).check(h.leaf, h.intermediate, NOW).status is GOOD
    with responder.behaving(replay=True):
        answer = OcspClient(None).check(h.leaf, h.intermediate, NOW)
    assert answer.status is UNKNOWN and "replayed" in answer.detail


def test_missing_nonce_tolerated_only_when_fresh(pki: Pki, responder: RevocationResponder) -> None:
    h = pki.h
    lenient = OcspClient(None, require_nonce=False)
    with responder.behaving(nonce="omit"):
        assert lenient.check(h.revoked, h.intermediate, NOW).status is REVOKED
    with responder.behaving(nonce="omit", this_update_age=timedelta(hours=1)):
        answer = lenient.check(h.revoked, h.intermediate, NOW)
    assert answer.status is UNKNOWN and "is not within 300 s of now" in answer.detail
    with responder.behaving(nonce="wrong"):  # a wrong nonce is refused whatever the setting
        answer = lenient.check(h.revoked, h.intermediate, NOW)
    assert answer.status is UNKNOWN and "nonce is not the one sent" in answer.detail


def test_answer_newer_than_the_time_asked_is_refused(pki: Pki) -> None:
    answer = OcspClient(None).check(pki.h.leaf, pki.h.intermediate, NOW - timedelta(days=1))
    assert answer.status is UNKNOWN and "thisUpdate" in answer.detail


def test_unreachable_and_slow(pki: Pki, responder: RevocationResponder) -> None:
    port = closed_port()
    leaf = pki.issue("Unreachable", ocsp_urls=[f"http://127.0.0.1:{port}/ocsp"])
    answer = OcspClient(None, timeout=2).check(leaf, pki.h.intermediate, NOW)
    assert answer.status is UNKNOWN and "connection refused" in answer.detail
    with responder.behaving(delay=1.5):
        started = time.monotonic()
        answer = OcspClient(None, timeout=0.3).check(pki.h.leaf, pki.h.intermediate, NOW)
        assert time.monotonic() - started < 1.2
    assert answer.status is UNKNOWN and "timed out" in answer.detail


def test_second_responder_used_when_the_first_fails(pki: Pki) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/ocsp"
    leaf = pki.issue("Two responders", ocsp_urls=[dead, pki.ocsp_url])
    assert OcspClient(None).check(leaf, pki.h.intermediate, NOW).status is GOOD
    both_dead = pki.issue("Both dead", ocsp_urls=[dead, dead + "2"])
    answer = OcspClient(None).check(both_dead, pki.h.intermediate, NOW)
    assert answer.status is UNKNOWN and answer.detail.count("connection refused") == 2


# --- delegated responders --------------------------------------------------------------------


def test_delegated_responder_is_believed(pki: Pki, responder: RevocationResponder) -> None:
    h = pki.h
    delegate, key = pki.delegate()
    revoked = {e.serial_number: (e.revocation_date, e.reason) for e in h.crl.revoked}
    responder.authorities.insert(0, Authority(h.intermediate, delegate, key, revoked))
    for rid in ("name", "key"):
        with responder.behaving(responder_id=rid):
            client = OcspClient(None)
            assert client.check(h.revoked, h.intermediate, NOW).status is REVOKED
            assert client.check(h.leaf, h.intermediate, NOW).status is GOOD


@pytest.mark.parametrize("case", ["no_eku", "other_ca", "not_included"])
def test_unauthorised_responder_is_refused(
    pki: Pki, responder: RevocationResponder, case: str
) -> None:
    h = pki.h
    certs = None
    if case == "no_eku":
        delegate, key = pki.delegate(eku=["server_auth"])
    elif case == "other_ca":
        delegate, key = pki.delegate(issuer_cert=h.root, issuer_key=pki.key("root"))
    else:
        delegate, key = pki.delegate()
        certs = ()
    responder.authorities.insert(0, Authority(h.intermediate, delegate, key, certs=certs))
    answer = OcspClient(None).check(h.leaf, h.intermediate, NOW)
    assert answer.status is UNKNOWN
    expected = {
        "no_eku": "lacks the id-kp-OCSPSigning extended key usage",
        "other_ca": "was issued by",
        "not_included": "names neither",
    }[case]
    assert expected in answer.detail, answer.detail


# --- cache -----------------------------------------------------------------------------------


def test_answers_are_cached_until_next_update(
    pki: Pki, responder: RevocationResponder, ephemeral: EphemeralStore
) -> None:
    h = pki.h
    first = OcspClient(ephemeral)
    assert first.check(h.leaf, h.intermediate, NOW).status is GOOD
    assert first.check(h.revoked, h.intermediate, NOW).status is REVOKED
    assert responder.count("ocsp") == 2
    key = STORE_PREFIX + hashlib.sha256(cert_id(h.leaf, h.intermediate).key.encode()).hexdigest()
    ttl = ephemeral.ttl(key)
    assert ttl is not None and 3500 < ttl <= 3600
    other_worker = OcspClient(ephemeral)  # another process would share only the store
    good = other_worker.check(h.leaf, h.intermediate, NOW)
    revoked = other_worker.check(h.revoked, h.intermediate, NOW)
    assert (good.status, revoked.status) == (GOOD, REVOKED)
    assert good.source == "ocsp (cached)" and revoked.reason == "key_compromise"
    assert responder.count("ocsp") == 2 and other_worker.requests_sent == 0


def test_not_cached_without_next_update_or_when_unknown(
    pki: Pki, responder: RevocationResponder, ephemeral: EphemeralStore
) -> None:
    h = pki.h
    with responder.behaving(validity=None):
        for _ in range(2):
            assert OcspClient(ephemeral).check(h.leaf, h.intermediate, NOW).status is GOOD
    assert responder.count("ocsp") == 2
    responder.authorities.insert(
        0, Authority(h.intermediate, h.intermediate, pki.key("intermediate"), known=frozenset())
    )
    for _ in range(2):
        assert OcspClient(ephemeral).check(h.revoked, h.intermediate, NOW).status is UNKNOWN
    assert responder.count("ocsp") == 4


def test_tampered_cache_entry_is_ignored(
    pki: Pki, responder: RevocationResponder, ephemeral: EphemeralStore
) -> None:
    h = pki.h
    key = STORE_PREFIX + hashlib.sha256(cert_id(h.revoked, h.intermediate).key.encode()).hexdigest()
    assert OcspClient(ephemeral).check(h.leaf, h.intermediate, NOW).status is GOOD
    good_der = ephemeral.get(
        STORE_PREFIX + hashlib.sha256(cert_id(h.leaf, h.intermediate).key.encode()).hexdigest()
    )
    assert good_der is not None
    for planted in (good_der, b"garbage"):  # a good answer about another certificate, junk
        ephemeral.put(key, planted, 600)
        assert OcspClient(ephemeral).check(h.revoked, h.intermediate, NOW).status is REVOKED
    assert responder.count("ocsp") == 3


# --- wire forms ------------------------------------------------------------------------------


def test_get_form(pki: Pki, responder: RevocationResponder) -> None:
    """RFC 6960 A.1: GET {url}/{url-encoded base64 of the DER request}."""
    h = pki.h
    req = build_ocsp_request([cert_id(h.revoked, h.intermediate)])
    url = pki.ocsp_url + "/" + quote(base64.b64encode(req.der).decode(), safe="")
    got = requests.get(url, timeout=5)
    assert got.status_code == 200 and got.headers["Content-Type"] == "application/ocsp-response"
    resp = parse_ocsp_response(got.content)
    assert verify_ocsp_response(resp, h.intermediate) == h.intermediate
    single = resp.find(h.revoked, h.intermediate)
    assert single is not None and single.status == "revoked" and resp.nonce == req.nonce
    assert responder.count("ocsp-get") == 1
    assert requests.get(pki.ocsp_url + "/!!!", timeout=5).status_code == 400


def test_malformed_request_gets_malformed_request(pki: Pki) -> None:
    got = requests.post(
        pki.ocsp_url,
        data=b"\x30\x03\x02\x01\x00",
        headers={"Content-Type": "application/ocsp-request"},
        timeout=5,
    )
    assert parse_ocsp_response(got.content).status is OcspResponseStatus.MALFORMED_REQUEST


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl binary")
@pytest.mark.parametrize("alg", ["rsa", "ec"])
def test_against_the_openssl_responder(alg: str, pkis: dict[str, Pki], tmp_path: Path) -> None:
    pki = pkis[alg]
    h = pki.h
    port = closed_port()
    url = f"http://127.0.0.1:{port}/"
    good = pki.issue("openssl good", ocsp_urls=[url])
    bad = pki.issue("openssl revoked", ocsp_urls=[url])

    def line(flag: str, cert: Certificate, revoked: str = "") -> str:
        """One row of openssl's `ca` index: status, expiry, revocation, serial, file, DN."""
        expiry = cert.not_after.strftime("%y%m%d%H%M%SZ")
        serial = format(cert.serial_number, "X")
        serial = "0" * (len(serial) % 2) + serial
        return f"{flag}\t{expiry}\t{revoked}\t{serial}\tunknown\t/CN=x\n"

    when = (NOW - timedelta(hours=2)).strftime("%y%m%d%H%M%SZ")
    (tmp_path / "index.txt").write_text(
        line("V", good) + line("R", bad, f"{when},keyCompromise"), encoding="ascii"
    )
    (tmp_path / "inter.pem").write_bytes(h.intermediate.pem())
    (tmp_path / "inter.key").write_bytes((pki.out / "intermediate.key").read_bytes())
    server = subprocess.Popen(
        ["openssl", "ocsp", "-index", "index.txt", "-port", str(port), "-rsigner", "inter.pem",
         "-rkey", "inter.key", "-CA", "inter.pem", "-nmin", "30", "-nrequest", "2"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert "ACCEPT" in server.stdout.readline().decode()  # bound and listening
        client = OcspClient(None)
        got_good = client.check(good, h.intermediate, NOW)
        got_bad = client.check(bad, h.intermediate, NOW)
    finally:
        server.kill()
        server.wait(timeout=5)
    assert got_good.status is GOOD, got_good
    assert got_bad.status is REVOKED, got_bad
    assert got_bad.reason == "key_compromise"

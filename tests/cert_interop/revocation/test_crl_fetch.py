"""CRLs fetched from distribution points over real HTTP: which ones count, and the shared cache."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest
from asn1crypto import crl as _acrl
from asn1crypto import x509 as _x509

from cert_interop.errors import CertInteropError
from cert_interop.revocation import CrlFetcher, RevocationStatus
from cert_interop.revocation.crl_fetch import STORE_PREFIX
from cert_interop.revocation.responder import RevocationResponder
from cert_interop.x509 import Revocation, build_certificate, build_crl
from cert_interop.x509.build import _sig_algorithm, _sign
from storage.ephemeral import EphemeralStore

from .conftest import NOW, Pki, closed_port

GOOD, REVOKED, UNKNOWN = RevocationStatus.GOOD, RevocationStatus.REVOKED, RevocationStatus.UNKNOWN


def _serve(responder: RevocationResponder, pki: Pki, name: str, body: bytes) -> str:
    path = f"/pki/{pki.alg}/{name}"
    responder.files[path] = body
    return responder.url(path)


def test_good_and_revoked(pki: Pki, responder: RevocationResponder) -> None:
    h = pki.h
    fetcher = CrlFetcher(None)
    good = fetcher.check(h.leaf, h.intermediate, NOW)
    assert good.status is GOOD, good
    assert good.source == f"crl {pki.crl_url}"
    assert f"serial {h.leaf.serial_number:x} is not on the CRL" in good.detail
    revoked = fetcher.check(h.revoked, h.intermediate, NOW)
    assert revoked.status is REVOKED, revoked
    assert (revoked.revoked_at, revoked.reason) == (
        h.crl.revoked[0].revocation_date,
        "key_compromise",
    )
    assert responder.count(f"/pki/{pki.alg}/intermediate.crl") == 2  # no store: no sharing
    assert fetcher.downloads == 2


def test_pem_crl_of_the_root(pki: Pki) -> None:
    """root.crl is served as PEM; the intermediate's own status comes from it."""
    answer = CrlFetcher(None).check(pki.h.intermediate, pki.h.root, NOW)
    assert answer.status is GOOD and answer.source.endswith("/root.crl")


def test_revoked_later_than_asked_is_good_then(pki: Pki, responder: RevocationResponder) -> None:
    h = pki.h
    crl = build_crl(
        issuer=h.intermediate,
        issuer_key=pki.key("intermediate"),
        revoked=[Revocation(h.leaf.serial_number, NOW + timedelta(hours=2), "superseded")],
    )
    url = _serve(responder, pki, "later.crl", crl.der)
    leaf = pki.issue("Later", crl_urls=[url], serial_number=h.leaf.serial_number)
    answer = CrlFetcher(None).check(leaf, h.intermediate, NOW)
    assert answer.status is GOOD and "revoked only from" in answer.detail


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["wrong_issuer", "bad_signature", "stale", "not_yet", "not_a_crl", "empty", "bad_pem"],
)
def test_unusable_crls(pki: Pki, responder: RevocationResponder, case: str) -> None:
    h = pki.h
    inter_key = pki.key("intermediate")
    if case == "wrong_issuer":
        body = h.root_crl.der
    elif case == "bad_signature":
        der = bytearray(h.crl.der)
        der[-1] ^= 1
        body = bytes(der)
    elif case == "stale":
        body = build_crl(
            issuer=h.intermediate,
            issuer_key=inter_key,
            this_update=NOW - timedelta(days=10),
            next_update=NOW - timedelta(days=3),
        ).der
    elif case == "not_yet":
        body = build_crl(
            issuer=h.intermediate, issuer_key=inter_key, this_update=NOW + timedelta(days=1)
        ).der
    elif case == "not_a_crl":
        body = h.leaf.der
    elif case == "empty":
        body = b""
    else:
        body = b"-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n"
    url = _serve(responder, pki, f"{case}.crl", body)
    leaf = pki.issue(case, crl_urls=[url])
    answer = CrlFetcher(None).check(leaf, h.intermediate, NOW)
    assert answer.status is UNKNOWN, answer
    assert answer.source == f"crl {url}"
    expected = {
        "wrong_issuer": "the CRL was issued by 'CN=Huren Test Root CA",
        "bad_signature": "signature of the CRL does not verify under the key of",
        "stale": "the CRL is stale",
        "not_yet": "the CRL is not yet valid",
        "not_a_crl": "the answer is not a CRL",
        "empty": "the answer is empty",
        "bad_pem": "the answer is PEM with an empty or undecodable body",
    }[case]
    assert expected in answer.detail, answer.detail


def test_crl_signed_with_another_key_of_the_same_name(
    pki: Pki, pkis: dict[str, Pki], responder: RevocationResponder
) -> None:
    """A CA re-keyed, or an impostor with the issuer's name: the AKI gives it away."""
    other = pkis["ec" if pki.alg != "ec" else "rsa"]
    impostor_key = other.key("intermediate")
    twin = build_certificate(
        subject=[(a.oid, a.value) for a in pki.h.intermediate.subject.attributes],
        subject_public_key=impostor_key.public_key(),
        issuer_key=other.key("root"),
        issuer=other.h.root,
        ca=True,
        key_usage={"key_cert_sign", "crl_sign"},
    )
    url = _serve(responder, pki, "twin.crl", build_crl(issuer=twin, issuer_key=impostor_key).der)
    leaf = pki.issue("twin", crl_urls=[url])
    answer = CrlFetcher(None).check(leaf, pki.h.intermediate, NOW)
    assert answer.status is UNKNOWN and "authority key identifier" in answer.detail


def test_issuer_without_crl_sign(pki: Pki, responder: RevocationResponder) -> None:
    ca_key = pki.new_key()
    ca = pki.issue(
        "No cRLSign CA",
        key=ca_key,
        issuer_cert=pki.h.root,
        issuer_key=pki.key("root"),
        ca=True,
        key_usage={"key_cert_sign"},
    )
    url = _serve(responder, pki, "nocrlsign.crl", build_crl(issuer=ca, issuer_key=ca_key).der)
    leaf = pki.issue("Under no cRLSign", issuer_cert=ca, issuer_key=ca_key, crl_urls=[url])
    answer = CrlFetcher(None).check(leaf, ca, NOW)
    assert answer.status is UNKNOWN and "may not sign CRLs" in answer.detail


def test_oversized_crl(pki: Pki, responder: RevocationResponder) -> None:
    url = _serve(responder, pki, "huge.crl", b"\0" * (2 << 20))
    leaf = pki.issue("Huge", crl_urls=[url])
    answer = CrlFetcher(None, max_bytes=1 << 20).check(leaf, pki.h.intermediate, NOW)
    assert answer.status is UNKNOWN
    assert answer.detail == f"the answer is {2 << 20} bytes, over the {1 << 20} limit"


def test_http_errors_unreachable_and_slow(pki: Pki, responder: RevocationResponder) -> None:
    h = pki.h
    with responder.behaving(http_status=500):
        answer = CrlFetcher(None).check(h.leaf, h.intermediate, NOW)
    assert answer.status is UNKNOWN and answer.detail.startswith("HTTP 500")
    missing = pki.issue("Missing", crl_urls=[responder.url("/nothing/here.crl")])
    assert CrlFetcher(None).check(missing, h.intermediate, NOW).detail.startswith("HTTP 404")
    dead = pki.issue("Dead", crl_urls=[f"http://127.0.0.1:{closed_port()}/x.crl"])
    answer = CrlFetcher(None).check(dead, h.intermediate, NOW)
    assert answer.status is UNKNOWN and answer.detail == "cannot connect: connection refused"
    with responder.behaving(delay=1.5):
        started = time.monotonic()
        answer = CrlFetcher(None, timeout=0.3).check(h.leaf, h.intermediate, NOW)
        assert time.monotonic() - started < 1.2
    assert answer.status is UNKNOWN and "timed out" in answer.detail


def test_distribution_points_named(pki: Pki, responder: RevocationResponder) -> None:
    h = pki.h
    fetcher = CrlFetcher(None)
    assert fetcher.check(h.root, h.root, NOW).detail == (
        "the certificate names no CRL distribution point"
    )
    ldap = pki.issue("LDAP", crl_urls=["ldap://ldap.example.cn/cn=crl"])
    assert (
        "only non-HTTP CRL distribution points" in fetcher.check(ldap, h.intermediate, NOW).detail
    )
    dead = f"http://127.0.0.1:{closed_port()}/x.crl"
    two = pki.issue("Two", crl_urls=["ldap://ldap.example.cn/cn=crl", dead, pki.crl_url])
    assert fetcher.check(two, h.intermediate, NOW).status is GOOD
    both_dead = pki.issue("Both dead", crl_urls=[dead, dead + "2"])
    answer = fetcher.check(both_dead, h.intermediate, NOW)
    assert answer.status is UNKNOWN and answer.detail.count("connection refused") == 2


def test_bad_arguments() -> None:
    with pytest.raises(CertInteropError):
        CrlFetcher(None, timeout=0)
    with pytest.raises(CertInteropError):
        CrlFetcher(None, max_bytes=0)


# --- cache -----------------------------------------------------------------------------------


def test_shared_cache_until_next_update(
    pki: Pki, responder: RevocationResponder, ephemeral: EphemeralStore
) -> None:
    h = pki.h
    path = f"/pki/{pki.alg}/intermediate.crl"
    first = CrlFetcher(ephemeral)
    assert first.check(h.leaf, h.intermediate, NOW).status is GOOD
    key = STORE_PREFIX + hashlib.sha256(pki.crl_url.encode()).hexdigest()
    assert ephemeral.get(key) == h.crl.der
    ttl = ephemeral.ttl(key)
    assert h.crl.next_update is not None
    expected = (h.crl.next_update - NOW).total_seconds()
    assert ttl is not None and expected - 120 < ttl <= expected
    for fetcher in (first, CrlFetcher(ephemeral)):  # the same worker, and another one
        assert fetcher.check(h.revoked, h.intermediate, NOW).status is REVOKED
        answer = fetcher.check(h.leaf, h.intermediate, NOW)
        assert answer.status is GOOD and "from the cache" in answer.detail
    assert responder.count(path) == 1


def test_stale_or_foreign_cache_entry_is_replaced(
    pki: Pki, responder: RevocationResponder, ephemeral: EphemeralStore
) -> None:
    h = pki.h
    key = STORE_PREFIX + hashlib.sha256(pki.crl_url.encode()).hexdigest()
    stale = build_crl(
        issuer=h.intermediate,
        issuer_key=pki.key("intermediate"),
        this_update=NOW - timedelta(days=10),
        next_update=NOW - timedelta(days=3),
    )
    for planted in (stale.der, h.root_crl.der, b"junk"):
        ephemeral.put(key, planted, 600)
        assert CrlFetcher(ephemeral).check(h.revoked, h.intermediate, NOW).status is REVOKED
        assert ephemeral.get(key) == h.crl.der
    assert responder.count(f"/pki/{pki.alg}/intermediate.crl") == 3


def _big_crl(pki: Pki, revoked_serial: int) -> bytes:
    """A CRL of 60 000 entries, over 1 MiB (build_crl parses what it builds, so it stops at
    1 MiB): the TBS is built and signed here the same way."""
    h = pki.h
    key = pki.key("intermediate")
    when = _x509.Time(name="utc_time", value=NOW - timedelta(days=1))
    entries = [{"user_certificate": 1000 + i, "revocation_date": when} for i in range(60_000)]
    entries.append(
        {
            "user_certificate": revoked_serial,
            "revocation_date": when,
            "crl_entry_extensions": [
                {"extn_id": "crl_reason", "critical": False, "extn_value": "superseded"}
            ],
        }
    )
    tbs = _acrl.TbsCertList(
        {
            "version": "v2",
            "signature": _sig_algorithm(key),
            "issuer": _x509.Name.load(h.intermediate.subject.der),
            "this_update": _x509.Time(name="utc_time", value=NOW - timedelta(hours=1)),
            "next_update": _x509.Time(name="utc_time", value=NOW + timedelta(days=1)),
            "revoked_certificates": entries,
        }
    )
    tbs_der = bytes(tbs.dump())
    return bytes(
        _acrl.CertificateList(
            {
                "tbs_cert_list": _acrl.TbsCertList.load(tbs_der),
                "signature_algorithm": _sig_algorithm(key),
                "signature": _sign(key, tbs_der),
            }
        ).dump()
    )


@pytest.mark.slow
def test_crl_over_the_parser_cap_within_max_bytes(
    pkis: dict[str, Pki], responder: RevocationResponder
) -> None:
    """A big CA's CRL runs to MBs: up to ``max_bytes`` it is parsed (and memoised)."""
    pki = pkis["ec"]
    h = pki.h
    der = _big_crl(pki, h.leaf.serial_number)
    assert len(der) > 1 << 20
    url = _serve(responder, pki, "big.crl", der)
    leaf = pki.issue("Big", crl_urls=[url], serial_number=h.leaf.serial_number)
    fetcher = CrlFetcher(None)
    answer = fetcher.check(leaf, h.intermediate, NOW)
    assert answer.status is REVOKED and answer.reason == "superseded"
    started = time.monotonic()
    assert fetcher.check(h.leaf, h.intermediate, NOW).status is GOOD  # other URL, small CRL
    assert fetcher.check(leaf, h.intermediate, NOW).status is REVOKED  # memo: no re-parse
    assert time.monotonic() - started < 2
    small = CrlFetcher(None, max_bytes=1 << 20).check(leaf, h.intermediate, NOW)
    assert small.status is UNKNOWN and "over the" in small.detail

"""`validate(..., revocation=DefaultChecker(...))` end to end over real HTTP: OCSP first, CRL
distribution points next, hard- and soft-fail, and the shared cache."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from cert_interop.errors import CertInteropError
from cert_interop.revocation import DefaultChecker, RevocationChecker, RevocationStatus
from cert_interop.revocation.responder import RevocationResponder
from cert_interop.validation import Reason
from cert_interop.x509 import Certificate, Revocation, build_crl
from storage.ephemeral import EphemeralStore
from storage.errors import EphemeralStoreUnavailable

from .conftest import NOW, Pki, closed_port


def test_is_a_revocation_checker() -> None:
    checker: RevocationChecker = DefaultChecker(None)
    assert checker.check is not None


def test_good_chain(pki: Pki, responder: RevocationResponder) -> None:
    r = pki.validate(pki.h.leaf, revocation=DefaultChecker(None))
    assert (r.valid, r.revocation_checked, r.notes) == (True, True, ()), r.detail
    # the leaf by OCSP; the intermediate names no OCSP responder, so by the root's CRL
    assert responder.count("ocsp") == 1
    assert responder.count(f"/pki/{pki.alg}/root.crl") == 1
    assert responder.count(f"/pki/{pki.alg}/intermediate.crl") == 0


def test_revoked_by_ocsp(pki: Pki) -> None:
    r = pki.validate(pki.h.revoked, revocation=DefaultChecker(None))
    assert r.reason is Reason.REVOKED
    assert f"according to ocsp {pki.ocsp_url}" in r.detail and "(key_compromise)" in r.detail


def test_revoked_by_fetched_crl(pki: Pki, responder: RevocationResponder) -> None:
    r = pki.validate(pki.h.revoked, revocation=DefaultChecker(None, order=("crl", "ocsp")))
    assert r.reason is Reason.REVOKED and f"according to crl {pki.crl_url}" in r.detail
    assert responder.count("ocsp") == 0


def test_crl_answers_when_ocsp_is_down(pki: Pki, responder: RevocationResponder) -> None:
    h = pki.h
    leaf = pki.issue("OCSP down", ocsp_urls=[f"http://127.0.0.1:{closed_port()}/ocsp"])
    crl = build_crl(
        issuer=h.intermediate,
        issuer_key=pki.key("intermediate"),
        revoked=[Revocation(leaf.serial_number, NOW - timedelta(hours=1), "ca_compromise")],
    )
    path = f"/pki/{pki.alg}/ocsp-down.crl"
    responder.files[path] = crl.der
    leaf = pki.issue(
        "OCSP down",
        ocsp_urls=[f"http://127.0.0.1:{closed_port()}/ocsp"],
        crl_urls=[responder.url(path)],
        serial_number=leaf.serial_number,
    )
    r = pki.validate(leaf, revocation=DefaultChecker(None))
    assert r.reason is Reason.REVOKED and "(ca_compromise) according to crl" in r.detail


def _dead(pki: Pki) -> Certificate:
    port = closed_port()
    return pki.issue(
        "Unreachable",
        ocsp_urls=[f"http://127.0.0.1:{port}/ocsp"],
        crl_urls=[f"http://127.0.0.1:{port}/x.crl"],
    )


def test_unreachable_hard_fail_and_soft_fail(pki: Pki) -> None:
    leaf = _dead(pki)
    checker = DefaultChecker(None, timeout=2)
    hard = pki.validate(leaf, revocation=checker)
    assert hard.reason is Reason.REVOCATION_UNKNOWN, hard.detail
    assert "(ocsp + crl: ocsp http://" in hard.detail
    assert hard.detail.count("cannot connect: connection refused") == 2
    assert "is hard-fail" in hard.detail
    soft = pki.validate(leaf, revocation=checker, soft_fail=True)
    assert soft.valid and not soft.revocation_checked
    assert len(soft.notes) == 1 and "not checked (soft-fail)" in soft.notes[0]
    per_ca = pki.validate(
        leaf,
        revocation=checker,
        soft_fail=lambda issuer: issuer.der == pki.h.intermediate.der,
    )
    assert per_ca.valid
    strict_for_inter = pki.validate(
        leaf, revocation=checker, soft_fail=lambda issuer: issuer.der == pki.h.root.der
    )
    assert strict_for_inter.reason is Reason.REVOCATION_UNKNOWN


def test_revoked_is_never_soft(pki: Pki) -> None:
    r = pki.validate(pki.h.revoked, revocation=DefaultChecker(None), soft_fail=True)
    assert r.reason is Reason.REVOKED


def test_slow_responder_short_timeout(pki: Pki, responder: RevocationResponder) -> None:
    with responder.behaving(delay=1.5):
        started = time.monotonic()
        r = pki.validate(pki.h.leaf, revocation=DefaultChecker(None, timeout=0.3))
        elapsed = time.monotonic() - started
    assert r.reason is Reason.REVOCATION_UNKNOWN and r.detail.count("timed out") == 2
    assert elapsed < 1.4  # two sources, 0.3 s each, not the responder's 1.5 s


def test_no_source_named(pki: Pki) -> None:
    leaf = pki.issue("Sourceless", ocsp_urls=[], crl_urls=[])
    answer = DefaultChecker(None).check(leaf, pki.h.intermediate, NOW)
    assert (answer.status, answer.source) == (RevocationStatus.UNKNOWN, "none")
    assert answer.detail == "no revocation source named in the certificate"
    r = pki.validate(leaf, revocation=DefaultChecker(None))
    assert r.reason is Reason.REVOCATION_UNKNOWN
    assert "no revocation source named in the certificate" in r.detail


def test_ocsp_only_refuses_a_replay(pki: Pki, responder: RevocationResponder) -> None:
    checker = DefaultChecker(None, order=("ocsp",))
    with responder.behaving(nonce="wrong"):
        r = pki.validate(pki.h.leaf, revocation=checker)
    assert r.reason is Reason.REVOCATION_UNKNOWN and "replayed" in r.detail
    with responder.behaving(nonce="omit"):
        lenient = DefaultChecker(None, order=("ocsp",), require_nonce=False)
        answer = lenient.check(pki.h.leaf, pki.h.intermediate, NOW)
    assert answer.status is RevocationStatus.GOOD


def test_second_validation_makes_no_request(
    pki: Pki, responder: RevocationResponder, ephemeral: EphemeralStore
) -> None:
    first = pki.validate(pki.h.leaf, revocation=DefaultChecker(ephemeral))
    assert first.valid and first.revocation_checked
    seen = responder.count("ocsp") + responder.count("file")
    assert seen == 2
    for checker in (DefaultChecker(ephemeral), DefaultChecker(ephemeral, order=("crl", "ocsp"))):
        again = pki.validate(pki.h.leaf, revocation=checker)
        assert again.valid and again.revocation_checked
    # the CRL-first checker needed the intermediate's CRL once; nothing else was fetched
    assert responder.count("ocsp") == 1
    assert responder.count(f"/pki/{pki.alg}/intermediate.crl") == 1
    assert responder.count(f"/pki/{pki.alg}/root.crl") == 1
    revoked = DefaultChecker(ephemeral)
    assert pki.validate(pki.h.revoked, revocation=revoked).reason is Reason.REVOKED
    assert pki.validate(pki.h.revoked, revocation=DefaultChecker(ephemeral)).reason is (
        Reason.REVOKED
    )
    assert responder.count("ocsp") == 2


class _BrokenStore:
    """A store whose backend is down, and one with a bug."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get(self, key: str) -> bytes | None:
        raise self.error

    def put(self, key: str, value: bytes, ttl: float) -> None:
        raise self.error


def test_store_down_is_only_a_cache_miss(pki: Pki) -> None:
    store = _BrokenStore(EphemeralStoreUnavailable("redis down"))
    checker = DefaultChecker(store)  # type: ignore[arg-type]
    assert pki.validate(pki.h.leaf, revocation=checker).valid


def test_unexpected_errors_fail_closed(pki: Pki) -> None:
    checker = DefaultChecker(_BrokenStore(RuntimeError("bug")))  # type: ignore[arg-type]
    answer = checker.check(pki.h.leaf, pki.h.intermediate, NOW)
    assert answer.status is RevocationStatus.UNKNOWN
    assert "internal error: RuntimeError: bug" in answer.detail


def test_bad_order() -> None:
    for order in ((), ("ocsp", "ocsp"), ("ldap",)):
        with pytest.raises(CertInteropError):
            DefaultChecker(None, order=order)  # type: ignore[arg-type]

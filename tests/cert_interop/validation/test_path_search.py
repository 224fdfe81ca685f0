"""Hypothesis: any subset and order of intermediates and distractors still finds the path, or
fails with the exact reason the candidates allow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cert_interop.validation import Reason, validate
from cert_interop.x509 import Certificate, build_certificate
from tests.cert_interop.validation.conftest import NOW, Made

CA_USAGE = {"key_cert_sign", "crl_sign"}


@dataclass(frozen=True)
class Pool:
    made: Made
    twin: Made
    old: Certificate
    """The issuing CA re-issued with the same name and key, expired."""
    cross: Certificate
    """The issuing CA's name and key, certified by the twin root (not an anchor here)."""
    others: tuple[Certificate, ...]


@pytest.fixture(scope="session")
def pool(hierarchies: dict[str, Made], twin: Made) -> Pool:
    made = hierarchies["ec"]
    h = made.h
    name = [(a.name, a.value) for a in h.intermediate.subject.attributes]
    old = build_certificate(
        subject=name,
        subject_public_key=h.intermediate.public_key,
        issuer_key=made.key("root"),
        issuer=h.root,
        ca=True,
        key_usage=CA_USAGE,
        not_before=NOW - timedelta(days=60),
        not_after=NOW - timedelta(days=1),
    )
    cross = build_certificate(
        subject=name,
        subject_public_key=h.intermediate.public_key,
        issuer_key=twin.key("root"),
        issuer=twin.h.root,
        ca=True,
        key_usage=CA_USAGE,
    )
    others = (
        h.root,
        h.revoked,
        twin.h.root,
        twin.h.leaf,
        hierarchies["rsa"].h.intermediate,
        hierarchies["sm2"].h.intermediate,
        hierarchies["sm2"].h.root,
    )
    return Pool(made, twin, old, cross, others)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_subset_and_order_of_intermediates(pool: Pool, data: st.DataObject) -> None:
    h = pool.made.h
    candidates = [h.intermediate, pool.twin.h.intermediate, pool.old, pool.cross, *pool.others]
    chosen = data.draw(st.lists(st.sampled_from(candidates), max_size=len(candidates)))
    order = data.draw(st.permutations(chosen))
    r = validate(h.leaf, intermediates=order, anchors=[h.root], at=NOW)
    if h.intermediate in chosen:
        assert (r.valid, r.reason, r.chain) == (True, Reason.OK, (h.leaf, h.intermediate, h.root))
    elif pool.old in chosen:
        assert (r.reason, r.chain) == (Reason.EXPIRED, (h.leaf, pool.old, h.root))
    elif pool.cross in chosen:
        assert r.reason is Reason.BROKEN_CHAIN
        assert r.chain[:2] == (h.leaf, pool.cross)
    elif pool.twin.h.intermediate in chosen:
        assert (r.reason, r.chain) == (Reason.BROKEN_CHAIN, (h.leaf,))
    else:
        assert (r.reason, r.chain) == (Reason.UNKNOWN_CA, (h.leaf,))
    assert r.algorithm == "ec"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_order_of_anchors(pool: Pool, data: st.DataObject) -> None:
    h = pool.made.h
    anchors = data.draw(st.permutations([h.root, pool.twin.h.root, *pool.others[4:]]))
    r = validate(h.leaf, intermediates=[pool.cross, h.intermediate], anchors=anchors, at=NOW)
    assert r.valid
    assert r.chain in ((h.leaf, h.intermediate, h.root), (h.leaf, pool.cross, pool.twin.h.root))

"""Name chaining under RFC 5280 §7.1, name constraints, and the revocation-checker hook."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from asn1crypto import x509 as ax509
from hypothesis import given
from hypothesis import strategies as st

from cert_interop.revocation import RevocationAnswer, RevocationStatus
from cert_interop.validation import Reason, validate
from cert_interop.validation.constraints import parse_name_constraints
from cert_interop.x509 import Certificate, ExtensionSpec, build_certificate, build_name
from cert_interop.x509.names import normalize_value
from tests.cert_interop.validation.conftest import NOW, Made

CA_USAGE = {"key_cert_sign", "crl_sign"}


def run(made: Made, leaf: Certificate, intermediates: list[Certificate], **kw: object):  # type: ignore[no-untyped-def]
    return validate(leaf, intermediates=intermediates, anchors=[made.h.root], at=NOW, **kw)  # type: ignore[arg-type]


# --- name chaining -----------------------------------------------------------------------------


def test_issuer_name_differing_in_case_and_spaces_still_chains(made: Made) -> None:
    """The leaf names its CA with other case and spacing than the CA's own subject."""
    inter_key = made.key("intermediate")
    variant = build_certificate(
        subject=[
            (
                a.name,
                a.value.swapcase()
                if a.name == "C"
                else f" {a.value.swapcase()}  ".replace(" ", "  "),
            )
            for a in made.h.intermediate.subject.attributes
        ],
        subject_public_key=inter_key.public_key(),
        issuer_key=made.key("root"),
        issuer=made.h.root,
        ca=True,
        key_usage=CA_USAGE,
    )
    assert variant.subject.der != made.h.intermediate.subject.der
    leaf = made.issue("name variant", issuer_cert=variant, issuer_key=inter_key)
    r = run(made, leaf, [made.h.intermediate])
    assert r.valid, r.detail
    assert r.chain[1] is made.h.intermediate


def test_different_names_do_not_chain(made: Made) -> None:
    inter_key = made.key("intermediate")
    other = build_certificate(
        subject=[("C", "CN"), ("O", "Validation Test 2"), ("CN", "x")],
        subject_public_key=inter_key.public_key(),
        issuer_key=made.key("root"),
        issuer=made.h.root,
        ca=True,
        key_usage=CA_USAGE,
    )
    leaf = made.issue("other", issuer_cert=other, issuer_key=inter_key)
    assert run(made, leaf, [made.h.intermediate]).reason is Reason.UNKNOWN_CA


@given(st.text(max_size=40))
def test_normalize_is_idempotent_and_case_blind(value: str) -> None:
    once = normalize_value(value)
    assert normalize_value(once) == once
    assert normalize_value(value.upper()) == normalize_value(value.lower()) or not value.isascii()


# --- name constraints ------------------------------------------------------------------------


def constraints(
    permitted: list[dict[str, object]] = (), excluded: list[dict[str, object]] = ()
) -> ExtensionSpec:  # type: ignore[assignment]
    def subtrees(items: list[dict[str, object]]) -> ax509.GeneralSubtrees:
        return ax509.GeneralSubtrees(
            [ax509.GeneralSubtree({"base": ax509.GeneralName(**i)}) for i in items]
        )

    value: dict[str, object] = {}
    if permitted:
        value["permitted_subtrees"] = subtrees(permitted)
    if excluded:
        value["excluded_subtrees"] = subtrees(excluded)
    return ExtensionSpec("2.5.29.30", ax509.NameConstraints(value).dump(), critical=True)


def constrained_ca(made: Made, spec: ExtensionSpec) -> Certificate:
    return build_certificate(
        subject=[("C", "CN"), ("O", "Validation Test"), ("CN", "Constrained CA")],
        subject_public_key=made.key("intermediate").public_key(),
        issuer_key=made.key("root"),
        issuer=made.h.root,
        ca=True,
        key_usage=CA_USAGE,
        extra_extensions=[spec],
    )


def leaf_under(
    made: Made, ca: Certificate, subject: list[tuple[str, str]], sans: list[tuple[str, str]] = ()
) -> Certificate:  # type: ignore[assignment]
    key = made.new_key()
    return build_certificate(
        subject=subject,
        subject_public_key=key.public_key(),
        issuer_key=made.key("intermediate"),
        issuer=ca,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=30),
        key_usage={"digital_signature"},
        subject_alt_names=sans,
    )


DIR_OK = {"name": "directory_name", "value": build_name([("C", "CN"), ("O", "Validation Test")])}


@pytest.mark.parametrize(
    ("permitted", "excluded", "subject", "sans", "ok"),
    [
        ([DIR_OK], [], [("C", "CN"), ("O", "Validation Test"), ("CN", "a")], [], True),
        ([DIR_OK], [], [("C", "CN"), ("O", "validation   TEST"), ("CN", "a")], [], True),
        ([DIR_OK], [], [("C", "CN"), ("O", "Elsewhere"), ("CN", "a")], [], False),
        (
            [{"name": "dns_name", "value": "gzggzy.cn"}],
            [],
            [("CN", "a")],
            [("dns", "www.gzggzy.cn")],
            True,
        ),
        (
            [{"name": "dns_name", "value": "gzggzy.cn"}],
            [],
            [("CN", "a")],
            [("dns", "gzggzy.cn")],
            True,
        ),
        (
            [{"name": "dns_name", "value": "gzggzy.cn"}],
            [],
            [("CN", "a")],
            [("dns", "evilgzggzy.cn")],
            False,
        ),
        (
            [{"name": "dns_name", "value": ".gzggzy.cn"}],
            [],
            [("CN", "a")],
            [("dns", "gzggzy.cn")],
            False,
        ),
        (
            [],
            [{"name": "dns_name", "value": "bad.cn"}],
            [("CN", "a")],
            [("dns", "x.bad.cn")],
            False,
        ),
        ([], [{"name": "dns_name", "value": "bad.cn"}], [("CN", "a")], [("dns", "good.cn")], True),
        (
            [{"name": "rfc822_name", "value": "gzggzy.cn"}],
            [],
            [("CN", "a")],
            [("email", "a@gzggzy.cn")],
            True,
        ),
        (
            [{"name": "rfc822_name", "value": "gzggzy.cn"}],
            [],
            [("CN", "a")],
            [("email", "a@x.gzggzy.cn")],
            False,
        ),
        (
            [{"name": "rfc822_name", "value": ".gzggzy.cn"}],
            [],
            [("CN", "a")],
            [("email", "a@x.gzggzy.cn")],
            True,
        ),
        (
            [{"name": "rfc822_name", "value": "a@gzggzy.cn"}],
            [],
            [("CN", "a")],
            [("email", "b@gzggzy.cn")],
            False,
        ),
        (
            [{"name": "uniform_resource_identifier", "value": ".gzggzy.cn"}],
            [],
            [("CN", "a")],
            [("uri", "https://www.gzggzy.cn/x")],
            True,
        ),
        (
            [{"name": "uniform_resource_identifier", "value": "gzggzy.cn"}],
            [],
            [("CN", "a")],
            [("uri", "https://www.gzggzy.cn/x")],
            False,
        ),
        (
            [{"name": "ip_address", "value": "10.1.0.0/16"}],
            [],
            [("CN", "a")],
            [("ip", "10.1.2.3")],
            True,
        ),
        (
            [{"name": "ip_address", "value": "10.1.0.0/16"}],
            [],
            [("CN", "a")],
            [("ip", "10.2.2.3")],
            False,
        ),
        # a constraint on one form leaves the others free
        (
            [{"name": "dns_name", "value": "gzggzy.cn"}],
            [],
            [("C", "CN"), ("O", "Anything"), ("CN", "a")],
            [("email", "a@b.c")],
            True,
        ),
    ],
)
def test_name_constraints(
    made: Made, permitted: list, excluded: list, subject: list, sans: list, ok: bool
) -> None:  # type: ignore[type-arg]
    ca = constrained_ca(made, constraints(permitted, excluded))
    leaf = leaf_under(made, ca, subject, sans)
    r = run(made, leaf, [ca])
    if ok:
        assert r.valid, r.detail
    else:
        assert r.reason is Reason.NAME_CONSTRAINTS, r.detail
        assert "violates the name constraints of" in r.detail


def test_name_constraints_of_anchor_apply_too(made: Made) -> None:
    root = build_certificate(
        subject=[("C", "CN"), ("CN", "Constrained Root")],
        subject_public_key=made.key("root").public_key(),
        issuer_key=made.key("root"),
        ca=True,
        key_usage=CA_USAGE,
        extra_extensions=[constraints([{"name": "dns_name", "value": "gzggzy.cn"}])],
    )
    leaf = build_certificate(
        subject=[("CN", "a")],
        subject_public_key=made.new_key().public_key(),
        issuer_key=made.key("root"),
        issuer=root,
        key_usage={"digital_signature"},
        subject_alt_names=[("dns", "other.cn")],
    )
    r = validate(leaf, anchors=[root], at=NOW)
    assert r.reason is Reason.NAME_CONSTRAINTS


def test_malformed_name_constraints_is_refused(made: Made) -> None:
    ca = constrained_ca(made, ExtensionSpec("2.5.29.30", b"\x30\x03\x02\x01\x01", critical=True))
    leaf = leaf_under(made, ca, [("CN", "a")])
    r = run(made, leaf, [ca])
    assert r.reason is Reason.MALFORMED


@given(st.binary(max_size=64))
def test_constraint_parser_raises_only_typed_errors(data: bytes) -> None:
    from cert_interop.errors import MalformedInput

    with contextlib.suppress(MalformedInput):
        parse_name_constraints(data)


# --- revocation hook ---------------------------------------------------------------------------


@dataclass
class TableChecker:
    """A RevocationChecker answering from a table (serial → status); counts the questions."""

    table: dict[int, RevocationStatus]
    asked: list[int] = field(default_factory=list)

    def check(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationAnswer:
        self.asked.append(cert.serial_number)
        status = self.table.get(cert.serial_number, RevocationStatus.UNKNOWN)
        return RevocationAnswer(
            status,
            "ocsp http://127.0.0.1:9/",
            f"table says {status.value}",
            revoked_at=NOW - timedelta(hours=1) if status is RevocationStatus.REVOKED else None,
            reason="key_compromise" if status is RevocationStatus.REVOKED else None,
        )


def path_checker(made: Made, leaf: RevocationStatus, inter: RevocationStatus) -> TableChecker:
    return TableChecker({made.h.leaf.serial_number: leaf, made.h.intermediate.serial_number: inter})


G, R, U = RevocationStatus.GOOD, RevocationStatus.REVOKED, RevocationStatus.UNKNOWN


def test_checker_good_marks_revocation_checked(made: Made) -> None:
    checker = path_checker(made, G, G)
    r = run(made, made.h.leaf, [made.h.intermediate], revocation=checker)
    assert (r.valid, r.revocation_checked) == (True, True)
    assert checker.asked == [made.h.leaf.serial_number, made.h.intermediate.serial_number]


def test_checker_revoked_fails_even_with_soft_fail(made: Made) -> None:
    r = run(
        made,
        made.h.leaf,
        [made.h.intermediate],
        revocation=path_checker(made, R, G),
        soft_fail=True,
    )
    assert r.reason is Reason.REVOKED
    assert "key_compromise" in r.detail and "ocsp http://127.0.0.1:9/" in r.detail


def test_checker_unknown_hard_fails(made: Made) -> None:
    r = run(made, made.h.leaf, [made.h.intermediate], revocation=path_checker(made, U, G))
    assert r.reason is Reason.REVOCATION_UNKNOWN
    assert "hard-fail" in r.detail


def test_checker_unknown_soft_fails_per_issuer(made: Made) -> None:
    inter = made.h.intermediate
    soft_for_inter = lambda issuer: issuer.der == inter.der  # noqa: E731
    r = run(
        made, made.h.leaf, [inter], revocation=path_checker(made, U, G), soft_fail=soft_for_inter
    )
    assert r.valid and not r.revocation_checked
    assert len(r.notes) == 1 and "soft-fail" in r.notes[0]
    # the intermediate's issuer (the root) is not soft: unknown there fails
    r = run(
        made, made.h.leaf, [inter], revocation=path_checker(made, G, U), soft_fail=soft_for_inter
    )
    assert r.reason is Reason.REVOCATION_UNKNOWN


def test_supplied_crl_takes_precedence_over_checker(made: Made) -> None:
    checker = path_checker(made, U, U)
    r = run(
        made,
        made.h.leaf,
        [made.h.intermediate],
        crls=[made.h.crl, made.h.root_crl],
        revocation=checker,
    )
    assert r.valid and r.revocation_checked
    assert checker.asked == []


def test_bad_arguments(made: Made) -> None:
    from cert_interop.errors import CertInteropError

    with pytest.raises(CertInteropError):
        run(made, made.h.leaf, [made.h.intermediate], revocation=object())
    with pytest.raises(CertInteropError):
        run(made, made.h.leaf, [made.h.intermediate], soft_fail="yes")

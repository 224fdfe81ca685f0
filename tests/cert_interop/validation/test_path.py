"""Path validation: valid chains for RSA, EC and SM2, and each refusal reason, exactly."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from cert_interop.errors import CertInteropError
from cert_interop.validation import (
    Reason,
    SignatureCache,
    ValidationResult,
    validate,
)
from cert_interop.x509 import Certificate, ExtensionSpec, build_certificate, parse_certificate
from tests.cert_interop.validation.conftest import NOW, Made

CA_USAGE = {"key_cert_sign", "crl_sign"}


def check(made: Made, leaf: Certificate, **kw: object) -> ValidationResult:
    kw.setdefault("intermediates", [made.h.intermediate])
    kw.setdefault("anchors", [made.h.root])
    kw.setdefault("at", NOW)
    return validate(leaf, **kw)  # type: ignore[arg-type]


def same_name_as(cert: Certificate) -> list[tuple[str, str]]:
    return [(a.name, a.value) for a in cert.subject.attributes]


# --- valid -----------------------------------------------------------------------------------


def test_valid_chain(made: Made) -> None:
    h = made.h
    r = check(made, h.leaf)
    assert r == ValidationResult(
        valid=True,
        reason=Reason.OK,
        detail=r.detail,
        chain=(h.leaf, h.intermediate, h.root),
        algorithm=made.alg,
        revocation_checked=False,
    )
    assert r.anchor is h.root
    assert "chains to trust anchor" in r.detail and "3 certificates" in r.detail
    assert r.as_dict()["reason"] == "ok"


def test_valid_with_revocation_required(made: Made) -> None:
    h = made.h
    r = check(made, h.leaf, crls=[h.crl, h.root_crl], require_revocation=True)
    assert (r.valid, r.reason, r.revocation_checked) == (True, Reason.OK, True)
    assert r.chain == (h.leaf, h.intermediate, h.root)


def test_default_time_is_now(made: Made) -> None:
    r = validate(made.h.leaf, intermediates=[made.h.intermediate], anchors=[made.h.root])
    assert r.valid


def test_intermediate_as_anchor(made: Made) -> None:
    h = made.h
    r = check(made, h.leaf, intermediates=[], anchors=[h.intermediate])
    assert (r.valid, r.chain) == (True, (h.leaf, h.intermediate))


def test_leaf_as_anchor(made: Made) -> None:
    r = check(made, made.h.leaf, intermediates=[], anchors=[made.h.leaf])
    assert (r.valid, r.chain, r.revocation_checked) == (True, (made.h.leaf,), False)


def test_root_alone_validates(made: Made) -> None:
    h = made.h
    r = check(made, h.root, purpose="any")
    assert (r.valid, r.chain) == (True, (h.root,))


# --- time ------------------------------------------------------------------------------------


def test_expired(made: Made) -> None:
    leaf = made.issue(
        "Expired", not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=1)
    )
    r = check(made, leaf)
    assert (r.valid, r.reason, r.chain) == (
        False,
        Reason.EXPIRED,
        (leaf, made.h.intermediate, made.h.root),
    )
    assert r.detail.startswith("leaf certificate 'CN=Expired,O=Validation Test,C=CN'")
    assert "expired at" in r.detail


def test_not_yet_valid(made: Made) -> None:
    leaf = made.issue(
        "Future", not_before=NOW + timedelta(days=1), not_after=NOW + timedelta(days=30)
    )
    r = check(made, leaf)
    assert (r.reason, r.chain) == (Reason.NOT_YET_VALID, (leaf, made.h.intermediate, made.h.root))
    assert "is not valid before" in r.detail


def test_skew_allowance(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["ec"]
    ending = made.issue(
        "Ends", not_before=NOW - timedelta(days=1), not_after=NOW - timedelta(minutes=2)
    )
    starting = made.issue(
        "Starts", not_before=NOW + timedelta(minutes=2), not_after=NOW + timedelta(days=1)
    )
    assert check(made, ending).valid  # default skew 5 minutes
    assert check(made, starting).valid
    assert check(made, ending, skew=timedelta(minutes=1)).reason is Reason.EXPIRED
    assert check(made, starting, skew=timedelta(0)).reason is Reason.NOT_YET_VALID
    assert check(made, ending, at=NOW - timedelta(minutes=2)).valid


def test_expired_intermediate(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["ec"]
    key = made.new_key()
    ca = made.issue(
        "Old CA",
        issuer="root",
        key=key,
        ca=True,
        key_usage=CA_USAGE,
        not_before=NOW - timedelta(days=30),
        not_after=NOW - timedelta(days=1),
    )
    leaf = made.issue(
        "Under old CA", issuer_cert=ca, issuer_key=key, not_after=NOW - timedelta(hours=2)
    )
    r = check(made, leaf, intermediates=[ca])
    assert (r.reason, r.chain) == (Reason.EXPIRED, (leaf, ca, made.h.root))
    assert r.detail.startswith("leaf certificate")
    leaf2 = made.issue("Under old CA 2", issuer_cert=ca, issuer_key=key)
    r = check(made, leaf2, intermediates=[ca])
    assert (r.reason, r.chain) == (Reason.EXPIRED, (leaf2, ca, made.h.root))
    assert r.detail.startswith("CA certificate #1 'CN=Old CA")


# --- revocation ------------------------------------------------------------------------------


def test_revoked(made: Made) -> None:
    h = made.h
    r = check(made, h.revoked, crls=[h.crl, h.root_crl])
    assert (r.valid, r.reason, r.chain) == (
        False,
        Reason.REVOKED,
        (h.revoked, h.intermediate, h.root),
    )
    assert r.revocation_checked
    assert "key_compromise" in r.detail and f"serial {h.revoked.serial_number:x}" in r.detail


def test_revoked_not_seen_without_crls(made: Made) -> None:
    h = made.h
    r = check(made, h.revoked)
    assert (r.valid, r.revocation_checked) == (True, False)
    r = check(made, h.revoked, require_revocation=True)
    assert (r.reason, r.chain) == (Reason.REVOCATION_UNKNOWN, (h.revoked, h.intermediate, h.root))
    assert "leaf certificate" in r.detail


def test_missing_root_crl(made: Made) -> None:
    h = made.h
    r = check(made, h.leaf, crls=[h.crl], require_revocation=True)
    assert r.reason is Reason.REVOCATION_UNKNOWN
    assert "CA certificate #1" in r.detail
    r = check(made, h.leaf, crls=[h.crl])
    assert (r.valid, r.revocation_checked) == (True, False)


def test_crl_with_bad_signature_is_ignored(made: Made) -> None:
    h = made.h
    sig = bytearray(h.crl.signature)
    sig[-1] ^= 0x01
    forged = dataclasses.replace(h.crl, signature=bytes(sig))
    r = check(made, h.revoked, crls=[forged, h.root_crl], require_revocation=True)
    assert (r.reason, r.chain) == (Reason.REVOCATION_UNKNOWN, (h.revoked, h.intermediate, h.root))
    r = check(made, h.revoked, crls=[forged, h.root_crl])
    assert (r.valid, r.revocation_checked) == (True, False)


def test_stale_crl_is_ignored(made: Made) -> None:
    h = made.h  # the intermediate CRL's nextUpdate is a week away, the root CRL's a month
    later = NOW + timedelta(days=8)
    r = check(made, h.revoked, crls=[h.crl, h.root_crl], at=later, require_revocation=True)
    assert r.reason is Reason.REVOCATION_UNKNOWN
    early = h.crl.this_update - timedelta(hours=1)
    r = check(
        made, h.leaf, crls=[h.crl, h.root_crl], at=early, require_revocation=True, skew=timedelta(0)
    )
    assert r.reason in (Reason.NOT_YET_VALID, Reason.REVOCATION_UNKNOWN)


def test_crl_of_a_namesake_ca_is_ignored(hierarchies: dict[str, Made], twin: Made) -> None:
    made = hierarchies["ec"]
    h = made.h
    assert twin.h.crl.issuer.der == h.crl.issuer.der
    r = check(made, h.revoked, crls=[twin.h.crl, h.root_crl], require_revocation=True)
    assert r.reason is Reason.REVOCATION_UNKNOWN


# --- building --------------------------------------------------------------------------------


def test_unknown_ca(made: Made, hierarchies: dict[str, Made]) -> None:
    h = made.h
    other = hierarchies["sm2" if made.alg != "sm2" else "rsa"].h
    r = check(made, h.leaf, anchors=[other.root])
    assert (r.valid, r.reason, r.chain) == (False, Reason.UNKNOWN_CA, (h.leaf, h.intermediate))
    assert f"issuer '{h.root.subject.rfc4514}' of CA certificate #1" in r.detail
    r = check(made, h.leaf, intermediates=[], anchors=[])
    assert (r.reason, r.chain) == (Reason.UNKNOWN_CA, (h.leaf,))
    assert "no trust anchors were given" in r.detail


def test_broken_chain_wrong_intermediate(hierarchies: dict[str, Made], twin: Made) -> None:
    h = hierarchies["ec"].h
    assert twin.h.intermediate.subject.der == h.intermediate.subject.der
    r = validate(h.leaf, intermediates=[twin.h.intermediate], anchors=[h.root], at=NOW)
    assert (r.valid, r.reason, r.chain) == (False, Reason.BROKEN_CHAIN, (h.leaf,))
    assert "key identifier" in r.detail
    r = validate(h.leaf, intermediates=[h.intermediate], anchors=[twin.h.root], at=NOW)
    assert (r.reason, r.chain) == (Reason.BROKEN_CHAIN, (h.leaf, h.intermediate))


def test_tampered_leaf_signature(made: Made) -> None:
    h = made.h
    der = bytearray(h.leaf.der)
    der[-1] ^= 0x01
    tampered = parse_certificate(bytes(der))
    r = check(made, tampered)
    assert (r.valid, r.reason, r.chain) == (False, Reason.BAD_SIGNATURE, (tampered,))
    assert r.detail.startswith(f"the {h.leaf.signature_algorithm} signature of leaf certificate")


def test_tampered_intermediate_signature(made: Made) -> None:
    h = made.h
    der = bytearray(h.intermediate.der)
    der[-1] ^= 0x01
    tampered = parse_certificate(bytes(der))
    r = check(made, h.leaf, intermediates=[tampered])
    assert (r.reason, r.chain) == (Reason.BAD_SIGNATURE, (h.leaf, tampered))
    assert "CA certificate #1" in r.detail


@pytest.mark.parametrize("ca", [False, None])
def test_intermediate_without_ca_flag(hierarchies: dict[str, Made], ca: bool | None) -> None:
    made = hierarchies["sm2"]
    key = made.new_key()
    fake = made.issue(
        "Not a CA", issuer="root", key=key, ca=ca, key_usage={"key_cert_sign", "digital_signature"}
    )
    leaf = made.issue("Under a non-CA", issuer_cert=fake, issuer_key=key)
    r = check(made, leaf, intermediates=[fake])
    assert (r.reason, r.chain) == (Reason.NOT_A_CA, (leaf, fake, made.h.root))
    state = "basicConstraints cA=FALSE" if ca is False else "no basicConstraints"
    assert r.detail.startswith("CA certificate #1 'CN=Not a CA") and r.detail.endswith(state)


def test_issuer_without_key_cert_sign(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["ec"]
    key = made.new_key()
    ca = made.issue(
        "No keyCertSign",
        issuer="root",
        key=key,
        ca=True,
        key_usage={"crl_sign", "digital_signature"},
    )
    leaf = made.issue("Under it", issuer_cert=ca, issuer_key=key)
    r = check(made, leaf, intermediates=[ca])
    assert (r.reason, r.chain) == (Reason.WRONG_KEY_USAGE, (leaf, ca, made.h.root))
    assert "lacks keyCertSign" in r.detail


def test_path_length_exceeded(made: Made) -> None:
    h = made.h  # the issuing CA has pathLenConstraint 0
    key = made.new_key()
    sub = made.issue("Sub CA", key=key, ca=True, key_usage=CA_USAGE)
    leaf = made.issue("Too deep", issuer_cert=sub, issuer_key=key)
    r = check(made, leaf, intermediates=[sub, h.intermediate])
    assert (r.reason, r.chain) == (Reason.PATH_TOO_LONG, (leaf, sub, h.intermediate, h.root))
    assert (
        r.detail.startswith("CA certificate #2") and "allows 0" in r.detail and "has 1" in r.detail
    )
    r = check(made, leaf, intermediates=[sub], anchors=[h.intermediate])
    assert (r.reason, r.chain) == (Reason.PATH_TOO_LONG, (leaf, sub, h.intermediate))
    assert check(made, leaf, intermediates=[], anchors=[sub]).chain == (leaf, sub)
    assert check(made, leaf, intermediates=[], anchors=[sub]).valid


# --- key usage -------------------------------------------------------------------------------


def test_sm2_dual_certificates_key_usage(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["sm2"]
    h = made.h
    enc = h.encryption_leaf
    assert enc is not None and enc.subject.der == h.leaf.subject.der
    as_signer = check(made, enc, purpose="sign")
    assert (as_signer.reason, as_signer.chain) == (
        Reason.WRONG_KEY_USAGE,
        (enc, h.intermediate, h.root),
    )
    assert "purpose 'sign' needs one of digital_signature, non_repudiation" in as_signer.detail
    as_recipient = check(made, h.leaf, purpose="encrypt")
    assert as_recipient.reason is Reason.WRONG_KEY_USAGE
    assert "purpose 'encrypt'" in as_recipient.detail
    assert check(made, enc, purpose="encrypt").valid
    assert check(made, h.leaf, purpose="sign").valid
    assert check(made, enc, purpose="any").valid
    assert check(made, h.leaf, purpose="any").valid
    assert check(made, enc, purpose="encrypt").algorithm == "sm2"


def test_leaf_without_key_usage_serves_any_purpose(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["ec"]
    leaf = made.issue("No KU", key_usage=None)
    assert check(made, leaf, purpose="sign").valid
    assert check(made, leaf, purpose="encrypt").valid


def test_extended_key_usage(made: Made) -> None:
    leaf = made.h.leaf  # client_auth + email_protection
    assert check(made, leaf, extended_key_usage="client_auth").valid
    assert check(made, leaf, extended_key_usage="1.3.6.1.5.5.7.3.4").valid
    r = check(made, leaf, extended_key_usage="server_auth")
    assert (r.reason, r.chain) == (Reason.WRONG_EXTENDED_KEY_USAGE, made.path)
    assert r.detail.endswith("not 1.3.6.1.5.5.7.3.1")


def test_extended_key_usage_absent_or_any(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["ec"]
    assert check(made, made.issue("No EKU"), extended_key_usage="server_auth").valid
    anyeku = made.issue("Any EKU", extended_key_usage=["2.5.29.37.0"])
    assert check(made, anyeku, extended_key_usage="server_auth").valid


# --- extensions ------------------------------------------------------------------------------


def test_unknown_critical_extension(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["sm2"]
    odd = ExtensionSpec("1.2.3.4.5.6", b"\x05\x00", critical=True)
    leaf = made.issue("Critical", extra_extensions=[odd])
    r = check(made, leaf)
    assert (r.reason, r.chain) == (Reason.UNKNOWN_CRITICAL_EXTENSION, made_path(made, leaf))
    assert "1.2.3.4.5.6" in r.detail and r.detail.startswith("leaf certificate")
    tame = made.issue("Not critical", extra_extensions=[dataclasses.replace(odd, critical=False)])
    assert check(made, tame).valid


def test_unknown_critical_extension_on_intermediate(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["ec"]
    key = made.new_key()
    odd = ExtensionSpec("1.2.3.4.5.7", b"\x05\x00", critical=True)
    ca = made.issue(
        "Odd CA", issuer="root", key=key, ca=True, key_usage=CA_USAGE, extra_extensions=[odd]
    )
    leaf = made.issue("Under odd CA", issuer_cert=ca, issuer_key=key)
    r = check(made, leaf, intermediates=[ca])
    assert r.reason is Reason.UNKNOWN_CRITICAL_EXTENSION
    assert r.detail.startswith("CA certificate #1")
    assert check(made, leaf, intermediates=[], anchors=[ca]).valid  # anchors are trusted as given


def made_path(made: Made, leaf: Certificate) -> tuple[Certificate, ...]:
    return (leaf, made.h.intermediate, made.h.root)


# --- several candidates ----------------------------------------------------------------------


def test_reissued_intermediate_tried_after_expired_one(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["ec"]
    h = made.h
    old = build_certificate(
        subject=same_name_as(h.intermediate),
        subject_public_key=h.intermediate.public_key,
        issuer_key=made.key("root"),
        issuer=h.root,
        ca=True,
        path_length=0,
        key_usage=CA_USAGE,
        not_before=NOW - timedelta(days=60),
        not_after=NOW - timedelta(days=1),
    )
    assert old.subject.der == h.intermediate.subject.der
    r = check(made, h.leaf, intermediates=[old, h.intermediate])
    assert (r.valid, r.chain) == (True, made.path)
    r = check(made, h.leaf, intermediates=[old])
    assert (r.reason, r.chain) == (Reason.EXPIRED, (h.leaf, old, h.root))


def test_cross_certified_intermediate(hierarchies: dict[str, Made], twin: Made) -> None:
    made = hierarchies["ec"]
    h = made.h
    cross = build_certificate(
        subject=same_name_as(h.intermediate),
        subject_public_key=h.intermediate.public_key,
        issuer_key=twin.key("root"),
        issuer=twin.h.root,
        ca=True,
        key_usage=CA_USAGE,
    )
    r = check(made, h.leaf, intermediates=[h.intermediate, cross], anchors=[twin.h.root])
    assert (r.valid, r.chain) == (True, (h.leaf, cross, twin.h.root))
    r = check(made, h.leaf, intermediates=[cross, h.intermediate], anchors=[h.root, twin.h.root])
    assert r.valid and r.chain[-1] in (h.root, twin.h.root)


# --- cache -----------------------------------------------------------------------------------


def test_cache_makes_repeats_cost_one_leaf_signature(made: Made) -> None:
    cache = SignatureCache()
    h = made.h
    assert check(made, h.leaf, cache=cache).valid
    assert (cache.misses, cache.hits) == (2, 0)
    assert check(made, h.leaf, cache=cache).valid
    assert (cache.misses, cache.hits) == (2, 2)
    assert check(made, made.issue("New leaf"), cache=cache).valid
    assert (cache.misses, cache.hits) == (3, 3)
    assert check(made, h.revoked, crls=[h.crl], cache=cache).reason is Reason.REVOKED
    assert cache.misses == 5  # the revoked leaf and the CRL


def test_cache_is_bounded_and_not_fooled(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["ec"]
    h = made.h
    cache = SignatureCache(maxsize=1)
    assert check(made, h.leaf, cache=cache).valid
    assert len(cache) == 1
    forged = dataclasses.replace(h.leaf, signature=h.revoked.signature)
    assert check(made, forged, cache=cache).reason is Reason.BAD_SIGNATURE
    cache.clear()
    assert (len(cache), cache.hits, cache.misses) == (0, 0, 0)
    off = SignatureCache(maxsize=0)
    assert check(made, h.leaf, cache=off).valid and len(off) == 0


# --- misuse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"leaf": b"not parsed"},
        {"anchors": b"pem bytes"},
        {"anchors": ["x"]},
        {"intermediates": [None]},
        {"crls": ["x"]},
        {"at": NOW.replace(tzinfo=None)},
        {"skew": timedelta(seconds=-1)},
        {"purpose": "decrypt"},
        {"extended_key_usage": "whatever"},
        {"require_revocation": "yes"},
    ],
)
def test_misuse_raises(hierarchies: dict[str, Made], kw: dict[str, object]) -> None:
    made = hierarchies["ec"]
    args: dict[str, object] = {"anchors": [made.h.root], "at": NOW}
    kw = dict(kw)
    leaf = kw.pop("leaf", made.h.leaf)
    args.update(kw)
    with pytest.raises(CertInteropError):
        validate(leaf, **args)  # type: ignore[arg-type]

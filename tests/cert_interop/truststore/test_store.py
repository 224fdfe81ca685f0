"""The trust store on SQLite and PostgreSQL: adding, listing, disabling, CRLs, and validation
with per-CA profiles and revocation policies."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.errors import (
    AmbiguousCaReference,
    CaNameTaken,
    CrlOutdated,
    MalformedInput,
    NotACaCertificate,
    NoTrustAnchor,
    ProfileFileError,
    SignatureMismatch,
    TrustStoreError,
    TrustStoreUnavailable,
    UnknownCa,
    UnknownProfile,
)
from cert_interop.truststore import TrustStore
from cert_interop.truststore.models import TrustedCa, TrustStoreVersion
from cert_interop.validation import Reason
from cert_interop.x509 import Certificate, Revocation, build_crl, parse_certificate
from storage.db import Base, make_engine, make_session_factory

from .conftest import (
    ECDSA_PROFILE,
    ID_NUMBER,
    NOW,
    RSA_CREDIT_CODE,
    Made,
    UnknownChecker,
    bundle,
)

TABLES = ("trusted_ca", "uploaded_crl", "trust_store_version")


def chain_of(made: Made) -> bytes:
    return bundle(made.h.root, made.h.intermediate)


def version(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(TrustStoreVersion.version)) or 0)


# --- schema ------------------------------------------------------------------------------------


def test_models_match_the_migration(migrated_db_url: str) -> None:
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in TABLES:
        Base.metadata.tables[name].to_metadata(ours)
    engine = make_engine(migrated_db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, type_, _parent: type_ != "table" or name in TABLES,
                },
            )
            assert compare_metadata(context, ours) == []
    finally:
        engine.dispose()


def test_unmigrated_database_is_a_typed_error_with_a_hint(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    store = TrustStore(make_session_factory(engine))
    with pytest.raises(TrustStoreUnavailable, match="huren db upgrade"):
        store.list()
    engine.dispose()


# --- add / list / get ----------------------------------------------------------------------


def test_add_root_and_intermediate_then_list(
    store: TrustStore, pki: dict[str, Made], sessions: sessionmaker[Session]
) -> None:
    before = version(sessions)
    made = pki["sm2"]
    records = store.add(chain_of(made), profile="default")
    assert [r.role for r in records] == ["anchor", "intermediate"]
    root, inter = records
    assert root.name == "Huren Test Root CA (SM2)" and root.is_anchor
    assert inter.name == "Huren Test Issuing CA (SM2)" and not inter.is_anchor
    assert root.sha256_fingerprint == made.h.root.sha256_fingerprint
    assert root.subject == made.h.root.subject.rfc4514
    assert all(r.enabled and r.profile == "default" for r in records)
    assert all(r.revocation_policy == "hard" and not r.already_stored for r in records)
    assert root.certificate.der == made.h.root.der
    assert [r.id for r in store.list()] == [root.id, inter.id]
    assert version(sessions) > before
    as_dict = root.as_dict()
    assert as_dict["role"] == "anchor" and as_dict["sha256_fingerprint"] == root.sha256_fingerprint


def test_intermediate_first_in_the_bundle_still_chains(
    store: TrustStore, pki: dict[str, Made]
) -> None:
    made = pki["ec"]
    records = store.add(bundle(made.h.intermediate, made.h.root), profile="default")
    assert [r.role for r in records] == ["intermediate", "anchor"]


def test_adding_again_is_an_idempotent_no_op(store: TrustStore, pki: dict[str, Made]) -> None:
    made = pki["rsa"]
    first = store.add(chain_of(made), profile="default")
    again = store.add(chain_of(made), profile="gmt0015-2012", revocation_policy="soft")
    assert [r.already_stored for r in again] == [True, True]
    assert [r.id for r in again] == [r.id for r in first]
    assert all(r.profile == "default" and r.revocation_policy == "hard" for r in again)
    assert len(store.list()) == 2


def test_intermediate_of_a_stored_root_can_be_added_later(
    store: TrustStore, pki: dict[str, Made]
) -> None:
    made = pki["ec"]
    store.add(made.h.root.der, profile="default")
    (inter,) = store.add(made.h.intermediate.pem(), profile="default")
    assert inter.role == "intermediate"
    # an issuing CA below the stored intermediate chains through it
    sub = made.issue(
        "Sub CA",
        ca=True,
        key_usage={"key_cert_sign", "crl_sign"},
        not_after=NOW + timedelta(days=300),
    )
    (record,) = store.add(sub.pem(), profile="default")
    assert record.role == "intermediate" and record.name == "Sub CA"


def test_get_by_name_id_and_fingerprint(store: TrustStore, pki: dict[str, Made]) -> None:
    root, _ = store.add(chain_of(pki["sm2"]), profile="default")
    fp = root.sha256_fingerprint
    colons = ":".join(fp[i : i + 2] for i in range(0, 64, 2)).upper()
    for ref in (root.name, root.id, root.id.upper(), fp, fp[:8], fp[:20].upper(), colons):
        assert store.get(ref).id == root.id, ref
    assert store.get(f"  sha256:{fp[:12]} ").id == root.id
    for ref in ("", "nope", fp[:7], "0" * 64):
        with pytest.raises(UnknownCa):
            store.get(ref)


def test_ambiguous_fingerprint_prefix(
    store: TrustStore, pki: dict[str, Made], sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        for i, cert in enumerate((pki["ec"].h.root, pki["rsa"].h.root)):
            s.add(
                TrustedCa(
                    id=f"00000000-0000-4000-8000-00000000000{i}",
                    name=f"crafted {i}",
                    der=cert.der,
                    sha256_fingerprint="deadbeef" + str(i) * 56,
                    subject=cert.subject.rfc4514,
                    is_anchor=True,
                    profile="default",
                    revocation_policy="hard",
                    enabled=True,
                    added_at=time.time(),
                )
            )
    with pytest.raises(AmbiguousCaReference, match="crafted 0"):
        store.get("DEADBEEF")
    assert store.get("deadbeef1").name == "crafted 1"


def test_names(store: TrustStore, pki: dict[str, Made]) -> None:
    (root,) = store.add(pki["ec"].h.root.pem(), profile="default", name="  省CA\tRoot ")
    assert root.name == "省CA Root"
    with pytest.raises(CaNameTaken):
        store.add(pki["rsa"].h.root.pem(), profile="default", name="省CA Root")
    with pytest.raises(TrustStoreError, match="looks like"):
        store.add(pki["rsa"].h.root.pem(), profile="default", name="abcdef0123")
    with pytest.raises(TrustStoreError, match="empty"):
        store.add(pki["rsa"].h.root.pem(), profile="default", name=" \n")
    records = store.add(chain_of(pki["sm2"]), profile="default", name="SM2 CA")
    assert [r.name for r in records] == [
        "SM2 CA / Huren Test Root CA (SM2)",
        "SM2 CA / Huren Test Issuing CA (SM2)",
    ]
    # the twin hierarchy has the same CNs: default names get a fingerprint prefix
    store.add(pki["ec"].h.intermediate.pem(), profile="default")
    (twin_root,) = store.add(pki["ec-twin"].h.root.pem(), profile="default")
    assert twin_root.name == "Huren Test Root CA (EC)"
    (twin_inter,) = store.add(pki["ec-twin"].h.intermediate.pem(), profile="default")
    fp = pki["ec-twin"].h.intermediate.sha256_fingerprint
    assert twin_inter.name == f"Huren Test Issuing CA (EC) ({fp[:8]})"


# --- refusals ----------------------------------------------------------------------------------


def test_refuses_a_non_ca_certificate_and_stores_nothing(
    store: TrustStore, pki: dict[str, Made]
) -> None:
    made = pki["rsa"]
    with pytest.raises(NotACaCertificate, match=r"#3 .* not a CA certificate"):
        store.add(bundle(made.h.root, made.h.intermediate, made.h.leaf), profile="default")
    assert store.list(include_disabled=True) == []


def test_refuses_a_ca_without_key_cert_sign(store: TrustStore, pki: dict[str, Made]) -> None:
    made = pki["ec"]
    odd = made.issue("No certsign CA", ca=True, key_usage={"crl_sign"}, issuer="root")
    with pytest.raises(NotACaCertificate, match="keyCertSign"):
        store.add(odd.pem(), profile="default")


def test_refuses_an_intermediate_without_its_anchor(
    store: TrustStore, pki: dict[str, Made]
) -> None:
    store.add(pki["ec-twin"].h.root.pem(), profile="default")  # same name, other key
    with pytest.raises(NoTrustAnchor, match="none signed it"):
        store.add(pki["ec"].h.intermediate.pem(), profile="default")
    with pytest.raises(NoTrustAnchor, match="no stored or bundled CA certificate"):
        store.add(pki["rsa"].h.intermediate.pem(), profile="default")


def test_refuses_a_root_whose_self_signature_does_not_verify(
    store: TrustStore, pki: dict[str, Made]
) -> None:
    der = bytearray(pki["sm2"].h.root.der)
    der[-1] ^= 0x01  # last byte of the signature's s
    tampered = parse_certificate(bytes(der))
    with pytest.raises(SignatureMismatch, match="does not verify under its own key"):
        store.add(tampered.der, profile="default")


def test_refuses_an_unknown_profile_listing_the_known_ones(
    store: TrustStore, pki: dict[str, Made]
) -> None:
    with pytest.raises(UnknownProfile) as caught:
        store.add(pki["ec"].h.root.pem(), profile="no-such-ca")
    message = str(caught.value)
    assert "no-such-ca" in message and "gmt0015-2023" in message and "example-ec-ca" in message


def test_refuses_a_bad_revocation_policy(store: TrustStore, pki: dict[str, Made]) -> None:
    with pytest.raises(TrustStoreError, match="hard' or 'soft"):
        store.add(pki["ec"].h.root.pem(), profile="default", revocation_policy="lenient")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"not a certificate", "certificate"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n", "no complete PEM block"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PRIVATE KEY"),
        (b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "CA bundle"),
    ],
)
def test_refuses_malformed_input(store: TrustStore, data: bytes, fragment: str) -> None:
    with pytest.raises(MalformedInput, match=fragment):
        store.add(data, profile="default")


def test_disable_enable_unknown_ref(store: TrustStore) -> None:
    with pytest.raises(UnknownCa):
        store.disable("nobody", "x")
    with pytest.raises(UnknownCa):
        store.enable("nobody")


# --- profiles ----------------------------------------------------------------------------------


def test_profiles_shipped_and_from_files(store: TrustStore, profiles_dir: Path) -> None:
    (profiles_dir / "a-child.json").write_text(
        '{"name": "child", "extends": ["example-ec-ca"], "rules": []}', encoding="utf-8"
    )
    profiles = store.profiles()
    assert {"default", "gmt0015-2023", "example-ec-ca", "child"} <= set(profiles)
    assert profiles["child"].rules[0].qualified_id == "example-ec-ca/cn-code"
    assert store.profile_files()["example-ec-ca"] == profiles_dir / "example-ec-ca.toml"


def test_broken_profile_file_is_named(
    store: TrustStore, profiles_dir: Path, pki: dict[str, Made]
) -> None:
    broken = profiles_dir / "broken.toml"
    broken.write_text('name = "broken"\n[[rules]]\nfield = "nonsense"\n', encoding="utf-8")
    with pytest.raises(ProfileFileError, match=r"broken\.toml"):
        store.profiles()
    with pytest.raises(ProfileFileError, match=r"broken\.toml"):
        store.add(pki["ec"].h.root.pem(), profile="broken")
    # a profile from an intact file or a shipped one can still be used
    store.add(pki["ec"].h.root.pem(), profile="example-ec-ca")


def test_profile_file_may_not_redefine_a_shipped_profile(
    store: TrustStore, profiles_dir: Path
) -> None:
    (profiles_dir / "default.toml").write_text(
        ECDSA_PROFILE.replace('"example-ec-ca"', '"default"'), encoding="utf-8"
    )
    with pytest.raises(ProfileFileError, match="shipped profile"):
        store.profiles()


# --- validation: several CAs, each with its profile -----------------------------------------


def test_several_cas_each_with_its_profile(
    store: TrustStore,
    pki: dict[str, Made],
    sm2_person: Certificate,
    rsa_company: Certificate,
    ec_company: Certificate,
) -> None:
    store.add(
        chain_of(pki["rsa"]), profile="rsa-1.2.86.11.7", name="RSA CA", revocation_policy="soft"
    )
    store.add(chain_of(pki["sm2"]), profile="gmt0015-2023", revocation_policy="soft")
    store.add(chain_of(pki["ec"]), profile="example-ec-ca", revocation_policy="soft")

    r = store.validate(rsa_company, at=NOW)
    assert r.valid, r.detail
    assert r.ca == "RSA CA / Huren Test Issuing CA (RSA)" and r.profile == "rsa-1.2.86.11.7"
    assert r.identity is not None and r.identity.credit_code == RSA_CREDIT_CODE
    assert r.identity.entity_type == "legal_person"

    r = store.validate(sm2_person, at=NOW)
    assert r.valid, r.detail
    assert r.ca == "Huren Test Issuing CA (SM2)" and r.profile == "gmt0015-2023"
    assert r.identity is not None and r.identity.id_number == ID_NUMBER
    assert r.identity.entity_type == "natural_person" and r.identity.credit_code is None
    assert [c.der for c in r.chain] == [
        sm2_person.der,
        pki["sm2"].h.intermediate.der,
        pki["sm2"].h.root.der,
    ]

    r = store.validate(ec_company, at=NOW)
    assert r.valid, r.detail
    assert r.profile == "example-ec-ca"
    assert r.identity is not None and r.identity.credit_code == "91350100M000100Y43"
    assert r.identity.organization_name == "测试投标有限公司"

    # the shipped-hierarchy SM2 leaf: GM/T 0015-2012 extension, read by the default profile
    store.add(
        pki["sm2"].h.root.pem(), profile="default", revocation_policy="soft"
    )  # already there: no change
    r = store.validate(pki["sm2"].h.leaf)
    assert r.valid and r.identity is not None and r.identity.profile == "gmt0015-2023"
    assert r.identity.credit_code is None  # gmt0015-2023 does not read 1.2.156.10260.4.1.4


def test_invalid_result_names_the_ca_but_no_identity(
    store: TrustStore, pki: dict[str, Made], sm2_person: Certificate
) -> None:
    store.add(chain_of(pki["sm2"]), profile="default")
    r = store.validate(sm2_person, purpose="encrypt")  # a signing-only certificate
    assert r.reason is Reason.WRONG_KEY_USAGE
    assert r.ca == "Huren Test Issuing CA (SM2)" and r.profile == "default" and r.identity is None


def test_leaf_of_an_unknown_ca(store: TrustStore, pki: dict[str, Made]) -> None:
    store.add(chain_of(pki["sm2"]), profile="default")
    r = store.validate(pki["rsa"].h.leaf)
    assert r.reason is Reason.UNKNOWN_CA and r.ca is None and r.profile is None


def test_caller_supplied_intermediate_inherits_the_profile_of_the_stored_root(
    store: TrustStore, pki: dict[str, Made]
) -> None:
    made = pki["rsa"]
    store.add(
        made.h.root.pem(), profile="rsa-1.2.86.11.7", name="RSA root", revocation_policy="soft"
    )
    assert store.validate(made.h.leaf).reason is Reason.UNKNOWN_CA
    r = store.validate(made.h.leaf, intermediates=[made.h.intermediate])
    assert r.valid and r.ca == "RSA root" and r.profile == "rsa-1.2.86.11.7"


def test_missing_profile_file_leaves_identity_empty_with_a_note(
    store: TrustStore, pki: dict[str, Made], profiles_dir: Path, ec_company: Certificate
) -> None:
    store.add(chain_of(pki["ec"]), profile="example-ec-ca", revocation_policy="soft")
    (profiles_dir / "example-ec-ca.toml").unlink()
    store.refresh()
    r = store.validate(ec_company, at=NOW)
    assert r.valid and r.identity is None and r.profile == "example-ec-ca"
    assert any("example-ec-ca" in note and "not available" in note for note in r.notes)


# --- disable / enable ------------------------------------------------------------------------


def test_disabled_root_makes_its_chains_unknown_ca(
    store: TrustStore, pki: dict[str, Made], sessions: sessionmaker[Session]
) -> None:
    made = pki["ec"]
    root, _ = store.add(chain_of(made), profile="default", revocation_policy="soft")
    assert store.validate(made.h.leaf).valid
    before = version(sessions)
    disabled = store.disable(root.sha256_fingerprint[:10], "compromised: 2025-01 incident")
    assert not disabled.enabled and disabled.disabled_reason == "compromised: 2025-01 incident"
    assert disabled.disabled_at is not None and version(sessions) > before
    r = store.validate(made.h.leaf)
    assert r.reason is Reason.UNKNOWN_CA
    assert "disabled since" in r.detail and "compromised" in r.detail
    assert "no root CA is enabled in the trust store" in r.detail
    assert r.ca == "Huren Test Issuing CA (EC)"
    # a caller supplying the root itself does not help
    r = store.validate(made.h.leaf, intermediates=[made.h.root])
    assert r.reason is Reason.UNKNOWN_CA
    assert [c.name for c in store.list()] == ["Huren Test Issuing CA (EC)"]
    assert len(store.list(include_disabled=True)) == 2
    enabled = store.enable(root.name)
    assert enabled.enabled and enabled.disabled_at is None and enabled.disabled_reason is None
    assert store.validate(made.h.leaf).valid


def test_disabled_intermediate_cannot_be_used(store: TrustStore, pki: dict[str, Made]) -> None:
    made = pki["sm2"]
    _, inter = store.add(chain_of(made), profile="default", revocation_policy="soft")
    store.disable(inter.name, "")
    assert store.get(inter.id).disabled_reason is None
    for supplied in ([], [made.h.intermediate]):
        r = store.validate(made.h.leaf, intermediates=supplied)
        assert r.reason is Reason.UNKNOWN_CA, supplied
        assert f"CA '{inter.name}'" in r.detail and "disabled" in r.detail
        assert r.ca == inter.name and r.identity is None


def test_disabling_twice_keeps_the_first_time_and_reason(
    store: TrustStore, pki: dict[str, Made]
) -> None:
    (root,) = store.add(pki["ec"].h.root.pem(), profile="default")
    first = store.disable(root.name, "first")
    again = store.disable(root.name, "second")
    assert again.disabled_at == first.disabled_at and again.disabled_reason == "first"


# --- CRLs ----------------------------------------------------------------------------------


def test_revoked_by_an_uploaded_crl(store: TrustStore, pki: dict[str, Made]) -> None:
    """Hard-fail CAs without online checks: valid only once CRLs cover every level."""
    made = pki["rsa"]
    store.add(chain_of(made), profile="default")
    unknown = store.validate(made.h.revoked)
    assert unknown.reason is Reason.REVOCATION_UNKNOWN and "online revocation" in unknown.detail
    store.upload_crl(made.h.root_crl.pem())
    record = store.upload_crl(made.h.crl.pem())
    assert record.issuer_name == "Huren Test Issuing CA (RSA)" and record.crl_number == 1
    assert record.revoked_count == 1 and not record.unchanged
    r = store.validate(made.h.revoked)
    assert r.reason is Reason.REVOKED and r.ca == "Huren Test Issuing CA (RSA)"
    leaf = store.validate(made.h.leaf)
    assert leaf.valid and leaf.identity is not None
    assert leaf.revocation_checked
    assert store.upload_crl(made.h.crl.der).unchanged
    assert record.issuer_name in [c.issuer_name for c in store.crls()]


def test_crl_refusals(store: TrustStore, pki: dict[str, Made]) -> None:
    made = pki["ec"]
    with pytest.raises(UnknownCa, match="not a stored CA"):
        store.upload_crl(made.h.crl.pem())
    store.add(chain_of(made), profile="default")
    with pytest.raises(SignatureMismatch, match="does not verify"):
        store.upload_crl(pki["ec-twin"].h.crl.pem())  # same issuer name, other key
    with pytest.raises(MalformedInput):
        store.upload_crl(b"garbage")
    with pytest.raises(MalformedInput):
        store.upload_crl(made.h.root.pem())  # a certificate, not a CRL
    inter_key = made.key("intermediate")
    newer = build_crl(
        issuer=made.h.intermediate,
        issuer_key=inter_key,
        revoked=[Revocation(made.h.leaf.serial_number, NOW, "superseded")],
        this_update=NOW,
        crl_number=5,
    )
    assert store.upload_crl(newer.der).crl_number == 5
    older = build_crl(
        issuer=made.h.intermediate,
        issuer_key=inter_key,
        this_update=NOW + timedelta(minutes=1),
        crl_number=4,
    )
    with pytest.raises(CrlOutdated, match="number 4, not higher than the stored CRL's 5"):
        store.upload_crl(older.der)
    same_number = build_crl(
        issuer=made.h.intermediate, issuer_key=inter_key, this_update=NOW, crl_number=5
    )
    with pytest.raises(CrlOutdated):
        store.upload_crl(same_number.der)
    (stored,) = store.crls()
    assert stored.crl_number == 5
    assert store.validate(made.h.leaf).reason is Reason.REVOKED


def test_crl_from_a_ca_that_may_not_sign_crls(store: TrustStore, pki: dict[str, Made]) -> None:
    made = pki["ec"]
    store.add(made.h.root.pem(), profile="default")
    key = made.new_key()
    no_crl_sign = made.issue(
        "CA without cRLSign",
        key=key,
        issuer="root",
        ca=True,
        key_usage={"key_cert_sign"},
    )
    store.add(no_crl_sign.pem(), profile="default")
    crl = build_crl(issuer=no_crl_sign, issuer_key=key)
    with pytest.raises(TrustStoreError, match="lacks cRLSign"):
        store.upload_crl(crl.pem())


# --- revocation policy ---------------------------------------------------------------------


def test_per_ca_soft_and_hard_policy(
    sessions: sessionmaker[Session], profiles_dir: Path, pki: dict[str, Made]
) -> None:
    checker = UnknownChecker([])
    store = TrustStore(sessions, profiles_dir=profiles_dir, revocation=checker)
    store.add(chain_of(pki["sm2"]), profile="default", revocation_policy="soft")
    store.add(chain_of(pki["rsa"]), profile="default")  # hard
    soft = store.validate(pki["sm2"].h.leaf)
    assert soft.valid and len(soft.notes) == 2 and "soft-fail" in soft.notes[0]
    assert soft.identity is not None
    hard = store.validate(pki["rsa"].h.leaf)
    assert hard.reason is Reason.REVOCATION_UNKNOWN and "hard-fail" in hard.detail
    assert hard.ca == "Huren Test Issuing CA (RSA)" and hard.identity is None
    assert checker.asked  # the injected checker was consulted
    # an uploaded CRL covers the leaf: only the intermediate is asked about
    store.upload_crl(pki["rsa"].h.crl.pem())
    store.upload_crl(pki["rsa"].h.root_crl.pem())
    covered = store.validate(pki["rsa"].h.leaf)
    assert covered.valid and covered.revocation_checked


def test_policy_of_an_unstored_intermediate_is_that_of_the_nearest_stored_ca_above(
    sessions: sessionmaker[Session], pki: dict[str, Made]
) -> None:
    store = TrustStore(sessions, revocation=UnknownChecker([]))
    store.add(pki["ec"].h.root.pem(), profile="default", revocation_policy="soft")
    store.add(pki["rsa"].h.root.pem(), profile="default", revocation_policy="hard")
    soft = store.validate(pki["ec"].h.leaf, intermediates=[pki["ec"].h.intermediate])
    assert soft.valid and len(soft.notes) == 2
    hard = store.validate(pki["rsa"].h.leaf, intermediates=[pki["rsa"].h.intermediate])
    assert hard.reason is Reason.REVOCATION_UNKNOWN


# --- snapshot and refresh ------------------------------------------------------------------


def test_a_change_in_one_instance_is_seen_by_another(
    sessions: sessionmaker[Session], pki: dict[str, Made]
) -> None:
    made = pki["sm2"]
    writer = TrustStore(sessions)
    eager = TrustStore(sessions, refresh_interval=0)
    lazy = TrustStore(sessions, refresh_interval=3600)
    assert eager.validate(made.h.leaf).reason is Reason.UNKNOWN_CA
    assert lazy.validate(made.h.leaf).reason is Reason.UNKNOWN_CA
    root, _ = writer.add(chain_of(made), profile="default", revocation_policy="soft")
    assert eager.validate(made.h.leaf).valid
    assert lazy.validate(made.h.leaf).reason is Reason.UNKNOWN_CA  # still its snapshot
    writer.disable(root.id, "test")
    assert eager.validate(made.h.leaf).reason is Reason.UNKNOWN_CA
    writer.enable(root.id)
    assert eager.validate(made.h.leaf).valid
    lazy.refresh()
    assert lazy.validate(made.h.leaf).valid
    writer.upload_crl(made.h.crl.pem())
    assert eager.validate(made.h.revoked).reason is Reason.REVOKED


def test_changes_through_the_same_instance_apply_at_once(
    sessions: sessionmaker[Session], pki: dict[str, Made]
) -> None:
    made = pki["ec"]
    store = TrustStore(sessions, refresh_interval=3600)
    assert store.validate(made.h.leaf).reason is Reason.UNKNOWN_CA
    root, _ = store.add(chain_of(made), profile="default", revocation_policy="soft")
    assert store.validate(made.h.leaf).valid
    store.disable(root.name)
    assert store.validate(made.h.leaf).reason is Reason.UNKNOWN_CA


def test_validate_refuses_misuse(store: TrustStore, pki: dict[str, Made]) -> None:
    from cert_interop.errors import CertInteropError

    with pytest.raises(CertInteropError):
        store.validate(pki["ec"].h.leaf, intermediates=b"x")  # type: ignore[arg-type]
    with pytest.raises(CertInteropError):
        store.validate(pki["ec"].h.leaf, purpose="decorate")
    with pytest.raises(CertInteropError):
        TrustStore(store._sessions, refresh_interval=-1)


def test_records_are_frozen(store: TrustStore, pki: dict[str, Made]) -> None:
    (root,) = store.add(pki["ec"].h.root.pem(), profile="default")
    with pytest.raises(AttributeError):
        root.name = "x"  # type: ignore[misc]
    assert replace(root, name="y").name == "y"
    assert "certificate=" not in repr(root)


def test_concurrent_adds_of_the_same_bundle(migrated_db_url: str, pki: dict[str, Made]) -> None:
    """Two workers adding one bundle at once: one stores it, the other reports it stored."""
    import threading

    engines = [make_engine(migrated_db_url) for _ in range(2)]
    stores = [TrustStore(make_session_factory(e)) for e in engines]
    results: list[list[bool]] = []
    errors: list[BaseException] = []

    def work(s: TrustStore) -> None:
        try:
            results.append(
                [r.already_stored for r in s.add(chain_of(pki["rsa"]), profile="default")]
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert errors == []
    assert sorted(results) == [[False, False], [True, True]]


def test_migration_seeds_the_version_row(sessions: sessionmaker[Session]) -> None:
    assert version(sessions) == 0


def test_configure_changes_profile_and_policy(
    sessions: sessionmaker[Session],
    profiles_dir: Path,
    pki: dict[str, Made],
    ec_company: Certificate,
) -> None:
    store = TrustStore(sessions, profiles_dir=profiles_dir, revocation=UnknownChecker([]))
    root, inter = store.add(chain_of(pki["ec"]), profile="default")
    assert store.validate(ec_company, at=NOW).reason is Reason.REVOCATION_UNKNOWN
    store.configure(root.name, revocation_policy="soft")
    assert store.validate(ec_company, at=NOW).reason is Reason.REVOCATION_UNKNOWN  # inter: hard
    updated = store.configure(inter.id, profile="example-ec-ca", revocation_policy="soft")
    assert updated.profile == "example-ec-ca" and updated.revocation_policy == "soft"
    r = store.validate(ec_company, at=NOW)
    assert r.valid and r.profile == "example-ec-ca"
    assert r.identity is not None and r.identity.organization_name == "测试投标有限公司"
    with pytest.raises(UnknownProfile):
        store.configure(root.name, profile="nope")
    with pytest.raises(TrustStoreError):
        store.configure(root.name, revocation_policy="maybe")
    assert store.get(root.id).profile == "default"

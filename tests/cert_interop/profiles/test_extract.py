"""Certificates carrying identities in each encoding CAs use, read by the shipped profiles."""

from __future__ import annotations

import json

import pytest

from cert_interop.profiles import Identity, builtin_profiles, extract_identity, load_profile
from cert_interop.x509 import ExtensionSpec, string_extension

from .conftest import ID_NUMBER, ORG_CODE, USCC, USCC_2, Issue, with_raw_extension

DEFAULT = builtin_profiles()["default"]
LEGAL_SUBJECT = [("C", "CN"), ("O", "贵州测试有限公司"), ("CN", "贵州测试有限公司")]
PERSON_SUBJECT = [("C", "CN"), ("CN", "张三")]


def _read(cert_issue: Issue, subject: list[tuple[str, str]], *exts: ExtensionSpec, alg: str = "sm2",
          profile: str = "default") -> Identity:  # fmt: skip
    return extract_identity(cert_issue(subject, exts, alg), builtin_profiles()[profile])


@pytest.mark.parametrize("kind", ["printable", "utf8"])
def test_sm2_2012_credit_code_in_org_code_extension(issue: Issue, kind: str) -> None:
    ident = _read(issue, LEGAL_SUBJECT, string_extension("1.2.156.10260.4.1.4", USCC, kind=kind))
    assert ident.entity_type == "legal_person"
    assert ident.credit_code == USCC
    assert ident.organization_code is None
    assert ident.name == ident.organization_name == "贵州测试有限公司"
    assert ident.matched_rules[0] == "gmt0015-2012/organization-or-credit-code"
    assert ident.profile == "default"
    assert ident.rejected == ()


@pytest.mark.parametrize("value", [ORG_CODE, "10000648-5", " 100006485 "])
def test_sm2_2012_org_code_decided_by_shape(issue: Issue, value: str) -> None:
    ident = _read(issue, LEGAL_SUBJECT, string_extension("1.2.156.10260.4.1.4", value, kind="utf8"))
    assert ident.organization_code == ORG_CODE
    assert ident.credit_code is None
    assert ident.entity_type == "legal_person"


def test_sm2_2012_natural_person(issue: Issue) -> None:
    ident = _read(issue, PERSON_SUBJECT, string_extension("1.2.156.10260.4.1.1", ID_NUMBER))
    assert ident.entity_type == "natural_person"
    assert ident.id_number == ID_NUMBER
    assert ident.name == "张三"  # a plain CN is the holder's name, of either kind
    assert ident.matched_rules == ("gmt0015-2012/id-number", "subject-dn/cn")


def test_sm2_2012_other_extensions(issue: Issue) -> None:
    ident = _read(
        issue,
        LEGAL_SUBJECT,
        string_extension("1.2.156.10260.4.1.3", "520100000123456"),
        string_extension("1.2.156.10260.4.1.5", "52010012345678X"),
    )
    assert ident.business_registration_number == "520100000123456"
    assert ident.taxpayer_number == "52010012345678X"
    assert ident.entity_type == "legal_person"


def test_sm2_2023_raw_bytes(issue: Issue) -> None:
    cert = with_raw_extension(issue(LEGAL_SUBJECT), "1.2.156.10260.4.4", USCC.encode())
    ident = extract_identity(cert, builtin_profiles()["gmt0015-2023"])
    assert ident.credit_code == USCC
    assert ident.matched_rules == ("gmt0015-2023/credit-code",)
    assert ident.profile == "gmt0015-2023"
    assert ident.name is None  # this profile does not read the subject


def test_sm2_2023_person_with_passport(issue: Issue) -> None:
    cert = issue(
        PERSON_SUBJECT, [string_extension("1.2.156.10260.4.1.1.1", ID_NUMBER, kind="utf8")]
    )
    cert = with_raw_extension(cert, "1.2.156.10260.4.1.1.2", b"E12345678\x00")
    ident = extract_identity(cert, DEFAULT)
    assert (ident.id_number, ident.passport_number) == (ID_NUMBER, "E12345678")
    assert ident.entity_type == "natural_person"


def test_2023_extension_wins_over_2012(issue: Issue) -> None:
    ident = _read(
        issue,
        LEGAL_SUBJECT,
        string_extension("1.2.156.10260.4.4", USCC_2),
        string_extension("1.2.156.10260.4.1.4", USCC),
    )
    assert ident.credit_code == USCC_2


@pytest.mark.parametrize("alg", ["rsa", "ec"])
def test_rsa_oids(issue: Issue, alg: str) -> None:
    legal = _read(issue, LEGAL_SUBJECT, string_extension("1.2.86.11.7.4", USCC), alg=alg)
    assert legal.credit_code == USCC
    assert legal.matched_rules[0] == "rsa-1.2.86.11.7/credit-code"
    person = _read(
        issue, PERSON_SUBJECT, string_extension("1.2.86.11.7.1", ID_NUMBER, kind="utf8"), alg=alg
    )
    assert person.id_number == ID_NUMBER and person.entity_type == "natural_person"


def test_subject_serial_number(issue: Issue) -> None:
    ident = _read(issue, [*LEGAL_SUBJECT, ("serialNumber", USCC)], alg="ec")
    assert ident.credit_code == USCC
    assert "subject-dn/serial-number" in ident.matched_rules
    person = _read(issue, [*PERSON_SUBJECT, ("serialNumber", ID_NUMBER)], alg="ec")
    assert person.id_number == ID_NUMBER and person.entity_type == "natural_person"


def test_subject_ou(issue: Issue) -> None:
    ident = _read(issue, [("C", "CN"), ("O", "某公司"), ("OU", ORG_CODE), ("CN", "某公司")])
    assert ident.organization_code == ORG_CODE
    assert ident.entity_type == "legal_person"
    assert ident.name == "某公司"


def test_subject_organization_identifier(issue: Issue) -> None:
    ident = _read(issue, [("organizationIdentifier", f"NTRCN-{USCC}"), ("CN", "x")])
    assert ident.credit_code == USCC


@pytest.mark.parametrize(
    ("code", "field", "entity_type", "holder"),
    [
        (USCC, "credit_code", "legal_person", "贵州测试有限公司"),
        (ID_NUMBER, "id_number", "natural_person", "张三"),
    ],
)
def test_structured_cn(issue: Issue, code: str, field: str, entity_type: str, holder: str) -> None:
    ident = _read(issue, [("C", "CN"), ("CN", f"041@{code}@{holder}@00000001")], alg="rsa")
    assert getattr(ident, field) == code
    assert ident.entity_type == entity_type
    assert ident.name == holder
    assert ident.matched_rules == ("subject-dn/cn-041-code", "subject-dn/cn-041-name")


def test_invalid_check_character_is_rejected_and_recorded(issue: Issue) -> None:
    bad = USCC[:-1] + "0"
    ident = _read(issue, LEGAL_SUBJECT, string_extension("1.2.156.10260.4.4", bad))
    assert ident.credit_code is None
    [rej] = ident.rejected
    assert (rej.rule, rej.field, rej.value) == ("gmt0015-2023/credit-code", "credit_code", bad)
    assert "unified social credit code" in rej.reason
    bad_id = ID_NUMBER[:-1] + "1"
    person = _read(issue, PERSON_SUBJECT, string_extension("1.2.156.10260.4.1.1", bad_id))
    assert person.id_number is None
    assert person.entity_type == "unknown"  # nothing decided it, no hint from a matched rule
    assert person.rejected[0].reason == "not a valid resident ID number"


def test_later_rule_supplies_a_rejected_field(issue: Issue) -> None:
    ident = _read(
        issue,
        [*LEGAL_SUBJECT, ("serialNumber", USCC_2)],
        string_extension("1.2.156.10260.4.4", USCC[:-1] + "0"),
    )
    assert ident.credit_code == USCC_2
    assert len(ident.rejected) == 1


CUSTOM_TOML = """
name = "example-ca"
description = "type letter before the code; person name raw GB 18030 in a private extension"
extends = ["subject-dn"]

[[rules]]
id = "prefixed-code"
extension = "1.3.6.1.4.1.99999.1"
strip_prefix = ["N", "9"]
field = "identifier"

[[rules]]
id = "raw-name"
extension = "1.3.6.1.4.1.99999.2"
field = "person_name"
entity_type = "natural_person"
"""


def test_custom_profile_prefix_and_raw_gb18030(issue: Issue) -> None:
    profile = load_profile(CUSTOM_TOML, known=builtin_profiles())
    cert = issue([("CN", "ignored@x")], [string_extension("1.3.6.1.4.1.99999.1", "N" + USCC)])
    cert = with_raw_extension(cert, "1.3.6.1.4.1.99999.2", "李四".encode("gb18030"))
    ident = extract_identity(cert, profile)
    assert ident.credit_code == USCC
    assert ident.person_name == "李四"
    assert ident.entity_type == "legal_person"  # the code decides over the rule's hint
    assert ident.name == "李四"  # the only name found
    # "9" is also a prefix, but stripping it leaves an invalid code: the whole value is taken
    cert2 = issue([("CN", "x")], [string_extension("1.3.6.1.4.1.99999.1", USCC)])
    assert extract_identity(cert2, profile).credit_code == USCC


def test_hint_decides_when_no_code(issue: Issue) -> None:
    profile = load_profile(CUSTOM_TOML, known=builtin_profiles())
    cert = with_raw_extension(issue([("CN", "x")]), "1.3.6.1.4.1.99999.2", "李四".encode())
    ident = extract_identity(cert, profile)
    assert ident.entity_type == "natural_person"
    assert ident.name == "李四"  # the person name precedes the CN rule of subject-dn


def test_json_profile_and_first_rule_wins(issue: Issue) -> None:
    doc = {
        "name": "two-sources",
        "rules": [
            {"subject": "OU", "field": "credit_code", "pattern": r"^USCC:(\w+)$"},
            {"subject_oid": "2.5.4.5", "field": "credit_code"},
        ],
    }
    profile = load_profile(json.dumps(doc), "json")
    cert = issue([("OU", f"USCC:{USCC_2}"), ("serialNumber", USCC), ("CN", "x")])
    ident = extract_identity(cert, profile)
    assert ident.credit_code == USCC_2
    assert ident.matched_rules == ("two-sources/subject:OU:credit_code",)
    cert2 = issue([("OU", "other"), ("serialNumber", USCC), ("CN", "x")])
    assert extract_identity(cert2, profile).credit_code == USCC


def test_as_dict_is_json(issue: Issue) -> None:
    ident = _read(issue, LEGAL_SUBJECT, string_extension("1.2.156.10260.4.4", USCC[:-1] + "0"))
    out = json.loads(json.dumps(ident.as_dict(), ensure_ascii=False))
    assert out["entity_type"] == "unknown"
    assert out["rejected"][0]["field"] == "credit_code"
    assert out["profile"] == "default"


def test_builtin_profiles() -> None:
    profiles = builtin_profiles()
    assert {"gmt0015-2012", "gmt0015-2023", "rsa-1.2.86.11.7", "subject-dn", "default"} <= set(
        profiles
    )
    default = profiles["default"]
    assert default.rules == tuple(r for n in default.extends for r in profiles[n].rules)
    profiles.clear()  # a fresh dict each time
    assert "default" in builtin_profiles()


def test_non_code_ou_is_not_reported_but_bad_serial_number_is(issue: Issue) -> None:
    bad = USCC[:-1] + "0"
    ident = _read(issue, [("OU", "研发部"), ("serialNumber", bad), ("CN", "王五")])
    assert ident.credit_code is None
    assert [(r.rule, r.value) for r in ident.rejected] == [("subject-dn/serial-number", bad)]
    assert "ID number" in ident.rejected[0].reason

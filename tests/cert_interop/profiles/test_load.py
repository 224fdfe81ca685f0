"""Profile documents: good ones load, bad ones give MalformedInput saying what is wrong."""

from __future__ import annotations

import json

import pytest

from cert_interop.errors import MalformedInput
from cert_interop.profiles import FIELDS, builtin_profiles, load_profile
from cert_interop.profiles.builtin import BUILTIN_DOCUMENTS

RULE = '[[rules]]\nextension = "1.2.3.4"\nfield = "credit_code"\n'


def test_builtin_documents_load_standalone_or_with_their_bases() -> None:
    known = builtin_profiles()
    for doc in BUILTIN_DOCUMENTS:
        profile = load_profile(doc, known=known)
        assert profile == known[profile.name]
        assert profile.description


def test_toml_and_json_give_the_same_profile() -> None:
    doc = {
        "name": "x",
        "description": "d",
        "rules": [
            {
                "id": "cn",
                "subject": "cn",
                "pattern": "^041@(?P<value>[^@]+)@",
                "strip_prefix": "N",
                "field": "identifier",
                "entity_type": "legal_person",
            }
        ],
    }
    toml = """
name = "x"
description = "d"
[[rules]]
id = "cn"
subject = "cn"
pattern = '^041@(?P<value>[^@]+)@'
strip_prefix = "N"
field = "identifier"
entity_type = "legal_person"
"""
    a, b = load_profile(toml), load_profile(json.dumps(doc), "json")
    assert a == b
    [rule] = a.rules
    assert (rule.source, rule.oid, rule.strip_prefix) == ("subject", "2.5.4.3", ("N",))
    assert rule.qualified_id == "x/cn"


BAD: list[tuple[str, str, str]] = [
    ("toml", "name = ", "not valid TOML"),
    ("json", "{", "not valid JSON"),
    ("json", "[]", "table/object at the top level"),
    ("json", "[" * 100_000, "not valid JSON"),
    ("yaml", "name: x", "format must be 'toml' or 'json'"),
    ("toml", 'name = "x"\ncolour = 1\n' + RULE, "unknown key(s) ['colour']"),
    ("toml", RULE, "missing 'name'"),
    ("toml", 'name = "a b"\n' + RULE, "must match"),
    ("toml", "name = 5\n" + RULE, "profile name must be a string"),
    ("toml", 'name = "x"\n', "has no rules"),
    ("toml", 'name = "x"\nrules = 3\n', "rules must be a list"),
    ("toml", 'name = "x"\nrules = [3]\n', "rule 1 must be a table"),
    ("toml", 'name = "x"\n' + RULE + "oid = 1\n", "rule 1: unknown key(s) ['oid']"),
    ("toml", 'name = "x"\n[[rules]]\nfield = "credit_code"\n', "needs exactly one of"),
    (
        "toml",
        'name = "x"\n[[rules]]\nsubject = "CN"\nextension = "1.2.3"\nfield = "name"\n',
        "needs exactly one of",
    ),
    ("toml", 'name = "x"\n[[rules]]\nextension = "1.2.3"\n', "missing 'field'"),
    (
        "toml",
        'name = "x"\n[[rules]]\nextension = "1.2.3"\nfield = "iban"\n',
        "unknown field 'iban'",
    ),
    ("toml", 'name = "x"\n[[rules]]\nextension = "id-ce"\nfield = "name"\n', "dotted OID"),
    ("toml", 'name = "x"\n[[rules]]\nsubject_oid = "2.5.4."\nfield = "name"\n', "dotted OID"),
    ("toml", 'name = "x"\n[[rules]]\nsubject = "Colour"\nfield = "name"\n', "'Colour'"),
    ("toml", 'name = "x"\n' + RULE + "pattern = '(['\n", "bad regex '(['"),
    ("toml", 'name = "x"\n' + RULE + "pattern = '^041@'\n", "it has 0"),
    ("toml", 'name = "x"\n' + RULE + "pattern = '(a)(b)'\n", "it has 2"),
    ("toml", 'name = "x"\n' + RULE + "pattern = ''\n", "pattern must have"),
    ("toml", 'name = "x"\n' + RULE + "strip_prefix = ['']\n", "strip_prefix"),
    ("toml", 'name = "x"\n' + RULE + "strip_prefix = 1\n", "strip_prefix"),
    ("toml", 'name = "x"\n' + RULE + 'entity_type = "robot"\n', "entity_type must be"),
    ("toml", 'name = "x"\n' + RULE + 'id = ""\n', "id must not be empty"),
    ("toml", 'name = "x"\n' + RULE + RULE, "duplicate rule id(s)"),
    ("toml", 'name = "x"\nextends = ["nope"]\n', "extends unknown profile 'nope'"),
    ("toml", 'name = "x"\nextends = "default"\n', "extends must be a list"),
    ("toml", 'name = "x"\nextends = ["x"]\n', "cannot extend itself"),
    ("toml", 'name = "x"\ndescription = 1\n' + RULE, "description must be a string"),
]


@pytest.mark.parametrize(("fmt", "text", "message"), BAD)
def test_bad_documents(fmt: str, text: str, message: str) -> None:
    with pytest.raises(MalformedInput) as info:
        load_profile(text, fmt, known=builtin_profiles())
    assert message in str(info.value)


def test_error_names_the_rule_and_the_choices() -> None:
    text = 'name = "ca-x"\n' + RULE + '[[rules]]\nsubject = "OU"\nfield = "uscc"\n'
    with pytest.raises(MalformedInput) as info:
        load_profile(text)
    msg = str(info.value)
    assert msg.startswith("profile 'ca-x' rule 2: unknown field 'uscc'")
    assert all(f in msg for f in FIELDS)


def test_not_text() -> None:
    with pytest.raises(MalformedInput):
        load_profile(b"name = 'x'")  # type: ignore[arg-type]

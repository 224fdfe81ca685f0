"""Whatever a certificate or a profile document holds, only CertInteropError comes out."""

from __future__ import annotations

import contextlib
import dataclasses
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cert_interop.errors import CertInteropError, MalformedInput
from cert_interop.profiles import Profile, builtin_profiles, extract_identity, load_profile
from cert_interop.x509 import Extension, ExtensionSpec, Name, NameAttribute

from .conftest import Issue

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PROFILES = list(builtin_profiles().values())
EXT_OIDS = sorted({r.oid for p in PROFILES for r in p.rules if r.source == "extension"})
SUBJECT = ["CN", "OU", "O", "serialNumber", "organizationIdentifier"]
# values that look like what the rules want, mixed with noise
codey = st.sampled_from(
    ["91350100M000100Y43", "100006485", "11010519491231002X", "041@", "@", "N", "-", " "]
)
text = st.lists(st.one_of(codey, st.text(max_size=30)), max_size=6).map("".join)


def _subject_attr(short: str, oid: str, value: str) -> NameAttribute:
    return NameAttribute(oid=oid, name=short, value=value)


_OIDS = {
    "CN": "2.5.4.3",
    "OU": "2.5.4.11",
    "O": "2.5.4.10",
    "serialNumber": "2.5.4.5",
    "organizationIdentifier": "2.5.4.97",
}


@FUZZ
@given(
    attrs=st.lists(st.tuples(st.sampled_from(SUBJECT), text), max_size=6),
    exts=st.lists(
        st.tuples(st.sampled_from(EXT_OIDS), st.binary(max_size=64), st.none() | text),
        max_size=6,
        unique_by=lambda e: e[0],
    ),
    profile=st.sampled_from(PROFILES),
)
def test_extract_never_raises_on_parsed_contents(
    issue: Issue,
    attrs: list[tuple[str, str]],
    exts: list[tuple[str, bytes, str | None]],
    profile: Profile,
) -> None:
    base = issue([("CN", "base")])
    cert = dataclasses.replace(
        base,
        subject=Name(tuple(_subject_attr(a, _OIDS[a], v) for a, v in attrs), b""),
        extensions=tuple(Extension(o, False, raw, t) for o, raw, t in exts),
    )
    ident = extract_identity(cert, profile)
    json.dumps(ident.as_dict())


@settings(max_examples=60, deadline=None)
@given(
    attrs=st.lists(st.tuples(st.sampled_from(SUBJECT), text), min_size=1, max_size=4),
    ext=st.tuples(st.sampled_from(EXT_OIDS), st.binary(max_size=40)),
    alg=st.sampled_from(["sm2", "ec"]),
)
def test_built_certificates(
    issue: Issue, attrs: list[tuple[str, str]], ext: tuple[str, bytes], alg: str
) -> None:
    try:
        cert = issue(attrs, [ExtensionSpec(*ext)], alg)
    except MalformedInput:
        return  # unencodable subject or an extension value the parser refuses
    with contextlib.suppress(CertInteropError):
        extract_identity(cert, builtin_profiles()["default"])


doc_values = st.recursive(
    st.none() | st.booleans() | st.integers() | text | st.sampled_from(["CN", "1.2.3", "(x)"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
rule_keys = st.sampled_from(
    ["id", "extension", "subject", "subject_oid", "pattern", "strip_prefix", "field", "entity_type"]
)


@FUZZ
@given(
    name=st.one_of(st.just("x"), doc_values),
    rules=st.lists(st.dictionaries(rule_keys, doc_values, max_size=5), max_size=3),
    extra=st.dictionaries(st.sampled_from(["extends", "description", "other"]), doc_values),
)
def test_load_profile_only_raises_malformed_input(
    name: object, rules: list[dict[str, object]], extra: dict[str, object]
) -> None:
    doc = {"name": name, "rules": rules, **extra}
    with contextlib.suppress(MalformedInput):
        load_profile(json.dumps(doc), "json", known=builtin_profiles())


@FUZZ
@given(st.text(max_size=200))
def test_load_profile_random_text(doc: str) -> None:
    for fmt in ("toml", "json"):
        with contextlib.suppress(MalformedInput):
            load_profile(doc, fmt)

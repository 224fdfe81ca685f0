"""Bundles and CA references, without a database (hypothesis for the fingerprint reader)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cert_interop.errors import MalformedInput
from cert_interop.truststore import normalize_fingerprint, read_certificates
from cert_interop.truststore.inputs import clean_name, is_uuid, looks_like_reference

from .conftest import Made, bundle

HEX64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@given(HEX64, st.sampled_from(["", ":", " "]), st.booleans(), st.sampled_from(["", "sha256:"]))
def test_fingerprint_written_any_common_way_reads_back(
    fp: str, sep: str, upper: bool, prefix: str
) -> None:
    pairs = [fp[i : i + 2] for i in range(0, 64, 2)]
    text = prefix + sep.join(pairs)
    text = text.upper() if upper else text
    assert normalize_fingerprint(f"  {text} ") == fp


@given(HEX64, st.integers(min_value=8, max_value=64))
def test_prefixes_of_eight_digits_or_more_are_references(fp: str, n: int) -> None:
    assert normalize_fingerprint(fp[:n]) == fp[:n]
    assert looks_like_reference(fp[:n])


@given(HEX64, st.integers(min_value=0, max_value=7))
def test_short_prefixes_are_not(fp: str, n: int) -> None:
    assert normalize_fingerprint(fp[:n]) is None


@given(st.text(max_size=80))
def test_normalize_never_raises_and_returns_hex(text: str) -> None:
    value = normalize_fingerprint(text)
    assert value is None or (8 <= len(value) <= 64 and set(value) <= set("0123456789abcdef"))


@given(st.uuids())
def test_uuids(value: object) -> None:
    assert is_uuid(str(value)) and is_uuid(str(value).upper())
    assert looks_like_reference(str(value))


@pytest.mark.parametrize("name", ["CFCA SM2 OCA1", "贵州CA", "Root 2024", "deadbee"])
def test_ordinary_names_are_not_references(name: str) -> None:
    assert not looks_like_reference(name)


@given(st.text(max_size=60))
def test_clean_name_has_no_control_characters_or_outer_spaces(text: str) -> None:
    cleaned = clean_name(text)
    assert cleaned == cleaned.strip()
    assert not any(ch in cleaned for ch in "\n\r\t\x00\x1b")


def test_bundle_with_comments_keeps_order(pki: dict[str, Made]) -> None:
    made = pki["sm2"]
    data = (
        b"subject=CN = root\nissuer=CN = root\n"
        + made.h.root.pem()
        + b"\n# intermediate\r\n"
        + made.h.intermediate.pem().replace(b"\n", b"\r\n")
    )
    certs = read_certificates(data)
    assert [c.der for c in certs] == [made.h.root.der, made.h.intermediate.der]
    assert [c.der for c in read_certificates(made.h.root.der)] == [made.h.root.der]


def test_bundle_refusals(pki: dict[str, Made]) -> None:
    made = pki["ec"]
    with pytest.raises(MalformedInput, match="PEM block #2 is a X509 CRL block"):
        read_certificates(made.h.root.pem() + made.h.crl.pem())
    with pytest.raises(MalformedInput, match="at most 64"):
        read_certificates(bundle(*[made.h.root] * 65))
    with pytest.raises(MalformedInput, match="larger than"):
        read_certificates(b"0" * (5 << 20))
    with pytest.raises(MalformedInput, match="p7b"):
        read_certificates(bytes.fromhex("3082010006092a864886f70d010702") + b"\x00" * 20)
    with pytest.raises(MalformedInput, match="must be bytes"):
        read_certificates("text")  # type: ignore[arg-type]

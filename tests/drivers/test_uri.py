"""Token URI parsing (RFC 7512 ``pkcs11:`` and ``file:``) and the SM2 mechanism settings."""

from __future__ import annotations

import contextlib
import string
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidTokenUri, TokenError, open_token, parse_token_uri
from drivers.pkcs11 import Sm2Mechanisms, parse_sm2_mechanisms
from drivers.uri import FileTokenUri, Pkcs11Uri

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"


def test_rfc7512_form() -> None:
    parsed = parse_token_uri(
        "pkcs11:token=Huren;manufacturer=SoftHSM%20project;serial=3ca21811b65b6e9a;"
        "object=platform;type=private;id=%01%a0?module-path=/usr/lib/softhsm/libsofthsm2.so"
        "&pin-source=file:/run/secrets/pin"
    )
    assert parsed == Pkcs11Uri(
        token="Huren",
        manufacturer="SoftHSM project",
        serial="3ca21811b65b6e9a",
        object="platform",
        type="private",
        id=b"\x01\xa0",
        module_path=SOFTHSM,
        pin_source=Path("/run/secrets/pin"),
    )


def test_query_attributes_in_the_path_are_accepted() -> None:
    parsed = parse_token_uri(f"pkcs11:token=Huren;object=platform;module-path={SOFTHSM}")
    assert isinstance(parsed, Pkcs11Uri)
    assert (parsed.token, parsed.object, parsed.module_path) == ("Huren", "platform", SOFTHSM)


def test_chinese_label_and_other_attributes() -> None:
    label = quote("开标平台", safe="")
    parsed = parse_token_uri(
        f"PKCS11:token={label};slot-id=42;library-manufacturer=SoftHSM;model=SoftHSM%20v2"
        "?module-name=softhsm2&pin-value=1234"
    )
    assert isinstance(parsed, Pkcs11Uri)
    assert parsed.token == "开标平台" and parsed.slot_id == 42
    assert parsed.library_manufacturer == "SoftHSM" and parsed.model == "SoftHSM v2"
    assert parsed.module_name == "softhsm2" and parsed.pin_value == "1234"
    assert "1234" not in repr(parsed)  # never printed with the dataclass


def test_empty_pkcs11_uri_means_any_token() -> None:
    assert parse_token_uri("pkcs11:") == Pkcs11Uri()


def test_sm2_vendor_attributes() -> None:
    parsed = parse_token_uri(
        "pkcs11:token=GM3000?x-sm2-sign=0x80000A01&x-sm2-decrypt=2147486211&x-sm2-cipher=asn1"
    )
    assert isinstance(parsed, Pkcs11Uri)
    assert parse_sm2_mechanisms(parsed.sm2) == Sm2Mechanisms(
        sign=0x80000A01, decrypt=2147486211, cipher_form="asn1"
    )


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("http://x", "scheme"),
        ("Huren", "scheme"),
        ("pkcs11:token=a;token=b", "twice"),
        ("pkcs11:token=a;tokn=b", "unknown attribute 'tokn'"),
        ("pkcs11:token=a;;object=b", "empty path attribute"),
        ("pkcs11:token", "no '='"),
        ("pkcs11:token=", "empty"),
        ("pkcs11:token=a%2", "percent escape"),
        ("pkcs11:token=a%zz", "percent escape"),
        ("pkcs11:token=a%ff", "UTF-8"),
        ("pkcs11:token=a b", "percent-encoded"),
        ("pkcs11:token=a#frag", "fragment"),
        ("pkcs11:type=public", "type="),
        ("pkcs11:slot-id=x1", "slot-id"),
        ("pkcs11:library-version=1", "not supported"),
        ("pkcs11:?token=a", "belongs in the path"),
        ("pkcs11:?module-path=relative/lib.so", "absolute"),
        ("pkcs11:?module-name=/usr/lib/x.so", "not a path"),
        ("pkcs11:?pin-source=|/bin/cat", "command"),
        ("pkcs11:?pin-source=relative", "file:PATH"),
        ("pkcs11:?pin-source=file://otherhost/pin", "local"),
        ("pkcs11:?pin-source=file:/a&pin-value=1", "both"),
        ("pkcs11:?x-sm2-sign=0xZZ", "SM2"),
        ("pkcs11:?x-vendor=1", "unknown attribute"),
        ("file:", "without a path"),
        ("file:key.pem", "needs its certificate"),
        ("file:a.p12?cert=c.pem", "drop cert"),
        ("file:a.p12?pin=1", "unknown attribute"),
        ("file:key.pem?cert=a&cert=b", "twice"),
        ("file://server/share/a.p12", "local"),
    ],
)
def test_invalid(uri: str, fragment: str) -> None:
    with pytest.raises(InvalidTokenUri) as err:
        parse_token_uri(uri)
    assert fragment in str(err.value)
    assert err.value.message_zh
    assert isinstance(err.value, ValueError)


def test_pin_value_never_echoed() -> None:
    for uri in ("pkcs11:?pin-value=12 34", "pkcs11:?pin-value=s3cr%zz"):
        with pytest.raises(InvalidTokenUri) as err:
            parse_token_uri(uri)
        assert "12 34" not in str(err.value) and "s3cr" not in str(err.value)


def test_file_forms(tmp_path: Path) -> None:
    assert parse_token_uri("file:/etc/huren/platform.p12") == FileTokenUri(
        Path("/etc/huren/platform.p12"), None
    )
    assert parse_token_uri("file:///etc/huren/PLATFORM.PFX") == FileTokenUri(
        Path("/etc/huren/PLATFORM.PFX"), None
    )
    parsed = parse_token_uri(
        "file:keys/%E5%BC%80%E6%A0%87.key?cert=keys/bid.pem&pin-source=file:///run/pin"
    )
    assert parsed == FileTokenUri(Path("keys/开标.key"), Path("keys/bid.pem"), Path("/run/pin"))
    assert isinstance(parsed, FileTokenUri) and parsed.kind == "pkcs8"


def test_open_token_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidTokenUri, match="pin-source file"):
        open_token(f"file:{tmp_path}/a.p12?pin-source=file:{tmp_path}/missing")
    with pytest.raises(TokenError):  # the file itself is missing
        open_token(f"file:{tmp_path}/a.p12")


# --- property tests --------------------------------------------------------------------------

_TEXT_ATTRS = ("token", "manufacturer", "serial", "model", "object")
_values = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=20,
)


@given(
    attrs=st.dictionaries(st.sampled_from(_TEXT_ATTRS), _values, max_size=5),
    key_id=st.one_of(st.none(), st.binary(min_size=1, max_size=16)),
    slot_id=st.one_of(st.none(), st.integers(min_value=0, max_value=2**32)),
    pin=st.one_of(st.none(), _values),
)
def test_round_trip(
    attrs: dict[str, str], key_id: bytes | None, slot_id: int | None, pin: str | None
) -> None:
    """Whatever a caller percent-encodes comes back as it was."""
    path = [f"{name}={quote(value, safe='')}" for name, value in attrs.items()]
    if key_id is not None:
        path.append("id=" + "".join(f"%{b:02x}" for b in key_id))
    if slot_id is not None:
        path.append(f"slot-id={slot_id}")
    query = [f"module-path={SOFTHSM}"]
    if pin is not None:
        query.append(f"pin-value={quote(pin, safe='')}")
    parsed = parse_token_uri("pkcs11:" + ";".join(path) + "?" + "&".join(query))
    assert isinstance(parsed, Pkcs11Uri)
    for name, value in attrs.items():
        assert getattr(parsed, name) == value
    assert (parsed.id, parsed.slot_id, parsed.pin_value) == (key_id, slot_id, pin)
    assert parsed.module_path == SOFTHSM


@given(st.text(max_size=200))
def test_anything_parses_or_fails_typed(text: str) -> None:
    for uri in (text, "pkcs11:" + text, "file:" + text):
        with contextlib.suppress(InvalidTokenUri):
            parse_token_uri(uri)


@given(
    st.text(alphabet=string.printable, min_size=1, max_size=30).filter(
        lambda s: (
            any(c not in string.ascii_letters + string.digits + "-._~%" for c in s)
            and "#" not in s
            and "&" not in s
        )
    )
)
def test_bad_pin_value_not_echoed(pin: str) -> None:
    try:
        parse_token_uri("pkcs11:?pin-value=" + pin)
    except InvalidTokenUri as err:
        if len(pin) > 3:
            assert pin not in str(err) and pin not in err.message_zh


@given(st.text(max_size=80))
def test_sm2_settings_parse_or_fail_typed(text: str) -> None:
    with contextlib.suppress(TokenError):
        parse_sm2_mechanisms(text)


# --- SM2 settings ----------------------------------------------------------------------------


def test_sm2_settings() -> None:
    assert parse_sm2_mechanisms("") == Sm2Mechanisms()
    assert parse_sm2_mechanisms(
        "sign=0x80000A01, sign-sm3=0x80000a02,decrypt=2147486211,key-type=0x80000001,"
        "cipher=C1C2C3,signature=der"
    ) == Sm2Mechanisms(
        sign=0x80000A01,
        sign_sm3=0x80000A02,
        decrypt=2147486211,
        key_type=0x80000001,
        cipher_form="c1c2c3",
        signature_form="der",
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("sign", "needs a value"),
        ("sign=", "needs a value"),
        ("sign=1,sign=2", "twice"),
        ("verify=1", "unknown key"),
        ("sign=0x1G", "not a number"),
        ("sign=-1", "out of range"),
        ("sign=0x100000000", "out of range"),
        ("sign=1,,decrypt=2", "empty item"),
        ("cipher=c2c1c3", "cipher"),
        ("signature=raw-le", "signature"),
    ],
)
def test_sm2_settings_invalid(text: str, fragment: str) -> None:
    with pytest.raises(TokenError, match=fragment):
        parse_sm2_mechanisms(text)


def test_skf_uris_say_what_to_use_instead() -> None:
    """SKF (GM/T 0016) tokens are recognised and refused with a way forward, not 'bad scheme'."""
    with pytest.raises(InvalidTokenUri) as err:
        parse_token_uri("skf:device=ePass3000GM;application=DEFAULT")
    assert "SKF (GM/T 0016)" in str(err.value) and "module-path" in str(err.value)
    assert "PKCS#11" in err.value.message_zh

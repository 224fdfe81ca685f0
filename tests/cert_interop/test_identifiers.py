"""Identifier checks: published examples, every reason code, and check-character properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cert_interop import identifiers
from cert_interop.identifiers import (
    ENTITY_TYPES,
    ID_TYPES,
    id_number_problem,
    is_chinese_passport_number,
    mask_id_number,
    mask_phone,
    normalize_code,
    normalize_name,
    normalize_phone,
    phone_problem,
    uscc_problem,
)
from cert_interop.profiles import checks

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# --- independent generators (computed from the standards, not from the module) ----------------


def uscc_check(body: str) -> str:
    """GB 32100-2015: C18 = 31 - (sum of value * 3**i mod 31) mod 31."""
    total = sum(USCC_ALPHABET.index(ch) * pow(3, i, 31) for i, ch in enumerate(body))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_check(body: str) -> str:
    """GB 11714-1997: C9 = 11 - (sum of value * weight) mod 11, 10 -> X, 11 -> 0."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(ORG_ALPHABET.index(ch) * w for ch, w in zip(body, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def id_check(body: str) -> str:
    """ISO 7064 MOD 11-2: the check value makes sum(a_i * 2**(i-1)) ≡ 1 (mod 11)."""
    total = sum(int(ch) * pow(2, 17 - i, 11) for i, ch in enumerate(body))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_uscc(head: str, region: str, org_body: str) -> str:
    body = head + region + org_body + org_check(org_body)
    return body + uscc_check(body)


# GB 32100 example, plus real codes from public documentation (see conftest of profiles/)
PUBLISHED_USCC = ["91350100M000100Y43", "91110000100006485K", "91230184MA1BUFLT44"]
# GB 11643-1999 annex example (its other example, 440524188001010014, is born 1880: see below)
PUBLISHED_ID = ["11010519491231002X"]

# GB/T 2260 provinces, autonomous regions and municipalities (first digit 1-6)
PROVINCES = [str(n) for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47))]
PROVINCES += [str(n) for n in (*range(50, 55), *range(61, 66))]

uscc_codes = st.builds(
    make_uscc,
    st.text(USCC_ALPHABET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(USCC_ALPHABET, min_size=8, max_size=8),
)

regions = st.one_of(
    st.sampled_from(["810000", "820000", "830000"]),
    st.builds(
        lambda p, c, d: p + c + d,
        st.sampled_from(PROVINCES),
        st.integers(1, 99).map(lambda n: f"{n:02d}"),
        st.integers(0, 99).map(lambda n: f"{n:02d}"),
    ),
)
birth_dates = st.dates(date(1900, 1, 1), date.today()).map(lambda d: d.strftime("%Y%m%d"))
sequences = st.integers(0, 999).map(lambda n: f"{n:03d}")
resident_ids = st.builds(
    lambda r, b, s: r + b + s + id_check(r + b + s), regions, birth_dates, sequences
)
fpr_2023 = st.text("0123456789", min_size=16, max_size=16).map(
    lambda rest: "9" + rest + id_check("9" + rest)
)


# --- published and hand-made examples ---------------------------------------------------------


@pytest.mark.parametrize("code", PUBLISHED_USCC)
def test_published_uscc_valid(code: str) -> None:
    assert uscc_problem(code) is None
    assert identifiers.uscc_is_valid(code)
    assert identifiers.org_code_is_valid(code[8:17])


@pytest.mark.parametrize("number", PUBLISHED_ID)
def test_published_resident_id_valid(number: str) -> None:
    assert id_number_problem("resident_id", number) is None
    assert identifiers.id_number_is_valid(number)


def test_published_1880_example_refused_for_registration() -> None:
    """The standard's second example has a correct check but predates the 1900 floor."""
    assert identifiers.id_number_is_valid("440524188001010014")
    assert id_number_problem("resident_id", "440524188001010014") == "birth_date"


@pytest.mark.parametrize(
    ("id_type", "value"),
    [
        ("resident_id", "11010519491231002x"),  # lower-case x
        ("resident_id", "１１０１０５ １９４９１２３１ ００２Ｘ"),  # full-width with spaces
        ("resident_id", "810000199408230021"),  # 港澳台居民居住证 (Hong Kong region)
        ("resident_id", "82000020000101001" + id_check("82000020000101001")),
        ("resident_id", "83000019800101123" + id_check("83000019800101123")),
        ("passport", "E12345678"),
        ("passport", "EF1260892"),
        ("passport", "G12345678"),
        ("passport", "C01X00T47"),  # German style
        ("passport", "123456789"),  # US style
        ("hk_macao_permit", "H12345678"),
        ("hk_macao_permit", "M1234567801"),  # 2010 rule: lifelong 8 + renewal count 2
        ("taiwan_permit", "05616820"),
        ("taiwan_permit", "0561682001"),
        ("taiwan_permit", "0561682001(D)"),
        ("taiwan_permit", "0561682001（D）"),
        ("foreign_permanent_resident", "USA310179110001"),
        ("foreign_permanent_resident", "91100084019800101" + id_check("91100084019800101")),
    ],
)
def test_accepted_id_numbers(id_type: str, value: str) -> None:
    assert id_number_problem(id_type, value) is None


def test_checks_module_is_a_reexport() -> None:
    assert checks.uscc_is_valid is identifiers.uscc_is_valid
    assert checks.org_code_is_valid is identifiers.org_code_is_valid
    assert checks.id_number_is_valid is identifiers.id_number_is_valid


def test_constants() -> None:
    assert ENTITY_TYPES == ("legal_person", "natural_person", "public_institution", "other_org")
    assert ID_TYPES == (
        "resident_id",
        "passport",
        "hk_macao_permit",
        "taiwan_permit",
        "foreign_permanent_resident",
    )


# --- every reason code ------------------------------------------------------------------------


def _uscc_with_bad_org_check() -> str:
    org_body = "M000100Y"
    wrong = next(c for c in "0123456789X" if c != org_check(org_body))
    body = "91350100" + org_body + wrong
    return body + uscc_check(body)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "required"),
        (" \u3000\t", "required"),
        ("9135010", "length"),
        ("91350100M000100Y430", "length"),
        ("91350100M000100I43", "charset"),  # I is not a code character
        ("91AB0100M000100Y43", "charset"),  # region must be digits
        ("91350100M000100Y44", "check_character"),
        (_uscc_with_bad_org_check(), "organization_code"),
    ],
)
def test_uscc_reasons(value: str, reason: str) -> None:
    assert uscc_problem(value) == reason


def _wrong_check(body: str) -> str:
    return body + next(c for c in "0123456789X" if c != id_check(body))


def _rid(region: str, born: str, seq: str = "123") -> str:
    body = region + born + seq
    return body + id_check(body)


TOMORROW = (date.today() + timedelta(days=1)).strftime("%Y%m%d")


@pytest.mark.parametrize(
    ("id_type", "value", "reason"),
    [
        ("driving_licence", "11010519491231002X", "unknown_id_type"),
        ("resident_id", "", "required"),
        ("resident_id", "1101051949123100", "length"),
        ("resident_id", "11010519491231002Y", "format"),
        ("resident_id", "1101051949123100XX", "format"),
        ("resident_id", _rid("110105", "19490230"), "birth_date"),  # no 30 February
        ("resident_id", _rid("110105", "18991231"), "birth_date"),  # before 1900
        ("resident_id", _rid("110105", TOMORROW), "birth_date"),  # in the future
        ("resident_id", _rid("990105", "19491231"), "region"),  # no province 99
        ("resident_id", _rid("110005", "19491231"), "region"),  # prefecture 00
        ("resident_id", _rid("810100", "19491231"), "region"),  # HK only as 810000
        ("resident_id", "11010519491231002" + "1", "check_character"),
        ("passport", "E123", "length"),
        ("passport", "E" * 18, "length"),
        ("passport", "E1234-5678", "format"),
        ("hk_macao_permit", "H1234567", "length"),
        ("hk_macao_permit", "X12345678", "format"),
        ("taiwan_permit", "1234567", "length"),
        ("taiwan_permit", "1234567A", "format"),
        ("foreign_permanent_resident", "USA31017911000", "length"),
        ("foreign_permanent_resident", "US1310179110001", "format"),
        ("foreign_permanent_resident", "81100084019800101" + "0", "format"),  # must start with 9
        ("foreign_permanent_resident", _wrong_check("91100084019800101"), "check_character"),
    ],
)
def test_id_number_reasons(id_type: str, value: str, reason: str) -> None:
    assert id_number_problem(id_type, value) == reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "required"),
        ("+86 ", "required"),
        ("12812345678", "format"),  # second digit 2
        ("1381234567", "format"),
        ("138123456789", "format"),
        ("0851-12345678", "format"),  # landline
    ],
)
def test_phone_reasons(value: str, reason: str) -> None:
    assert phone_problem(value) == reason


# --- phones, masks, names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "8613812345678",
        "１３８１２３４５６７８",
    ],
)
def test_phone_forms(value: str) -> None:
    assert phone_problem(value) is None
    assert normalize_phone(value) == "13812345678"
    assert mask_phone(value) == "138****5678"


def test_masks() -> None:
    assert mask_id_number("52010119900101123x") == "5201**********123X"
    assert mask_id_number("E12345678") == "E1*****78"
    assert mask_id_number("ABC") == "***"
    assert mask_id_number("") == ""


def test_normalize() -> None:
    assert normalize_code(" ９１３５０１００ｍ000100y43\u200b ") == "91350100M000100Y43"
    assert normalize_name("某某（贵州）\u3000有限 公司") == normalize_name("某某(贵州)有限公司")
    assert normalize_name("某某(贵州)有限公司") == "某某(贵州)有限公司"


def test_chinese_passport_rule() -> None:
    for good in ("E12345678", "EA1234567", "g12345678"):
        assert is_chinese_passport_number(good)
    for bad in ("EI1234567", "E1234567", "P1234567", "C01X00T47"):
        assert not is_chinese_passport_number(bad)


# --- properties -------------------------------------------------------------------------------

# Replacement characters: code characters, excluded letters, lower case, full-width, whitespace
replacements = st.one_of(
    st.sampled_from(ORG_ALPHABET + "abcxyz-*  \u3000"),
    st.characters(min_codepoint=0xFF10, max_codepoint=0xFF5A),
    st.characters(),
)


def _substituted(code: str, index: int, ch: str) -> str:
    i = index % len(code)
    mutated = code[:i] + ch + code[i + 1 :]
    # The only exception: a replacement that normalises back to the same character
    # (case, full width) is not a change of the code. Every other one must be refused.
    assume(normalize_code(mutated) != code)
    return mutated


@given(uscc_codes, st.integers(0, 17), replacements)
def test_uscc_single_substitution_refused(code: str, index: int, ch: str) -> None:
    """Mod 31 with weights 3**i (never 0 mod the prime 31) catches every substitution."""
    assert uscc_problem(code) is None
    assert uscc_problem(_substituted(code, index, ch)) is not None


@given(resident_ids, st.integers(0, 17), replacements)
def test_resident_id_single_substitution_refused(code: str, index: int, ch: str) -> None:
    """MOD 11-2 weights 2**k are never 0 mod 11 and digits differ by < 11: all caught."""
    assert id_number_problem("resident_id", code) is None
    assert id_number_problem("resident_id", _substituted(code, index, ch)) is not None


@given(fpr_2023, st.integers(0, 17), replacements)
def test_fpr_2023_single_substitution_refused(code: str, index: int, ch: str) -> None:
    assert id_number_problem("foreign_permanent_resident", code) is None
    assert id_number_problem("foreign_permanent_resident", _substituted(code, index, ch))


@given(uscc_codes, st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_uscc_exhaustive_alphabet_substitution(code: str, index: int, ch: str) -> None:
    assume(code[index] != ch)
    assert not identifiers.uscc_is_valid(code[:index] + ch + code[index + 1 :])


@given(st.text())
def test_text_functions_never_raise(value: str) -> None:
    normalize_code(value)
    normalize_name(value)
    normalize_phone(value)
    uscc_problem(value)
    phone_problem(value)
    for id_type in (*ID_TYPES, "nonsense"):
        id_number_problem(id_type, value)


@given(st.text())
def test_masks_reveal_at_most_eight(value: str) -> None:
    for masked in (mask_id_number(value), mask_phone(value)):
        assert sum(ch != "*" for ch in masked) <= 8
    code = normalize_code(value)
    masked = mask_id_number(value)
    assert len(masked) == len(code)
    # at least half hidden, and every shown character is the true one at its place
    assert sum(ch == "*" for ch in masked) >= len(code) / 2
    assert all(ch in ("*", code[i]) for i, ch in enumerate(masked))


@given(uscc_codes)
def test_generated_uscc_accepted(code: str) -> None:
    assert uscc_problem(code) is None
    assert uscc_problem(code.lower()) is None
    assert identifiers.uscc_is_valid(code)


@given(resident_ids)
def test_generated_resident_ids_accepted(code: str) -> None:
    assert id_number_problem("resident_id", code) is None
    assert identifiers.id_number_is_valid(code)


@given(fpr_2023)
def test_generated_fpr_2023_accepted(code: str) -> None:
    assert id_number_problem("foreign_permanent_resident", code) is None


@given(
    st.sampled_from(ID_TYPES[1:]).flatmap(
        lambda t: st.tuples(
            st.just(t),
            st.from_regex(
                {
                    "passport": r"\A(E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8}|[A-Z0-9]{5,17})\Z",
                    "hk_macao_permit": r"\A[HM][0-9]{8}([0-9]{2})?\Z",
                    "taiwan_permit": r"\A[0-9]{8}([0-9]{2}(\([A-Z0-9]\))?)?\Z",
                    "foreign_permanent_resident": r"\A[A-Z]{3}[0-9]{12}\Z",
                }[t]
            ),
        )
    )
)
def test_generated_shapes_accepted(case: tuple[str, str]) -> None:
    id_type, value = case
    assert id_number_problem(id_type, value) is None


@given(st.from_regex(r"\A1[3-9][0-9]{9}\Z"), st.sampled_from(["", "+86", "86", "+86 "]))
def test_generated_phones_accepted(phone: str, prefix: str) -> None:
    spaced = f"{prefix}{phone[:3]} {phone[3:7]}-{phone[7:]}"
    assert phone_problem(spaced) is None
    assert normalize_phone(spaced) == phone
    assert mask_phone(spaced) == phone[:3] + "****" + phone[7:]

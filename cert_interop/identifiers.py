"""Identifier checks for market-entity registration: credit codes, ID numbers, phones, names.

This is the one place that knows the shape of Chinese identifiers. The ``*_is_valid`` functions are
strict (exact characters, no clean-up) because certificate profiles must match what a CA wrote; the
``*_problem`` functions serve people typing into a form, so they first apply :func:`normalize_code`
and then return a stable reason code (``None`` when the value is acceptable) that a UI can
translate. Callers should store ``normalize_code(value)``, the form that was checked.

What is accepted, and from where:

- Unified social credit code (统一社会信用代码): GB 32100-2015. 18 characters from
  ``0-9 A-H J-N P-R T U W-Y``; characters 3-8 are the registering authority's GB/T 2260 region
  code (digits); characters 9-17 are a GB 11714 organisation code with its own mod-11 check; the
  18th is a mod-31 check character. Any single substituted character changes the weighted sum by
  ``w * d`` with ``w = 3**i mod 31`` and ``0 < |d| < 31``, never a multiple of the prime 31, so
  every single substitution is detected.
- Organisation code (组织机构代码): GB 11714-1997, 8 characters ``0-9 A-Z`` + check ``0-9``/``X``.
- Resident identity number (公民身份号码): GB 11643-1999 and ISO 7064 MOD 11-2. Region, birth
  date, sequence and check character; the check also detects every single substitution (weights
  ``2**k mod 11`` are never 0, digits differ by less than 11). The 港澳台居民居住证 carries a
  GB 11643 number with region 810000 / 820000 / 830000 (State Council 2018 measures), accepted.
- 港澳居民来往内地通行证: Ministry of Public Security exit-entry rule of 2010: ``H`` (Hong Kong) or
  ``M`` (Macao) + 8-digit lifelong number + 2-digit renewal count; the current card shows only
  ``H``/``M`` + 8 digits. No check character is published.
- 台湾居民来往大陆通行证: since 2008-09-25 "一人一号、终身不变", 8 digits; older books carried
  8 + 2 issue-count digits, and those issued in Hong Kong/Macao a ``(letter)`` issuing-office
  suffix, e.g. ``0561682001(D)``. No check character is published.
- 外国人永久居留身份证: National Immigration Administration. 2017 card: 15 characters, 3 Latin
  letters (country) + 12 digits; no public check algorithm, so only the shape is checked. 2023
  card (issued from 2023-12-01): 18 characters, first ``9``, 17 digits + MOD 11-2 check as GB 11643.
- Passport: Chinese ordinary passports are ``E`` + 8 digits (electronic, until 2017-04),
  ``E`` + letter (not I/O) + 7 digits (from 2017-04-05) and ``G`` + 8 digits (older); see
  :func:`is_chinese_passport_number`. ``id_number_problem("passport", …)`` does not know the
  holder's nationality and foreign passports follow no common rule, so it accepts 5-17 letters or
  digits (ICAO 9303 gives the document number a 9-character field, longer national numbers
  overflow into optional data; 17 leaves room for those) and leaves real verification to the
  document check.
- Mobile phone: mainland numbers ``1[3-9]`` + 9 digits (MIIT numbering plan), optionally
  written with ``+86``/``86``, spaces and hyphens.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

__all__ = [
    "ENTITY_TYPES",
    "ID_TYPES",
    "id_number_is_valid",
    "id_number_problem",
    "is_chinese_passport_number",
    "mask_id_number",
    "mask_phone",
    "normalize_code",
    "normalize_name",
    "normalize_phone",
    "org_code_is_valid",
    "phone_problem",
    "uscc_is_valid",
    "uscc_problem",
]

ENTITY_TYPES = ("legal_person", "natural_person", "public_institution", "other_org")
ID_TYPES = (
    "resident_id",
    "passport",
    "hk_macao_permit",
    "taiwan_permit",
    "foreign_permanent_resident",
)

# GB 32100-2015 §4.2: code characters (no I, O, S, V, Z) and weights 3**i mod 31.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997: weights of the 8 body characters, mod-11 check with X for 10.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# GB 11643-1999 / ISO 7064 MOD 11-2: weights 2**(17-i) mod 11 and check characters by sum mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_DIGITS = frozenset("0123456789")

# GB/T 2260 province-level codes that appear in resident ID numbers (71 Taiwan is listed in the
# standard but no resident ID carries it; 81/82/83 only as the exact residence-permit regions).
_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64"}
    | {"65"}
)
_PERMIT_REGIONS = frozenset({"810000", "820000", "830000"})
_EARLIEST_BIRTH = date(1900, 1, 1)

_RESIDENT_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_HK_MACAO_PERMIT = re.compile(r"[HM][0-9]{8}(?:[0-9]{2})?")
_TAIWAN_PERMIT = re.compile(r"[0-9]{8}(?:[0-9]{2}(?:\([A-Z0-9]\))?)?")
_FPR_2017 = re.compile(r"[A-Z]{3}[0-9]{12}")
_FPR_2023 = re.compile(r"9[0-9]{16}[0-9X]")
_CN_PASSPORT = re.compile(r"E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8}")
_PASSPORT = re.compile(r"[A-Z0-9]+")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014")  # hyphens and dashes
_NAME_BRACKETS = str.maketrans({"（": "(", "）": ")", "﹙": "(", "﹚": ")"})


# --- strict checks (also re-exported by cert_interop.profiles.checks) -------------------------


def uscc_is_valid(code: str) -> bool:
    """True for an 18-character unified social credit code with a correct check character."""
    if len(code) != 18 or any(ch not in _USCC_ALPHABET for ch in code):
        return False
    return _uscc_check(code) == code[17]


def org_code_is_valid(code: str) -> bool:
    """True for a 9-character organisation code (no hyphen) with a correct check character."""
    if len(code) != 9 or any(ch not in _ORG_ALPHABET for ch in code[:8]):
        return False
    return _org_check(code) == code[8]


def id_number_is_valid(number: str) -> bool:
    """True for an 18-character resident identity number with a correct check character."""
    if len(number) != 18 or any(ch not in _DIGITS for ch in number[:17]):
        return False
    return _id_check(number) == number[17]


def _uscc_check(code: str) -> str:
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(code, _USCC_WEIGHTS, strict=False))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def _org_check(code: str) -> str:
    total = sum(_ORG_ALPHABET.index(ch) * w for ch, w in zip(code, _ORG_WEIGHTS, strict=False))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _id_check(number: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(number, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11]


# --- normalisation ----------------------------------------------------------------------------


def normalize_code(value: str) -> str:
    """Canonical form of a typed code: NFKC, no whitespace or invisible format chars, upper case.

    NFKC turns full-width input from Chinese IMEs (``９１３５``) into ASCII; format characters
    (zero-width spaces, BOMs) arrive with copy-paste from documents and are never part of a code.
    """
    text = unicodedata.normalize("NFKC", value)
    kept = (ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")
    return "".join(kept).upper()


def normalize_name(value: str) -> str:
    """Comparable form of an organisation name: NFKC, ASCII parentheses, no whitespace.

    Registries and certificates write the same name with full- or half-width brackets and stray
    spaces (``某某（贵州）有限公司`` vs ``某某(贵州) 有限公司``); those must compare equal.
    """
    text = unicodedata.normalize("NFKC", value).translate(_NAME_BRACKETS)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def normalize_phone(value: str) -> str:
    """Mainland mobile number as 11 digits, without ``+86``/``86``, spaces or hyphens.

    Best effort on anything else (never raises), so the result can be shown back to the user.
    """
    text = unicodedata.normalize("NFKC", value)
    text = "".join(
        ch
        for ch in text
        if ch not in _PHONE_SEPARATORS and not ch.isspace() and unicodedata.category(ch) != "Cf"
    )
    if text.startswith("+86"):
        return text[3:]
    if text.startswith("86") and len(text) == 13:
        return text[2:]
    return text


# --- problems ---------------------------------------------------------------------------------


def uscc_problem(value: str) -> str | None:
    """Why ``value`` is not a unified social credit code (GB 32100-2015), or None if it is.

    Reasons: ``required``, ``length``, ``charset``, ``check_character``, ``organization_code``.
    """
    code = normalize_code(value)
    if not code:
        return "required"
    if len(code) != 18:
        return "length"
    if any(ch not in _USCC_ALPHABET for ch in code) or any(ch not in _DIGITS for ch in code[2:8]):
        return "charset"
    if _uscc_check(code) != code[17]:
        return "check_character"
    if _org_check(code[8:17]) != code[16]:
        return "organization_code"
    return None


def id_number_problem(id_type: str, value: str) -> str | None:
    """Why ``value`` is not a valid number of ``id_type`` (one of :data:`ID_TYPES`), or None.

    Reasons: ``unknown_id_type``, ``required``, ``length``, ``format``, ``birth_date``, ``region``,
    ``check_character``; which of them a type can produce follows from its published rule.
    """
    if id_type not in ID_TYPES:
        return "unknown_id_type"
    number = normalize_code(value)
    if not number:
        return "required"
    if id_type == "resident_id":
        return _resident_id_problem(number)
    if id_type == "hk_macao_permit":
        return _shape_problem(number, _HK_MACAO_PERMIT, (9, 11))
    if id_type == "taiwan_permit":
        return _shape_problem(number, _TAIWAN_PERMIT, (8, 10, 13))
    if id_type == "foreign_permanent_resident":
        return _fpr_problem(number)
    if not 5 <= len(number) <= 17:
        return "length"
    return None if _PASSPORT.fullmatch(number) else "format"


def is_chinese_passport_number(value: str) -> bool:
    """True for a PRC ordinary passport number (E+8 digits, E+letter+7 digits, G+8 digits).

    For callers that know the holder is a PRC citizen, where the permissive passport rule of
    :func:`id_number_problem` would let a typo through.
    """
    return _CN_PASSPORT.fullmatch(normalize_code(value)) is not None


def _shape_problem(number: str, pattern: re.Pattern[str], lengths: tuple[int, ...]) -> str | None:
    if len(number) not in lengths:
        return "length"
    return None if pattern.fullmatch(number) else "format"


def _resident_id_problem(number: str) -> str | None:
    if len(number) != 18:
        return "length"
    if not _RESIDENT_ID_SHAPE.fullmatch(number):
        return "format"
    if not _birth_date_ok(number[6:14]):
        return "birth_date"
    if not _region_ok(number[:6]):
        return "region"
    if _id_check(number) != number[17]:
        return "check_character"
    return None


def _fpr_problem(number: str) -> str | None:
    if len(number) == 15:
        return None if _FPR_2017.fullmatch(number) else "format"
    if len(number) != 18:
        return "length"
    if not _FPR_2023.fullmatch(number):
        return "format"
    return None if _id_check(number) == number[17] else "check_character"


def _region_ok(region: str) -> bool:
    """Plausible GB/T 2260 county code: a known province and a non-zero prefecture part.

    No full region table: retired codes stay in issued numbers for life, so a table would need
    every historical edition; the province list and the check character catch real typos.
    """
    if region in _PERMIT_REGIONS:
        return True
    return region[:2] in _PROVINCES and region[2:4] != "00"


def _birth_date_ok(yyyymmdd: str) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return _EARLIEST_BIRTH <= born <= date.today()


def phone_problem(value: str) -> str | None:
    """Why ``value`` is not a mainland mobile number, or None. Reasons: ``required``, ``format``."""
    phone = normalize_phone(value)
    if not phone:
        return "required"
    return None if _MOBILE.fullmatch(phone) else "format"


# --- masking ----------------------------------------------------------------------------------


def mask_id_number(value: str) -> str:
    """The normalised number with all but the first 4 and last 4 characters replaced by ``*``.

    Values shorter than 16 keep only a quarter at each end, so at least half is always hidden and
    at most 8 characters are ever shown (logs and screens must not reconstruct the number).
    """
    code = normalize_code(value)
    keep = min(4, len(code) // 4)
    if keep == 0:
        return "*" * len(code)
    return code[:keep] + "*" * (len(code) - 2 * keep) + code[-keep:]


def mask_phone(value: str) -> str:
    """A mobile number as ``138****5678``; anything else masked like an ID number."""
    phone = normalize_phone(value)
    if len(phone) == 11:
        return phone[:3] + "****" + phone[7:]
    return mask_id_number(phone)

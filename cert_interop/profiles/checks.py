"""Check characters of Chinese identity codes.

- Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from
  ``0-9 A-H J-N P-R T U W-Y``, the last a mod-31 check character.
- Organisation code (组织机构代码), GB 11714-1997: 8 characters ``0-9 A-Z`` and a mod-11 check
  character (``0-9`` or ``X``); often written ``XXXXXXXX-C``.
- Resident identity number (居民身份证号码), GB 11643-1999: 17 digits and a mod-11 check
  character (``0-9`` or ``X``).

Reimplemented here (not imported from ``pki_cli``) so the library does not import a CLI module.
"""

from __future__ import annotations

__all__ = ["id_number_is_valid", "org_code_is_valid", "uscc_is_valid"]

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_DIGITS = frozenset("0123456789")


def uscc_is_valid(code: str) -> bool:
    """True for an 18-character unified social credit code with a correct check character."""
    if len(code) != 18 or any(ch not in _USCC_ALPHABET for ch in code):
        return False
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(code, _USCC_WEIGHTS, strict=False))
    return _USCC_ALPHABET[(31 - total % 31) % 31] == code[17]


def org_code_is_valid(code: str) -> bool:
    """True for a 9-character organisation code (no hyphen) with a correct check character."""
    if len(code) != 9 or any(ch not in _ORG_ALPHABET for ch in code[:8]):
        return False
    total = sum(_ORG_ALPHABET.index(ch) * w for ch, w in zip(code, _ORG_WEIGHTS, strict=False))
    check = 11 - total % 11
    expected = "X" if check == 10 else "0" if check == 11 else str(check)
    return code[8] == expected


def id_number_is_valid(number: str) -> bool:
    """True for an 18-character resident identity number with a correct check character."""
    if len(number) != 18 or any(ch not in _DIGITS for ch in number[:17]):
        return False
    total = sum(int(ch) * w for ch, w in zip(number, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11] == number[17]

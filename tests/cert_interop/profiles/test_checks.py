from __future__ import annotations

import pytest

from cert_interop.profiles import id_number_is_valid, org_code_is_valid, uscc_is_valid

from .conftest import ID_NUMBER, ORG_CODE, USCC, USCC_2


def test_known_values() -> None:
    assert uscc_is_valid(USCC) and uscc_is_valid(USCC_2)
    assert org_code_is_valid(ORG_CODE)
    assert org_code_is_valid(USCC[8:17])  # the organisation code inside a credit code
    assert org_code_is_valid(USCC_2[8:17])
    assert id_number_is_valid(ID_NUMBER)  # GB 11643 example


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (uscc_is_valid, USCC),
        (uscc_is_valid, USCC_2),
        (org_code_is_valid, ORG_CODE),
        (id_number_is_valid, ID_NUMBER),
    ],
)
def test_every_other_check_character_fails(check: object, value: str) -> None:
    assert callable(check)
    for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if ch != value[-1]:
            assert not check(value[:-1] + ch)


@pytest.mark.parametrize("bad", ["", "9135", USCC + "0", USCC.lower(), "I" + USCC[1:]])
def test_uscc_shape(bad: str) -> None:
    assert not uscc_is_valid(bad)


@pytest.mark.parametrize("bad", ["", "10000648", "10000648-5", "1000064855", "a00006485"])
def test_org_code_shape(bad: str) -> None:
    assert not org_code_is_valid(bad)


@pytest.mark.parametrize("bad", ["", "110105194912310", "A1010519491231002X", ID_NUMBER + "1"])
def test_id_number_shape(bad: str) -> None:
    assert not id_number_is_valid(bad)

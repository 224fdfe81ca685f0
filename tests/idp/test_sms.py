"""SMS verification codes end to end: a real local HTTP gateway, real ephemeral stores."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp.sms import (
    DevSmsSender,
    HttpSmsGateway,
    InvalidPhone,
    SmsCodes,
    SmsThrottled,
    SmsTooSoon,
    SmsUnavailable,
)
from storage.ephemeral import EphemeralStore

from .sms_gateway import Gateway, SmsGatewayServer

PHONE = "13812345678"
KEY = b"k" * 32
TOKEN = "gateway-token-123"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with SmsGatewayServer() as state:
        yield state


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_codes(store: EphemeralStore, gateway: Gateway, clock: Clock, **options: Any) -> SmsCodes:
    sender = HttpSmsGateway(gateway.url, token=TOKEN, timeout=1.0)
    return SmsCodes(store, sender, key=KEY, clock=clock, **options)


# --- the HTTP gateway -------------------------------------------------------------------------


def test_gateway_posts_the_protocol(gateway: Gateway) -> None:
    HttpSmsGateway(gateway.url, token=TOKEN).send(PHONE, "register", {"code": "123456"})
    assert gateway.messages == [
        {"phone": PHONE, "template": "register", "params": {"code": "123456"}}
    ]
    assert gateway.headers[0]["Authorization"] == f"Bearer {TOKEN}"
    assert gateway.headers[0]["Content-Type"] == "application/json"


def test_gateway_without_token_sends_no_authorization(gateway: Gateway) -> None:
    HttpSmsGateway(gateway.url).send(PHONE, "register", {})
    assert "Authorization" not in gateway.headers[0]


@pytest.mark.parametrize("status", [301, 400, 401, 500, 503])
def test_gateway_non_2xx_is_unavailable(gateway: Gateway, status: int) -> None:
    gateway.status = status
    with pytest.raises(SmsUnavailable, match=str(status)):
        HttpSmsGateway(gateway.url, token=TOKEN).send(PHONE, "register", {"code": "1"})


def test_gateway_timeout_is_unavailable(gateway: Gateway) -> None:
    gateway.delay = 1.0
    with pytest.raises(SmsUnavailable, match="in time"):
        HttpSmsGateway(gateway.url, timeout=0.2).send(PHONE, "register", {})


def test_gateway_unreachable_is_unavailable_and_hides_credentials() -> None:
    gateway = HttpSmsGateway("http://user:pw@127.0.0.1:9/send?key=s3cret", token=TOKEN)
    with pytest.raises(SmsUnavailable) as info:
        gateway.send(PHONE, "register", {})
    assert "s3cret" not in str(info.value) and "pw" not in str(info.value)


def test_gateway_rejects_non_http_url() -> None:
    with pytest.raises(ValueError):
        HttpSmsGateway("ftp://example.cn/send")


def test_gateway_logs_neither_code_nor_token(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    HttpSmsGateway(gateway.url, token=TOKEN).send(PHONE, "register", {"code": "918273"})
    gateway.status = 500
    with pytest.raises(SmsUnavailable):
        HttpSmsGateway(gateway.url, token=TOKEN).send(PHONE, "register", {"code": "918273"})
    assert "918273" not in caplog.text and TOKEN not in caplog.text and PHONE not in caplog.text
    assert "138****5678" in caplog.text


# --- codes ------------------------------------------------------------------------------------


def test_happy_path(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    sent = codes.send(PHONE, "register", "10.0.0.1")
    assert (sent.expires_in, sent.resend_in) == (300, 60)
    message = gateway.messages[-1]
    assert message["phone"] == PHONE and message["template"] == "register"
    assert message["params"]["minutes"] == "5"
    code = gateway.last_code()
    assert len(code) == 6 and code.isdigit()
    assert codes.verify(PHONE, "register", code)


def test_code_stored_only_hashed(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    codes.send(PHONE, "register", "10.0.0.1")
    raw = ephemeral.get(f"sms:register:{PHONE}")
    assert raw is not None and gateway.last_code().encode() not in raw


def test_phone_forms_normalise(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    codes.send("+86 138-1234-5678", "register", "10.0.0.1")
    assert gateway.messages[-1]["phone"] == PHONE
    assert codes.verify("138 1234 5678", "register", gateway.last_code())


@pytest.mark.parametrize("phone", ["", "12345678901", "1381234567", "138123456789", "abc"])
def test_invalid_phone(
    ephemeral: EphemeralStore, gateway: Gateway, clock: Clock, phone: str
) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    with pytest.raises(InvalidPhone):
        codes.send(phone, "register", "10.0.0.1")
    assert not codes.verify(phone, "register", "123456")
    assert gateway.messages == []


def test_wrong_code(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    codes.send(PHONE, "register", "10.0.0.1")
    code = gateway.last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert not codes.verify(PHONE, "register", wrong)
    assert codes.verify(PHONE, "register", code)


def test_replayed_code_fails(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    codes.send(PHONE, "register", "10.0.0.1")
    code = gateway.last_code()
    assert codes.verify(PHONE, "register", code)
    assert not codes.verify(PHONE, "register", code)


def test_expired_code_fails(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    codes.send(PHONE, "register", "10.0.0.1")
    code = gateway.last_code()
    clock.now += 300
    assert not codes.verify(PHONE, "register", code)


def test_max_attempts_destroys_code(
    ephemeral: EphemeralStore, gateway: Gateway, clock: Clock
) -> None:
    codes = make_codes(ephemeral, gateway, clock, max_attempts=3)
    codes.send(PHONE, "register", "10.0.0.1")
    code = gateway.last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(3):
        assert not codes.verify(PHONE, "register", wrong)
    assert ephemeral.get(f"sms:register:{PHONE}") is None
    assert not codes.verify(PHONE, "register", code)


def test_right_code_on_last_attempt_works(
    ephemeral: EphemeralStore, gateway: Gateway, clock: Clock
) -> None:
    codes = make_codes(ephemeral, gateway, clock, max_attempts=3)
    codes.send(PHONE, "register", "10.0.0.1")
    code = gateway.last_code()
    for _ in range(2):
        assert not codes.verify(PHONE, "register", "000000x")
    assert codes.verify(PHONE, "register", code)


def test_purpose_separation(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    codes.send(PHONE, "register", "10.0.0.1")
    code = gateway.last_code()
    assert not codes.verify(PHONE, "login", code)
    assert not codes.verify("13912345678", "register", code)
    assert codes.verify(PHONE, "register", code)


def test_purpose_must_be_a_name(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    for purpose in ("", "Register", "a:b", "x" * 33):
        with pytest.raises(ValueError):
            codes.send(PHONE, purpose, "10.0.0.1")


def test_new_code_replaces_old(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    codes.send(PHONE, "register", "10.0.0.1")
    first = gateway.last_code()
    clock.now += 60
    codes.send(PHONE, "register", "10.0.0.1")
    second = gateway.last_code()
    if first != second:
        assert not codes.verify(PHONE, "register", first)
    assert codes.verify(PHONE, "register", second)


def test_resend_throttle(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    codes.send(PHONE, "register", "10.0.0.1")
    clock.now += 45
    with pytest.raises(SmsTooSoon) as info:
        codes.send(PHONE, "register", "10.0.0.1")
    assert info.value.retry_after == 15
    assert info.value.code == "sms_too_soon" and info.value.zh_message
    codes.send(PHONE, "login", "10.0.0.1")  # another purpose is not blocked
    clock.now += 15
    codes.send(PHONE, "register", "10.0.0.1")
    assert len(gateway.messages) == 3


def test_per_number_window(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock, per_number_limit=(3, 3600), resend_after=0)
    for i in range(3):
        codes.send(PHONE, "register", f"10.0.0.{i}")
    with pytest.raises(SmsThrottled) as info:
        codes.send(PHONE, "register", "10.0.0.9")
    assert 3500 < info.value.retry_after <= 3600
    assert len(gateway.messages) == 3
    codes.send("13912345678", "register", "10.0.0.9")  # other numbers still get codes


def test_per_ip_window(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    codes = make_codes(ephemeral, gateway, clock, per_ip_limit=(2, 600))
    codes.send("13800000001", "register", "10.0.0.1")
    codes.send("13800000002", "register", "10.0.0.1")
    with pytest.raises(SmsThrottled) as info:
        codes.send("13800000003", "register", "10.0.0.1")
    assert 500 < info.value.retry_after <= 600
    codes.send("13800000003", "register", "10.0.0.2")
    assert len(gateway.messages) == 3


def test_gateway_down_stores_no_code(
    ephemeral: EphemeralStore, gateway: Gateway, clock: Clock
) -> None:
    codes = make_codes(ephemeral, gateway, clock)
    gateway.status = 503
    with pytest.raises(SmsUnavailable):
        codes.send(PHONE, "register", "10.0.0.1")
    assert ephemeral.get(f"sms:register:{PHONE}") is None
    gateway.status = 204  # nothing stored, so no resend wait either
    codes.send(PHONE, "register", "10.0.0.1")
    assert codes.verify(PHONE, "register", gateway.last_code())


def test_gateway_timeout_stores_no_code(
    ephemeral: EphemeralStore, gateway: Gateway, clock: Clock
) -> None:
    codes = SmsCodes(ephemeral, HttpSmsGateway(gateway.url, timeout=0.2), key=KEY, clock=clock)
    gateway.delay = 1.0
    with pytest.raises(SmsUnavailable):
        codes.send(PHONE, "register", "10.0.0.1")
    assert ephemeral.get(f"sms:register:{PHONE}") is None


def test_codes_never_logged(
    ephemeral: EphemeralStore, gateway: Gateway, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    codes = make_codes(ephemeral, gateway, clock, max_attempts=2)
    codes.send(PHONE, "register", "10.0.0.1")
    code = gateway.last_code()
    codes.verify(PHONE, "register", "bad")
    codes.verify(PHONE, "register", "bad")
    assert code not in caplog.text and PHONE not in caplog.text


def test_key_scopes_codes(ephemeral: EphemeralStore, gateway: Gateway, clock: Clock) -> None:
    make_codes(ephemeral, gateway, clock).send(PHONE, "register", "10.0.0.1")
    other = SmsCodes(ephemeral, HttpSmsGateway(gateway.url), key=b"o" * 32, clock=clock)
    assert not other.verify(PHONE, "register", gateway.last_code())


@given(guess=st.text(max_size=40))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_arbitrary_strings_never_verify(
    ephemeral: EphemeralStore, gateway: Gateway, clock: Clock, guess: str
) -> None:
    codes = make_codes(ephemeral, gateway, clock, max_attempts=1000)
    if ephemeral.get(f"sms:register:{PHONE}") is None:
        clock.now += 60
        codes.send(PHONE, "register", "10.0.0.1")
    code = gateway.last_code()
    if guess.strip() == code:
        return
    assert codes.verify(PHONE, "register", guess) is False
    assert codes.verify(guess, "register", guess) is False


# --- the development sender -------------------------------------------------------------------


def test_dev_sender_logs_masked_and_keeps_recent(
    ephemeral: EphemeralStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="idp.sms.dev")
    dev = DevSmsSender(ephemeral, keep=3)
    for i in range(5):
        dev.send(f"1380000000{i}", "register", {"code": f"00000{i}"})
    assert "SMS to 138****0004: template=register code=000004" in caplog.text
    assert "13800000004" not in caplog.text
    recent = dev.recent()
    assert [m.phone for m in recent] == ["13800000004", "13800000003", "13800000002"]
    assert recent[0].params == {"code": "000004"} and recent[0].template == "register"


def test_dev_sender_drives_codes(ephemeral: EphemeralStore, clock: Clock) -> None:
    dev = DevSmsSender(ephemeral)
    codes = SmsCodes(ephemeral, dev, key=KEY, clock=clock)
    codes.send(PHONE, "register", "127.0.0.1")
    assert codes.verify(PHONE, "register", dev.recent()[0].params["code"])

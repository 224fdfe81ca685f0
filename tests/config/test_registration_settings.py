"""Registration settings: environment, SMS gateway, registry, per-address limit, and how
`create_app` turns them into the `Onboarding` the pages use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.app import create_app
from config.settings import Settings, SettingsError
from idp.registry.http import HttpRegistry
from idp.sms import DevSmsSender, HttpSmsGateway
from storage.migrate import upgrade


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings.from_values({"data_dir": str(tmp_path), **values})


def test_production_is_the_default_and_offers_no_dev_sender(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert s.environment == "production"
    assert s.sms_gateway_url is None and s.registry_url is None
    assert (s.register_ip_limit, s.register_ip_window) == (10, 3600)


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"environment": "staging"}, "HUREN_ENVIRONMENT"),
        ({"sms_gateway_url": "ftp://sms.example.cn/send"}, "HUREN_SMS_GATEWAY_URL"),
        ({"sms_gateway_url": "not a url"}, "HUREN_SMS_GATEWAY_URL"),
        ({"registry_url": "registry.example.cn"}, "HUREN_REGISTRY_URL"),
        ({"registry_timeout": "0"}, "HUREN_REGISTRY_TIMEOUT"),
        ({"registry_timeout": "61"}, "HUREN_REGISTRY_TIMEOUT"),
        ({"register_ip_limit": "0"}, "HUREN_REGISTER_IP_LIMIT"),
        ({"register_ip_window": "x"}, "HUREN_REGISTER_IP_WINDOW"),
    ],
)
def test_bad_values_name_the_variable(
    tmp_path: Path, values: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError, match=variable):
        settings(tmp_path, **values)


def test_tokens_stay_out_of_repr(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        sms_gateway_url="https://sms.example.cn/send",
        sms_gateway_token="sms-secret-token",
        registry_url="https://registry.example.cn",
        registry_token="registry-secret-token",
    )
    assert s.sms_gateway_token == "sms-secret-token"
    assert "secret-token" not in repr(s)


def _onboarding(tmp_path: Path, **values: Any) -> Any:
    s = settings(tmp_path, **values)
    upgrade(s.database_url)
    app = create_app(s)
    return app.extensions["huren.idp"].onboarding


def test_production_without_a_gateway_has_no_registration(tmp_path: Path) -> None:
    ob = _onboarding(tmp_path)
    assert not ob.available and ob.dev_sms is None and ob.registry is None


def test_development_without_a_gateway_uses_the_dev_sender(tmp_path: Path) -> None:
    ob = _onboarding(tmp_path, environment="development")
    assert ob.available and isinstance(ob.dev_sms, DevSmsSender)
    assert ob.sms.sender is ob.dev_sms


def test_a_configured_gateway_is_used_even_in_development(tmp_path: Path) -> None:
    ob = _onboarding(
        tmp_path,
        environment="development",
        sms_gateway_url="http://127.0.0.1:9/send",
        registry_url="http://127.0.0.1:9",
        registry_timeout="2",
        register_ip_limit="3",
        register_ip_window="60",
    )
    assert ob.dev_sms is None and isinstance(ob.sms.sender, HttpSmsGateway)
    assert isinstance(ob.registry, HttpRegistry) and ob.registry.timeout == 2
    assert ob.ip_limit == (3, 60)

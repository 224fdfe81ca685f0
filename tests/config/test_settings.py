"""Settings: defaults, environment and TOML, one clear line for each kind of bad value."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.settings import Settings, SettingsError


def test_defaults_generate_a_private_master_secret(tmp_path: Path) -> None:
    s = Settings.load({"HUREN_DATA_DIR": str(tmp_path)})
    assert s.issuer == "http://127.0.0.1:8000" and s.port == 8000 and s.redis_url is None
    assert s.database_url == f"sqlite:///{tmp_path / 'huren.db'}"
    secret_file = tmp_path / "secret.key"
    assert secret_file.exists() and oct(secret_file.stat().st_mode & 0o777) == "0o600"
    again = Settings.load({"HUREN_DATA_DIR": str(tmp_path)})
    assert again.secret_key == s.secret_key and len(s.secret_key) == 32
    assert "secret_key" not in repr(s)


def test_toml_file_under_environment(tmp_path: Path) -> None:
    conf = tmp_path / "huren.toml"
    conf.write_text('[huren]\nport = 9000\nissuer = "https://id.example.cn"\n')
    s = Settings.load(
        {"HUREN_CONFIG": str(conf), "HUREN_DATA_DIR": str(tmp_path), "HUREN_PORT": "9100"}
    )
    assert s.port == 9100 and s.issuer == "https://id.example.cn" and s.cookie_secure


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"HUREN_PORT": "eighty"}, "HUREN_PORT must be an integer"),
        ({"HUREN_PORT": "70000"}, "HUREN_PORT must be between"),
        ({"HUREN_ISSUER": "ftp://x"}, "HUREN_ISSUER must be an http(s) URL"),
        ({"HUREN_ISSUER": "http://id.example.cn"}, "https except on localhost"),
        ({"HUREN_ISSUER": "https://id.example.cn/?a=1"}, "query or fragment"),
        ({"HUREN_DATABASE_URL": "mysql://x"}, "HUREN_DATABASE_URL"),
        ({"HUREN_REDIS_URL": "memcached://x"}, "HUREN_REDIS_URL"),
        ({"HUREN_SECRET_KEY": "short"}, "32 bytes"),
        ({"HUREN_CODE_TTL": "3600"}, "at most 600"),
        ({"HUREN_DEFAULT_LOCALE": "fr"}, "zh or en"),
        ({"HUREN_COOKIE_SECURE": "maybe"}, "true or false"),
        ({"HUREN_NO_SUCH_THING": "1"}, "unknown setting HUREN_NO_SUCH_THING"),
        ({"HUREN_CONFIG": "/nonexistent/huren.toml"}, "does not exist"),
    ],
)
def test_invalid_settings_name_the_variable(
    tmp_path: Path, env: dict[str, str], fragment: str
) -> None:
    env = {"HUREN_DATA_DIR": str(tmp_path), **env}
    with pytest.raises(SettingsError) as info:
        Settings.load(env)
    message = str(info.value)
    assert fragment in message and "\n" not in message


def test_broken_toml_is_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "bad.toml"
    conf.write_text("port = = 1")
    with pytest.raises(SettingsError, match="not valid TOML"):
        Settings.load({"HUREN_CONFIG": str(conf), "HUREN_DATA_DIR": str(tmp_path)})


def test_given_secret_key_is_used(tmp_path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    s = Settings.load({"HUREN_DATA_DIR": str(tmp_path), "HUREN_SECRET_KEY": key})
    assert s.secret_key == base64.urlsafe_b64decode(key)
    assert not (tmp_path / "secret.key").exists()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_integer_settings_never_crash(tmp_path_factory: pytest.TempPathFactory, value: str) -> None:
    data_dir = tmp_path_factory.mktemp("h")
    try:
        s = Settings.load({"HUREN_DATA_DIR": str(data_dir), "HUREN_ACCESS_TOKEN_TTL": value})
    except SettingsError as exc:
        assert "HUREN_ACCESS_TOKEN_TTL" in str(exc)
    else:
        assert 1 <= s.access_token_ttl <= 10**9


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_issuer_validation_never_crashes(
    tmp_path_factory: pytest.TempPathFactory, value: str
) -> None:
    data_dir = tmp_path_factory.mktemp("h")
    try:
        s = Settings.load({"HUREN_DATA_DIR": str(data_dir), "HUREN_ISSUER": value})
    except SettingsError:
        return
    assert s.issuer.startswith(("http://", "https://"))


def test_issuer_with_trailing_slash_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="must not end with"):
        Settings.load({"HUREN_DATA_DIR": str(tmp_path), "HUREN_ISSUER": "https://id.example.cn/"})


def test_tool_variables_are_not_settings(tmp_path: Path) -> None:
    """A server that shares an environment with `huren bid` / `huren bridge` still starts."""
    env = {
        "HUREN_DATA_DIR": str(tmp_path),
        "HUREN_PKCS11_MODULES": "/usr/lib/softhsm/libsofthsm2.so",
        "HUREN_BRIDGE_ORIGINS": "https://ggzy.guizhou.gov.cn",
    }
    assert Settings.load(env).data_dir == tmp_path.resolve()


def test_seal_maker_and_tsa_key_name_platform_keys(tmp_path: Path) -> None:
    base = {"HUREN_DATA_DIR": str(tmp_path), "HUREN_PLATFORM_KEYS": "maker=file:/k.p12"}
    loaded = Settings.load({**base, "HUREN_SEAL_MAKER": "maker", "HUREN_TSA_KEY": "maker"})
    assert loaded.seal_maker == "maker" and loaded.tsa_key == "maker"
    assert Settings.load(base).seal_maker is None
    for name in ("HUREN_SEAL_MAKER", "HUREN_TSA_KEY"):
        with pytest.raises(SettingsError, match=f"{name} names 'other'"):
            Settings.load({**base, name: "other"})
    with pytest.raises(SettingsError, match="HUREN_TSA_URL must be an http"):
        Settings.load({**base, "HUREN_TSA_URL": "ftp://tsa"})

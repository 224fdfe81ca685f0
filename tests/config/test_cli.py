"""The `huren` console script as operators and automation run it: a real subprocess each time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HUREN = str(Path(sys.executable).parent / "huren")


def run(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HUREN, *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {"HUREN_DATA_DIR": str(tmp_path / "var")}
    for name in list(os.environ):
        if name.startswith("HUREN_") and not name.startswith("HUREN_TEST_"):
            e.setdefault(name, "")
    result = run(e, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    return e


def test_db_upgrade_is_idempotent(env: dict[str, str]) -> None:
    again = run(env, "db", "upgrade")
    assert again.returncode == 0 and "database ready" in again.stdout


def test_client_create_json_defaults(env: dict[str, str]) -> None:
    result = run(
        env,
        "client",
        "create",
        "--name",
        "平台A",
        "--redirect-uri",
        "https://a.example.cn/cb",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["client_id"] and len(data["client_secret"]) >= 40
    assert data["grant_types"] == ["authorization_code", "refresh_token"]
    assert data["token_endpoint_auth_method"] == "client_secret_basic"
    assert data["scope"] == "openid profile phone email entity offline_access"
    assert data["client_secret"] not in result.stderr


def test_client_create_refuses_bad_input_with_exit_2(env: dict[str, str]) -> None:
    no_uri = run(env, "client", "create", "--name", "x")
    assert no_uri.returncode == 2 and "redirect URI" in no_uri.stderr
    bad_uri = run(env, "client", "create", "--name", "x", "--redirect-uri", "javascript:alert(1)")
    assert bad_uri.returncode == 2 and "Traceback" not in bad_uri.stderr
    bad_grant = run(env, "client", "create", "--name", "x", "--grant-type", "password")
    assert bad_grant.returncode == 2


def test_user_create_reads_password_from_stdin(env: dict[str, str]) -> None:
    ok = run(
        env,
        "user",
        "create",
        "--username",
        "bidder1",
        "--name",
        "李四",
        "--password-stdin",
        stdin="long-enough-1\n",
    )
    assert ok.returncode == 0, ok.stderr
    dup = run(
        env, "user", "create", "--username", "BIDDER1", "--password-stdin", stdin="long-enough-1\n"
    )
    assert dup.returncode == 2 and "taken" in dup.stderr
    short = run(env, "user", "create", "--username", "x2", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least" in short.stderr


def test_keys_rotate_list_retire(env: dict[str, str]) -> None:
    before = json.loads(run(env, "keys", "list", "--json").stdout)
    assert {k["alg"] for k in before if k["status"] == "active"} == {"RS256", "ES256"}
    rotated = run(env, "keys", "rotate", "--alg", "RS256")
    assert rotated.returncode == 0
    after = json.loads(run(env, "keys", "list", "--json").stdout)
    old = next(k["kid"] for k in after if k["status"] == "previous")
    active = next(k["kid"] for k in after if k["status"] == "active" and k["alg"] == "RS256")
    assert run(env, "keys", "retire", active).returncode == 2
    retired = run(env, "keys", "retire", old)
    assert retired.returncode == 0 and "retired" in retired.stdout


def test_invalid_settings_stop_with_one_line(env: dict[str, str]) -> None:
    result = run({**env, "HUREN_PORT": "abc"}, "keys", "list")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "HUREN_PORT" in result.stderr


def test_a_lost_master_secret_is_reported_not_replaced_silently(env: dict[str, str]) -> None:
    secret = Path(env["HUREN_DATA_DIR"]) / "secret.key"
    secret.unlink()
    result = run(env, "db", "upgrade")
    assert result.returncode == 2
    assert "master secret does not open the stored signing keys" in result.stderr


@pytest.mark.parametrize(
    "command",
    [["keys", "list"], ["client", "create", "--name", "x", "--grant-type", "client_credentials"]],
)
def test_unreachable_database_is_one_line_exit_3(tmp_path: Path, command: list[str]) -> None:
    env = {
        "HUREN_DATA_DIR": str(tmp_path),
        "HUREN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x",
    }
    result = run(env, *command)
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_missing_schema_suggests_db_upgrade(tmp_path: Path) -> None:
    result = run({"HUREN_DATA_DIR": str(tmp_path)}, "keys", "list")
    assert result.returncode == 3 and "huren db upgrade" in result.stderr


def test_crypto_commands_are_part_of_huren(tmp_path: Path) -> None:
    data = tmp_path / "abc"
    data.write_bytes(b"abc")
    result = run({"HUREN_DATA_DIR": str(tmp_path)}, "crypto", "sm3", "--in", str(data))
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_pki_commands_are_part_of_huren(tmp_path: Path) -> None:
    out = tmp_path / "pki"
    result = run(
        {"HUREN_DATA_DIR": str(tmp_path)}, "pki", "hierarchy", "--alg", "sm2", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    shown = run({"HUREN_DATA_DIR": str(tmp_path)}, "pki", "show", str(out / "leaf.pem"), "--json")
    assert shown.returncode == 0 and "SM2" in shown.stdout

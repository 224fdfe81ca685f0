"""`huren user` for operators: the operator role, passwords, and mobiles kept sealed — including
the move of mobiles stored in plain text before revision idp_0003 (`huren db upgrade`)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .test_cli import env, run  # noqa: F401  (fixture)

PASSWORD = "correct-horse-9"


def _db(env: dict[str, str]) -> sqlite3.Connection:  # noqa: F811
    return sqlite3.connect(Path(env["HUREN_DATA_DIR"]) / "huren.db")


def test_user_create_keeps_the_mobile_sealed_and_can_make_an_operator(
    env: dict[str, str],  # noqa: F811
) -> None:
    args = ["user", "create", "--username", "op1", "--password-stdin", "--json"]
    result = run(env, *args, "--phone", "13800000011", "--operator", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    user_id = json.loads(result.stdout)["id"]
    with _db(env) as db:
        phone, sealed, index, operator = db.execute(
            "SELECT phone, phone_sealed, phone_index, operator FROM account WHERE id = ?",
            (user_id,),
        ).fetchone()
    assert phone is None and operator == 1 and len(index) == 64
    assert b"13800000011" not in bytes(sealed)


def test_operator_role_is_granted_and_withdrawn(env: dict[str, str]) -> None:  # noqa: F811
    create = ["user", "create", "--username", "reviewer", "--password-stdin"]
    assert run(env, *create, stdin=PASSWORD + "\n").returncode == 0
    granted = run(env, "user", "operator", "REVIEWER")
    assert granted.returncode == 0 and "is now an operator" in granted.stdout
    withdrawn = run(env, "user", "operator", "reviewer", "--revoke")
    assert withdrawn.returncode == 0 and "no longer" in withdrawn.stdout
    with _db(env) as db:
        assert db.execute("SELECT operator FROM account").fetchone() == (0,)
    missing = run(env, "user", "operator", "nobody")
    assert missing.returncode == 2 and "nobody" in missing.stderr


def test_password_comes_from_stdin_and_is_checked(env: dict[str, str]) -> None:  # noqa: F811
    create = ["user", "create", "--username", "imported", "--password-stdin"]
    assert run(env, *create, stdin=PASSWORD + "\n").returncode == 0
    with _db(env) as db:
        before = db.execute("SELECT password_hash FROM account").fetchone()[0]
    ok = run(env, "user", "password", "imported", "--password-stdin", stdin="another-horse-7\n")
    assert ok.returncode == 0, ok.stderr
    with _db(env) as db:
        after = db.execute("SELECT password_hash FROM account").fetchone()[0]
    assert after != before and after.startswith("$argon2id$")
    short = run(env, "user", "password", "imported", "--password-stdin", stdin="short\n")
    assert short.returncode == 2
    unknown = run(env, "user", "password", "ghost", "--password-stdin", stdin=PASSWORD + "\n")
    assert unknown.returncode == 2


def test_db_upgrade_seals_mobiles_left_in_plain_text(env: dict[str, str]) -> None:  # noqa: F811
    create = ["user", "create", "--username", "legacy", "--password-stdin"]
    assert run(env, *create, stdin=PASSWORD + "\n").returncode == 0
    with _db(env) as db:  # what an account written before idp_0003 looks like
        db.execute("UPDATE account SET phone = '138 0000 0022', phone_sealed = NULL")
    first = run(env, "db", "upgrade")
    assert first.returncode == 0 and "sealed the mobile numbers of 1 accounts" in first.stderr
    with _db(env) as db:
        phone, sealed, index = db.execute(
            "SELECT phone, phone_sealed, phone_index FROM account"
        ).fetchone()
    assert phone is None and sealed and b"0022" not in bytes(sealed) and len(index) == 64
    second = run(env, "db", "upgrade")
    assert second.returncode == 0 and "sealed" not in second.stderr

"""Demo data for `make run`: one relying party (the demo page at /demo/) and one user, created once.

The generated password and client secret are kept in `<data dir>/demo.json` (mode 0600) so a
second `make run` prints the same ones.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

import click

from idp.accounts import create_user
from idp.clients import create_client, get_client

from .runtime import Runtime

DEMO_FILE = "demo.json"
DEMO_CLIENT_ID = "huren-demo-rp"


def load_demo(data_dir: os.PathLike[str] | str) -> dict[str, Any] | None:
    path = os.path.join(data_dir, DEMO_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
            return data
    except (OSError, ValueError):
        return None


def seed(rt: Runtime) -> None:
    settings = rt.settings
    demo = load_demo(settings.data_dir)
    if demo is None or get_client(rt.sessions, demo["client_id"]) is None:
        issuer = settings.issuer
        password = secrets.token_urlsafe(9)
        new = create_client(
            rt.sessions,
            client_id=DEMO_CLIENT_ID,
            name="演示交易平台 (Demo trading platform)",
            redirect_uris=[issuer + "/demo/callback"],
            post_logout_redirect_uris=[issuer + "/demo/"],
            backchannel_logout_uri=issuer + "/demo/backchannel-logout",
        )
        create_user(
            rt.sessions,
            username="demo",
            password=password,
            name="演示用户",
            phone="13800000000",
            email="demo@example.cn",
        )
        demo = {
            "client_id": new.client.client_id,
            "client_secret": new.client_secret,
            "username": "demo",
            "password": password,
        }
        path = settings.data_dir / DEMO_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(demo, fh)
    base = f"http://{settings.host}:{settings.port}"
    click.echo("")
    click.echo("Huren demo")
    click.echo(f"  demo relying party:  {base}/demo/")
    click.echo(f"  demo user:           {demo['username']} / {demo['password']}")
    click.echo(f"  demo client_id:      {demo['client_id']}")
    click.echo(f"  demo client_secret:  {demo['client_secret']}")
    click.echo(f"  discovery:           {settings.issuer}/.well-known/openid-configuration")
    click.echo("")

"""`huren client`, `huren user` and `huren keys`: what operators and automation script against.

`GROUPS` adds the groups other idp packages define (`entity`, `cert`, `device`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Protocol

import click
from sqlalchemy.orm import Session, sessionmaker

from .accounts import create_user, set_operator, set_password
from .certlogin.cli import cert_group
from .clients import AUTH_METHODS, DEFAULT_SCOPES, GRANT_TYPES, ID_TOKEN_ALGS, create_client
from .entities.cli import entity_group
from .entities.pii import PersonalData
from .keys import ALGORITHMS, KeyRing
from .qrlogin.cli import device_group


class CliRuntime(Protocol):
    """What the composition root hands these commands (kept abstract: idp sits below config)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def master_secret(self) -> bytes: ...


# Errors: the library raises IdpError; the `huren` entry point prints it as one line, exit 2.


def _runtime() -> CliRuntime:
    return click.get_current_context().find_root().obj  # type: ignore[no-any-return]


@click.group("client")
def client_group() -> None:
    """Register relying parties (trading platforms) and API clients."""


@client_group.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option(
    "--entity-events-uri",
    help="where signed market-entity and seal events are POSTed "
    "(needs --scope entities:read and/or seal:read)",
)
@click.option("--grant-type", "grant_types", multiple=True, type=click.Choice(GRANT_TYPES))
@click.option("--auth-method", default="client_secret_basic", type=click.Choice(AUTH_METHODS))
@click.option("--scope", "scopes", multiple=True, help="repeat, or give a space-separated list")
@click.option(
    "--jwks",
    "jwks_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="public JWK Set file for private_key_jwt",
)
@click.option(
    "--id-token-alg",
    default="RS256",
    type=click.Choice(ID_TOKEN_ALGS),
    help="id_token_signed_response_alg (SM2SM3: SM2 with SM3, for national-algorithm platforms)",
)
@click.option("--trusted", is_flag=True, help="a platform the province runs: no consent page")
@click.option("--client-id", help="choose the client_id (default: random)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def client_create(
    name: str,
    redirect_uris: tuple[str, ...],
    post_logout: tuple[str, ...],
    backchannel_logout_uri: str | None,
    entity_events_uri: str | None,
    grant_types: tuple[str, ...],
    auth_method: str,
    scopes: tuple[str, ...],
    jwks_file: Path | None,
    id_token_alg: str,
    trusted: bool,
    client_id: str | None,
    as_json: bool,
) -> None:
    """Register a client and print its id and secret (the secret is shown only once)."""
    jwks: dict[str, Any] | None = None
    if jwks_file is not None:
        try:
            jwks = json.loads(jwks_file.read_text())
        except (OSError, ValueError) as exc:
            raise click.BadParameter(f"cannot read JWK Set: {exc}", param_hint="--jwks") from None
    scope_list = [s for item in scopes for s in item.split()]
    if not scope_list:  # an API-only client gets `api`; one that signs users in gets the OIDC set
        scope_list = ["api"] if set(grant_types) == {"client_credentials"} else list(DEFAULT_SCOPES)
    new = create_client(
        _runtime().sessions,
        name=name,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout,
        backchannel_logout_uri=backchannel_logout_uri,
        grant_types=grant_types or ("authorization_code", "refresh_token"),
        auth_method=auth_method,
        scopes=scope_list,
        jwks=jwks,
        trusted=trusted,
        client_id=client_id,
        id_token_alg=id_token_alg,
        entity_events_uri=entity_events_uri,
    )
    c = new.client
    out = {
        "client_id": c.client_id,
        "client_secret": new.client_secret,
        "name": c.name,
        "redirect_uris": list(c.redirect_uris),
        "post_logout_redirect_uris": list(c.post_logout_redirect_uris),
        "backchannel_logout_uri": c.backchannel_logout_uri,
        "entity_events_uri": c.entity_events_uri,
        "grant_types": list(c.grant_types),
        "token_endpoint_auth_method": c.token_endpoint_auth_method,
        "scope": " ".join(c.scopes),
        "trusted": c.trusted,
    }
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        click.echo(f"client_id:     {c.client_id}")
        if new.client_secret:
            click.echo(f"client_secret: {new.client_secret}   (shown once; store it now)")


@click.group("user")
def user_group() -> None:
    """Manage accounts."""


@user_group.command("create")
@click.option("--username", required=True)
@click.option("--name")
@click.option("--phone")
@click.option("--email")
@click.option("--password-stdin", is_flag=True, required=True, help="read the password from stdin")
@click.option("--operator", is_flag=True, help="may use the operator pages (entity review)")
@click.option("--json", "as_json", is_flag=True)
def user_create(
    username: str,
    name: str | None,
    phone: str | None,
    email: str | None,
    password_stdin: bool,
    operator: bool,
    as_json: bool,
) -> None:
    """Create an account; the password comes from the first line of stdin, never from argv."""
    password = sys.stdin.readline().rstrip("\r\n")
    rt = _runtime()
    user = create_user(
        rt.sessions,
        username=username,
        password=password,
        name=name,
        phone=phone,
        email=email,
        pii=PersonalData(rt.master_secret),
        operator=operator,
    )
    if as_json:
        click.echo(json.dumps({"id": user.id, "username": user.username}, ensure_ascii=False))
    else:
        click.echo(f"created user {user.username} (sub {user.id})")


@user_group.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, required=True, help="read the password from stdin")
def user_password(username: str, password_stdin: bool) -> None:
    """Set an account's password from the first line of stdin (never from argv)."""
    password = sys.stdin.readline().rstrip("\r\n")
    user = set_password(_runtime().sessions, username, password)
    click.echo(f"password set for {user.username}")


@user_group.command("operator")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="withdraw the role instead of granting it")
def user_operator(username: str, revoke: bool) -> None:
    """Grant (or with --revoke withdraw) the operator role: review queue and entity pages."""
    user = set_operator(_runtime().sessions, username, not revoke)
    state = "is now an operator" if user.operator else "is no longer an operator"
    click.echo(f"{user.username} {state}")


def _ring() -> KeyRing:
    rt = _runtime()
    return KeyRing(rt.sessions, rt.master_secret)


@click.group("keys")
def keys_group() -> None:
    """Signing keys: rotate, list, retire."""


@keys_group.command("rotate")
@click.option("--alg", "algs", multiple=True, type=click.Choice(ALGORITHMS), help="default: all")
def keys_rotate(algs: tuple[str, ...]) -> None:
    """Make new active keys; the previous ones stay in JWKS until retired."""
    for info in _ring().rotate(list(algs or ALGORITHMS)):
        click.echo(f"{info.kid}  {info.alg}  {info.status}")


@keys_group.command("retire", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
def keys_retire(kid: str) -> None:
    """Remove a previous key from JWKS (tokens it signed stop verifying)."""
    info = _ring().retire(kid)
    click.echo(f"{info.kid}  {info.alg}  {info.status}")


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def keys_list(as_json: bool) -> None:
    infos = _ring().all()
    if as_json:
        click.echo(json.dumps([info.__dict__ for info in infos]))
        return
    for info in infos:
        click.echo(f"{info.kid}  {info.alg}  {info.status}")


GROUPS = (client_group, user_group, keys_group, entity_group, cert_group, device_group)

"""Certificate bindings (§6.4.2 a): the service rules, the account page and `huren cert`."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select

from cert_interop.truststore import TrustStore
from idp.accounts import User
from idp.certlogin import bindings
from idp.certlogin.bindings import CertBindingError, bind, unbind
from idp.certlogin.cli import cert_group
from idp.entities import service
from idp.models import AuditEvent
from idp.service import Idp
from storage.db import Base

from . import test_cert_login as cert_login_tests
from .conftest import PASSWORD, form_value
from .test_cert_login import (
    ID_NUMBER,
    OTHER_USCC,
    Bidder,
    Pki,
    cert_login,
    register_org,
    register_person,
)

# the certificate login tests' fixtures: the test PKI, the app's trust store, a verified bidder
pki = cert_login_tests.pki
trust_store = cert_login_tests.trust_store
bidder = cert_login_tests.bidder


def _kinds(idp: Idp, kind: str) -> list[dict[str, Any]]:
    with idp.sessions() as db:
        rows = db.scalars(
            select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
        ).all()
        return [dict(r.detail) for r in rows]


def _refused(reason: str, call: Any) -> CertBindingError:
    with pytest.raises(CertBindingError) as caught:
        call()
    assert caught.value.reason == reason, caught.value.message
    return caught.value


def _bind(idp: Idp, account_id: str, data: bytes, acting: str | None = None) -> Any:
    return bind(
        idp.sessions,
        idp.pii,
        idp.trust_store,
        data,
        account_id=account_id,
        actor="tester",
        acting_account_id=acting,
    )


def test_several_certificates_of_different_cas_bind_to_one_account(
    idp: Idp, trust_store: TrustStore, pki: Pki, bidder: Bidder
) -> None:
    leaves = [ca.issue() for ca in pki.trusted()]
    views = [_bind(idp, bidder.account_id, leaf.cert.pem()) for leaf in leaves]
    assert {v.ca for v in views} == {"Huren RSA CA", "Huren EC CA", "Huren SM2 CA"}
    assert [v.fingerprint for v in bindings.list_for_account(idp.sessions, bidder.account_id)] == [
        leaf.fingerprint for leaf in leaves
    ]
    assert len(bindings.list_for_entity(idp.sessions, bidder.entity_id)) == 3
    found = bindings.find(idp.sessions, leaves[0].fingerprint)
    assert found is not None and found.username == "bidder"
    assert found.serial == format(leaves[0].cert.serial_number, "x")
    # binding the same certificate again to the same account changes nothing
    again = _bind(idp, bidder.account_id, leaves[0].cert.der)
    assert again.fingerprint == leaves[0].fingerprint
    assert len(bindings.list_all(idp.sessions)) == 3
    bound = _kinds(idp, "cert.bound")
    assert len(bound) == 3 and all("certificate" not in e for e in bound)


def test_natural_persons_bind_by_their_id_number(
    idp: Idp, trust_store: TrustStore, pki: Pki
) -> None:
    person = register_person(idp)
    leaf = pki.sm2.issue(uscc=None, id_number=ID_NUMBER, cn="王五")
    view = _bind(idp, person.account_id, leaf.cert.der)
    assert view.entity_id == person.entity_id
    other = pki.sm2.issue(uscc=None, id_number="110105198001010016", cn="王五")
    _refused("identity_mismatch", lambda: _bind(idp, person.account_id, other.cert.der))


def test_refused_bindings_are_audited(
    idp: Idp, trust_store: TrustStore, pki: Pki, bidder: Bidder, user: User
) -> None:
    _refused(
        "identity_mismatch",
        lambda: _bind(idp, bidder.account_id, pki.rsa.issue(uscc=OTHER_USCC).cert.der),
    )
    past = datetime.now(UTC) - timedelta(days=30)
    old = pki.ec.issue(not_before=past, not_after=past + timedelta(days=1))
    _refused("expired", lambda: _bind(idp, bidder.account_id, old.cert.der))
    _refused("unknown_ca", lambda: _bind(idp, bidder.account_id, pki.stranger.issue().cert.der))
    _refused("malformed", lambda: _bind(idp, bidder.account_id, b"not a certificate"))
    _refused(
        "no_identity", lambda: _bind(idp, bidder.account_id, pki.rsa.issue(uscc=None).cert.der)
    )
    _refused("not_a_member", lambda: _bind(idp, user.id, pki.rsa.issue().cert.der))
    pending = register_org(
        idp, username="pending", uscc=OTHER_USCC, status="pending", phone="13800000009"
    )
    _refused(
        "entity_not_verified",
        lambda: _bind(idp, pending.account_id, pki.rsa.issue(uscc=OTHER_USCC).cert.der),
    )
    reasons = [e["reason"] for e in _kinds(idp, "cert.bind_refused")]
    assert reasons == [
        "identity_mismatch",
        "expired",
        "unknown_ca",
        "malformed",
        "no_identity",
        "not_a_member",
        "entity_not_verified",
    ]
    assert bindings.list_all(idp.sessions) == []


def test_administrators_bind_for_members_and_members_only_for_themselves(
    idp: Idp, trust_store: TrustStore, pki: Pki, bidder: Bidder
) -> None:
    view = service.add_agent(
        idp.sessions,
        idp.pii,
        bidder.entity_id,
        bidder.account_id,
        username="agent1",
        name="赵六",
        phone="13800000005",
        password=PASSWORD,
    )
    agent_id = next(m.account_id for m in view.members if m.username == "agent1")
    for_agent = _bind(idp, agent_id, pki.ec.issue().cert.der, acting=bidder.account_id)
    assert for_agent.account_id == agent_id
    own = _bind(idp, agent_id, pki.rsa.issue().cert.der, acting=agent_id)
    assert own.account_id == agent_id
    _refused(
        "not_entity_admin",
        lambda: _bind(idp, bidder.account_id, pki.sm2.issue().cert.der, acting=agent_id),
    )
    leaf = pki.sm2.issue()
    _bind(idp, bidder.account_id, leaf.cert.der)
    _refused("already_bound", lambda: _bind(idp, agent_id, leaf.cert.der))
    # unbinding: the agent cannot remove the administrator's; the administrator can the agent's
    _refused(
        "not_found",
        lambda: unbind(idp.sessions, leaf.fingerprint, actor="agent1", acting_account_id=agent_id),
    )
    gone = unbind(
        idp.sessions, for_agent.fingerprint, actor="bidder", acting_account_id=bidder.account_id
    )
    assert gone.fingerprint == for_agent.fingerprint
    assert bindings.find(idp.sessions, for_agent.fingerprint) is None
    assert [e["fingerprint"] for e in _kinds(idp, "cert.unbound")] == [for_agent.fingerprint]


def test_unbound_certificate_no_longer_logs_in(
    idp: Idp, app: Flask, trust_store: TrustStore, pki: Pki, bidder: Bidder
) -> None:
    leaf = pki.rsa.issue()
    _bind(idp, bidder.account_id, leaf.cert.der)
    assert cert_login(app.test_client(), leaf).status_code == 302
    unbind(idp.sessions, leaf.fingerprint, actor="operator")
    response = cert_login(app.test_client(), leaf)
    assert response.status_code == 403 and 'data-reason="not_bound"' in response.get_data(
        as_text=True
    )


# --- the account page ------------------------------------------------------------------------


def _password_login(web: FlaskClient, username: str) -> None:
    page = web.get("/login").get_data(as_text=True)
    response = web.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": form_value(page, "csrf_token"),
        },
    )
    assert response.status_code == 302


def test_account_page_binds_lists_and_unbinds(
    idp: Idp, web: FlaskClient, trust_store: TrustStore, pki: Pki, bidder: Bidder
) -> None:
    assert web.get("/account/certificates").status_code == 302  # sign in first
    _password_login(web, bidder.username)
    page = web.get("/account/certificates?lang=en").get_data(as_text=True)
    assert 'id="no-bindings"' in page and 'id="bind-form"' in page
    csrf = form_value(page, "csrf_token")
    leaf = pki.sm2.issue()
    response = web.post(
        "/account/certificates",
        data={
            "csrf_token": csrf,
            "action": "bind",
            "certificate_file": (io.BytesIO(leaf.cert.pem()), "mine.pem"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    page = web.get("/account/certificates").get_data(as_text=True)
    assert leaf.fingerprint in page and "Huren SM2 CA" in page
    # from the bridge: base64 DER in the form
    other = pki.rsa.issue()
    response = web.post(
        "/account/certificates",
        data={"csrf_token": csrf, "action": "bind", "certificate": other.b64},
    )
    assert response.status_code == 303
    refused = web.post(
        "/account/certificates?lang=en",
        data={
            "csrf_token": csrf,
            "action": "bind",
            "certificate": pki.ec.issue(uscc=OTHER_USCC).b64,
        },
    )
    assert refused.status_code == 403
    assert "is not your market entity" in refused.get_data(as_text=True)
    response = web.post(
        "/account/certificates",
        data={"csrf_token": csrf, "action": "unbind", "fingerprint": leaf.fingerprint},
    )
    assert response.status_code == 303
    assert [b.fingerprint for b in bindings.list_for_account(idp.sessions, bidder.account_id)] == [
        other.fingerprint
    ]
    assert web.post("/account/certificates", data={"action": "bind"}).status_code == 400  # CSRF


# --- huren cert ------------------------------------------------------------------------------


def test_cli_binds_lists_and_unbinds(
    app: Flask, idp: Idp, trust_store: TrustStore, pki: Pki, bidder: Bidder, tmp_path: Path
) -> None:
    runtime = SimpleNamespace(
        sessions=idp.sessions,
        master_secret=app.extensions["huren.settings"].secret_key,
        trust_store=trust_store,
    )
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cert_group, list(args), obj=runtime)

    leaf = pki.ec.issue()
    path = tmp_path / "leaf.pem"
    path.write_bytes(leaf.cert.pem())
    result = run("bind", "--account", "bidder", str(path))
    assert result.exit_code == 0, result.output
    assert leaf.fingerprint in result.output
    listed = run("list", "--account", "bidder", "--json")
    assert [v["fingerprint"] for v in json.loads(listed.output)] == [leaf.fingerprint]
    assert leaf.fingerprint in run("list").output

    wrong = tmp_path / "wrong.der"
    wrong.write_bytes(pki.ec.issue(uscc=OTHER_USCC).cert.der)
    result = run("bind", "--account", "bidder", str(wrong))
    assert result.exit_code == 2 and "identity_mismatch" in result.output
    assert run("bind", "--account", "nobody", str(path)).exit_code == 2

    assert run("unbind", leaf.fingerprint).exit_code == 0
    assert json.loads(run("list", "--json").output) == []
    result = run("unbind", leaf.fingerprint)
    assert result.exit_code == 2 and "not_found" in result.output


def test_model_matches_the_migration(app: Flask) -> None:
    engine = app.extensions["huren.engine"]
    only = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in ("account", "market_entity", "certificate_binding"):
        Base.metadata.tables[name].to_metadata(only)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": lambda _obj, name, type_, _reflected, _other: (
                    type_ != "table" or name == "certificate_binding"
                ),
            },
        )
        diff = compare_metadata(context, only)
    assert diff == []

"""Fixtures of the seal pages' tests: the app with a seal-making key file, its trust store
holding the test CAs, a verified organisation and an operator."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cert_interop import keys as keymod
from cert_interop.truststore import TrustStore
from config.settings import Settings
from idp.accounts import create_user
from idp.entities import service as entities
from idp.service import Idp
from tests.idp.conftest import PASSWORD
from tests.idp.test_operator_pages import sign_in

from ..conftest import USCC, Pki

OPERATOR = "seal-operator"
ORG_NAME = "测试投标有限公司"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, pki: Pki) -> Settings:
    """The provider's test settings plus a seal-making key file (an SM2 key, PEM, with a PIN)."""
    maker = pki.sm2.issue(uscc=None, cn="电子印章制作中心")
    (tmp_path / "maker.key").write_bytes(keymod.dump_private_key(maker.key, "pem", b"maker-pin"))
    (tmp_path / "maker.pem").write_bytes(maker.cert.pem())
    (tmp_path / "maker.pin").write_text("maker-pin\n")
    uri = (
        f"file:{tmp_path / 'maker.key'}?cert={tmp_path / 'maker.pem'}"
        f"&pin-source={tmp_path / 'maker.pin'}"
    )
    return dataclasses.replace(
        settings,
        platform_keys=(("seal-maker", uri),),
        seal_maker="seal-maker",
        revocation_online=False,
    )


@pytest.fixture
def trust(app: Flask, pki: Pki) -> TrustStore:
    store: TrustStore = app.extensions["huren.trust_store"]
    for ca in (pki.sm2, pki.rsa):
        store.add(ca.cert.pem(), profile="default", name=ca.name)
        store.upload_crl(ca.crl())
    return store


@pytest.fixture
def org(idp: Idp, trust: TrustStore) -> str:
    """A verified legal person whose certificates carry `USCC`; its entity id."""
    view = entities.register(
        idp.sessions,
        idp.pii,
        entity_type="legal_person",
        name=ORG_NAME,
        username="org-admin",
        password=PASSWORD,
        phone="13912345678",
        uscc=USCC,
        agent_name="李四",
        status="verified",
    )
    return view.id


@pytest.fixture
def operator(idp: Idp) -> str:
    create_user(idp.sessions, username=OPERATOR, password=PASSWORD, name="制章员", operator=True)
    return OPERATOR


@pytest.fixture
def signed_in(web: FlaskClient, operator: str) -> FlaskClient:
    assert sign_in(web, operator).status_code == 302
    return web

"""Signing keys: sealed at rest, rotation keeps the old key verifying, retirement removes it."""

from __future__ import annotations

import pytest
from joserfc import jwt
from sqlalchemy import select

from idp.errors import KeyManagementError
from idp.models import SigningKey
from idp.service import Idp

from .conftest import Flow


def test_private_keys_are_sealed_at_rest(idp: Idp) -> None:
    with idp.sessions() as db:
        rows = db.scalars(select(SigningKey)).all()
    assert rows
    for row in rows:
        assert b"PRIVATE KEY" not in row.private_sealed
        assert "d" not in row.public_jwk


def test_rotation_keeps_old_tokens_verifying_until_retired(flow: Flow, idp: Idp, web) -> None:
    before = flow.tokens()
    old_kid = jwt.decode(before["id_token"], idp.keys.verification_keys()).header["kid"]
    created = idp.keys.rotate(["RS256"])
    new_kid = created[0].kid
    assert new_kid != old_kid
    kids = {k["kid"] for k in web.get("/jwks").get_json()["keys"]}
    assert {old_kid, new_kid} <= kids
    after = flow.tokens()
    assert jwt.decode(after["id_token"], idp.keys.verification_keys()).header["kid"] == new_kid
    assert (
        web.get(
            "/userinfo", headers={"Authorization": "Bearer " + before["access_token"]}
        ).status_code
        == 200
    )
    with pytest.raises(KeyManagementError):
        idp.keys.retire(new_kid)  # the active key cannot be retired
    idp.keys.retire(old_kid)
    assert old_kid not in {k["kid"] for k in web.get("/jwks").get_json()["keys"]}
    assert (
        web.get(
            "/userinfo", headers={"Authorization": "Bearer " + before["access_token"]}
        ).status_code
        == 401
    )
    with pytest.raises(KeyManagementError):
        idp.keys.retire("no-such-kid")


def test_es256_id_tokens_for_clients_that_ask(web, idp: Idp, user) -> None:
    from idp.clients import create_client

    from .conftest import REDIRECT

    client = create_client(
        idp.sessions, name="ec", redirect_uris=[REDIRECT], trusted=True, id_token_alg="ES256"
    )
    tokens = Flow(web, client).tokens()
    decoded = jwt.decode(tokens["id_token"], idp.keys.verification_keys(), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"


def test_a_wrong_master_secret_cannot_open_the_keys(idp: Idp) -> None:
    from idp.keys import KeyRing
    from storage.at_rest import SealedDataError

    ring = KeyRing(idp.sessions, b"\x00" * 32)
    with pytest.raises(SealedDataError):
        ring.signing_key("RS256")

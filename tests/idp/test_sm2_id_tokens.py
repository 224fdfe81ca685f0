"""SM2-signed ID tokens (alg SM2SM3) for clients that ask for them; RS256 stays the default."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from cert_interop import sm2
from cert_interop.sm3 import sm3
from idp.accounts import User
from idp.clients import NewClient, create_client
from idp.errors import ClientRegistrationError
from idp.models import SigningKey
from idp.service import Idp
from idp.tokens import InvalidToken

from .conftest import REDIRECT, Flow, query

SM2 = "SM2SM3"


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def sm2_rp(idp: Idp) -> NewClient:
    return create_client(
        idp.sessions,
        name="National-algorithm platform",
        redirect_uris=[REDIRECT],
        post_logout_redirect_uris=["https://rp.example.cn/bye"],
        id_token_alg=SM2,
    )


@pytest.fixture
def sm2_flow(web: FlaskClient, sm2_rp: NewClient, user: User) -> Flow:
    return Flow(web, sm2_rp)


def verify_by_hand(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Independent check: split, find the JWK by kid, verify r || s over the signing input."""
    h, p, s = token.split(".")
    header = json.loads(b64d(h))
    assert header["alg"] == SM2 and header["typ"] == "JWT"
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "SM2", SM2, "sig")
    assert "d" not in jwk
    pub = sm2.public_key_from_hex("04" + (b64d(jwk["x"]) + b64d(jwk["y"])).hex())
    sig = b64d(s)
    assert len(sig) == 64
    assert sm2.verify(pub, sig, f"{h}.{p}".encode(), fmt="raw")
    return json.loads(b64d(p))  # type: ignore[no-any-return]


def test_sm2_client_gets_sm2_id_token_that_verifies_independently(
    sm2_flow: Flow, web: FlaskClient, sm2_rp: NewClient
) -> None:
    tokens = sm2_flow.tokens()
    claims = verify_by_hand(tokens["id_token"], web.get("/jwks").get_json())
    assert claims["aud"] == sm2_rp.client.client_id and claims["iss"] == "http://127.0.0.1:8000"
    # at_hash with the hash of the alg: left half of SM3(access_token)
    assert claims["at_hash"] == b64e(sm3(tokens["access_token"].encode())[:16])
    # the access token stays RS256
    assert json.loads(b64d(tokens["access_token"].split(".")[0]))["alg"] == "RS256"
    userinfo = web.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert userinfo.status_code == 200


def test_tampered_sm2_id_token_refused(sm2_flow: Flow, idp: Idp) -> None:
    token = sm2_flow.tokens()["id_token"]
    assert idp.tokens.decode(token, typ=None)["sub"]
    h, p, s = token.split(".")
    claims = json.loads(b64d(p))
    claims["sub"] = "someone-else"
    forged = f"{h}.{b64e(json.dumps(claims).encode())}.{s}"
    sig = bytearray(b64d(s))
    sig[0] ^= 0x80
    for bad in (forged, f"{h}.{p}.{b64e(bytes(sig))}", f"{h}.{p}.{s[:-4]}"):
        with pytest.raises(InvalidToken):
            idp.tokens.decode(bad, typ=None)
    # SM2 is for ID tokens only: a typed token (access token) signed with SM2 is refused
    with pytest.raises(InvalidToken):
        idp.tokens.decode(token, typ="jwt")


def test_rs256_clients_unaffected_and_jwks_without_sm2_until_needed(
    flow: Flow, web: FlaskClient, idp: Idp
) -> None:
    token = flow.tokens()["id_token"]
    assert json.loads(b64d(token.split(".")[0]))["alg"] == "RS256"
    assert {k["alg"] for k in web.get("/jwks").get_json()["keys"]} == {"RS256", "ES256"}
    create_client(idp.sessions, name="SM2 platform", redirect_uris=[REDIRECT], id_token_alg=SM2)
    keys = web.get("/jwks").get_json()["keys"]
    assert {k["alg"] for k in keys} == {"RS256", "ES256", SM2}
    assert all("d" not in k for k in keys)
    # the RS256 client's next token is still RS256, and verifies
    again = flow.tokens()["id_token"]
    assert json.loads(b64d(again.split(".")[0]))["alg"] == "RS256"
    assert idp.tokens.decode(again, typ=None)["aud"] == flow.client.client.client_id


def test_discovery_lists_sm2_after_rs256(web: FlaskClient) -> None:
    doc = web.get("/.well-known/openid-configuration").get_json()
    assert doc["id_token_signing_alg_values_supported"] == ["RS256", "ES256", SM2]
    assert SM2 not in doc["token_endpoint_auth_signing_alg_values_supported"]


def test_logout_with_sm2_id_token_hint(sm2_flow: Flow, web: FlaskClient) -> None:
    tokens = sm2_flow.tokens()
    response = web.get(
        "/logout",
        query_string={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://rp.example.cn/bye",
            "state": "s1",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "https://rp.example.cn/bye?state=s1"
    after = sm2_flow.authorize(prompt="none")
    assert query(after.headers["Location"])["error"] == "login_required"


def test_prompt_none_with_sm2_id_token_hint(sm2_flow: Flow) -> None:
    tokens = sm2_flow.tokens()
    response = sm2_flow.authorize(prompt="none", id_token_hint=tokens["id_token"])
    assert response.status_code == 302
    assert "code" in query(response.headers["Location"])


def test_ensure_adds_sm2_key_to_an_existing_ring_when_a_client_needs_it(idp: Idp) -> None:
    with idp.sessions.begin() as db:
        db.execute(delete(SigningKey).where(SigningKey.alg == SM2))
    assert idp.keys.ensure() == []  # no SM2 client yet: nothing to add
    create_client(idp.sessions, name="SM2 platform", redirect_uris=[REDIRECT], id_token_alg=SM2)
    created = idp.keys.ensure()
    assert [c.alg for c in created] == [SM2]
    assert idp.keys.ensure() == []
    rotated = idp.keys.rotate([SM2])
    with idp.sessions() as db:
        rows = db.scalars(select(SigningKey).where(SigningKey.alg == SM2)).all()
        status = {row.kid: row.status for row in rows}
    assert status == {created[0].kid: "previous", rotated[0].kid: "active"}


def test_first_sm2_client_gets_a_key_on_demand(sm2_flow: Flow, idp: Idp) -> None:
    with idp.sessions.begin() as db:
        db.execute(delete(SigningKey).where(SigningKey.alg == SM2))
    idp.keys.invalidate()
    token = sm2_flow.tokens()["id_token"]
    assert json.loads(b64d(token.split(".")[0]))["alg"] == SM2
    assert idp.tokens.decode(token, typ=None)["sub"]


def test_unknown_id_token_alg_refused(idp: Idp) -> None:
    with pytest.raises(ClientRegistrationError):
        create_client(idp.sessions, name="x", redirect_uris=[REDIRECT], id_token_alg="SM2")

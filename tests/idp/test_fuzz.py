"""Property tests: no input makes an endpoint answer 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.app import create_app
from config.runtime import MIGRATION_LOCATIONS
from config.settings import Settings
from idp.claims import ClaimsRequestError, parse_claims_request
from idp.clients import create_client
from storage.migrate import upgrade

from .conftest import REDIRECT

PARAM_NAMES = st.sampled_from(
    [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "prompt",
        "max_age",
        "claims",
        "id_token_hint",
        "code_challenge",
        "code_challenge_method",
        "grant_type",
        "code",
        "refresh_token",
        "code_verifier",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
        "token",
        "token_type_hint",
        "post_logout_redirect_uri",
        "access_token",
        "rid",
        "lang",
    ]
)
VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            "code",
            "none",
            "openid",
            "S256",
            "plain",
            REDIRECT,
            "a.b.c",
            "{}",
            "-1",
            "client_credentials",
            "authorization_code",
            "refresh_token",
        ]
    ),
)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    data: Path = tmp_path_factory.mktemp("fuzz")
    s = Settings.from_values({"data_dir": str(data), "issuer": "http://127.0.0.1:8000"})
    upgrade(s.database_url, MIGRATION_LOCATIONS)
    app = create_app(s)
    app.extensions["huren.idp"].keys.ensure()
    create_client(
        app.extensions["huren.idp"].sessions,
        name="fuzz",
        redirect_uris=[REDIRECT],
        client_id="fuzz-client",
    )
    yield app, "fuzz-client"
    app.extensions["huren.engine"].dispose()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/authorize",
            "/token",
            "/userinfo",
            "/introspect",
            "/revoke",
            "/logout",
            "/login",
            "/consent",
            "/authorize/continue",
        ]
    ),
    method=st.sampled_from(["GET", "POST"]),
    params=st.dictionaries(PARAM_NAMES, VALUES, max_size=8),
    with_client=st.booleans(),
)
def test_no_input_causes_a_server_error(
    fuzz_app, path: str, method: str, params: dict[str, str], with_client: bool
) -> None:
    app, client_id = fuzz_app
    if with_client:
        params = {**params, "client_id": client_id}
    web = app.test_client()
    if method == "GET":
        response = web.get(path, query_string=params)
    else:
        response = web.post(path, data=params)
    assert response.status_code < 500, (path, method, params, response.get_data(as_text=True)[:300])


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda children: (
                st.lists(children, max_size=3)
                | st.dictionaries(st.text(max_size=10), children, max_size=3)
            ),
            max_leaves=10,
        ).map(json.dumps),
    )
)
def test_claims_parser_only_raises_its_own_error(raw: str) -> None:
    try:
        result = parse_claims_request(raw)
    except ClaimsRequestError:
        return
    assert result is None or isinstance(result, dict)
    for section in (result or {}).values():
        assert isinstance(section, dict)

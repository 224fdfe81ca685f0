"""The whole service's /api/v1 is in one OpenAPI document, the identity provider's part too."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient


def test_every_api_route_of_the_service_is_documented(app: Flask, web: FlaskClient) -> None:
    doc = web.get("/api/v1/openapi.json").get_json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    routes = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            routes += 1
            assert (path, method.lower()) in documented, rule.rule
    assert ("/entities/{entity_id}", "get") in documented
    assert routes >= 7


def test_entities_operation_has_scope_example_and_error_refs(web: FlaskClient) -> None:
    doc: dict[str, Any] = web.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/entities/{entity_id}"]["get"]
    assert op["security"] == [{"bearer": ["entities:read"]}]
    flows = doc["components"]["securitySchemes"]["bearer"]["flows"]
    assert "entities:read" in flows["clientCredentials"]["scopes"]
    example = op["responses"]["200"]["content"]["application/json"]["example"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) <= set(example)
    assert "id_number" not in schema["properties"] and "phone_number" not in schema["properties"]
    for status in ("401", "403", "404"):
        assert op["responses"][status] == {"$ref": "#/components/responses/Error"}

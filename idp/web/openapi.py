"""The identity provider's /api/v1 operations as OpenAPI path items.

They join the integrator API's document (`/api/v1/openapi.json`, built by `cert_interop.web`)
through `config.crypto_api`, so integrators read one description of everything under /api/v1.
"""

from __future__ import annotations

from typing import Any

from .entities_api import SCOPE as ENTITIES_READ

SCOPES = {ENTITIES_READ: "read market entities' registered basic information"}

_ENTITY = {
    "type": "object",
    "required": ["entity_id", "entity_type", "entity_name", "entity_status", "updated_at"],
    "properties": {
        "entity_id": {"type": "string", "format": "uuid"},
        "entity_type": {
            "type": "string",
            "enum": ["legal_person", "natural_person", "public_institution", "other_org"],
        },
        "entity_name": {"type": "string"},
        "uscc": {
            "type": "string",
            "description": "unified social credit code (GB 32100); organisations only",
        },
        "entity_status": {"type": "string", "enum": ["pending", "verified", "rejected"]},
        "updated_at": {"type": "integer", "description": "Unix time of the last change"},
    },
}

_ERROR = {"$ref": "#/components/responses/Error"}

PATHS: dict[str, Any] = {
    "/entities/{entity_id}": {
        "get": {
            "summary": "A market entity's registered basic information (§6.3.2 b)",
            "description": "For a client-credentials token with the scope entities:read. "
            "Never carries personal data (ID numbers, mobiles): a natural person's ID number "
            "is only released as a user claim under the identity scope. Subscribed platforms "
            "are told of changes by signed events (docs/entity-events.md) and call this to "
            "read the new state.",
            "security": [{"bearer": [ENTITIES_READ]}],
            "parameters": [
                {
                    "name": "entity_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 64},
                    "example": "0b8f3c1e-5d2a-4c6b-9f1e-2a7d4e8c9b10",
                }
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": _ENTITY,
                            "example": {
                                "entity_id": "0b8f3c1e-5d2a-4c6b-9f1e-2a7d4e8c9b10",
                                "entity_type": "legal_person",
                                "entity_name": "贵州某某建设工程有限公司",
                                "uscc": "91520100MA6DK2004A",
                                "entity_status": "verified",
                                "updated_at": 1795840000,
                            },
                        }
                    },
                },
                "401": _ERROR,
                "403": _ERROR,
                "404": _ERROR,
            },
        }
    }
}

"""The identity provider's /api/v1 operations as OpenAPI path items.

They join the integrator API's document (`/api/v1/openapi.json`, built by `cert_interop.web`)
through `config.crypto_api`, so integrators read one description of everything under /api/v1.
The mobile device API of QR login (`MOBILE_PATHS`) is there too; it takes no bearer token.
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
_JSON = "application/json"

_DEVICE_AUTH = (
    " No bearer token and no cookie: device requests are authenticated by the device key. "
    "The body (exact bytes, compact JSON, exactly the keys device_id, ticket, action, nonce, "
    "ts) is signed with the key enrolled for device_id, and the base64 signature goes in the "
    "X-Huren-Signature header: ECDSA P-256 with SHA-256 (DER or raw r||s as WebCrypto gives) "
    "or SM2 with SM3 and the default user ID 1234567812345678. ts is Unix seconds and must be "
    "within 60 s of the server's clock; nonce is at least 22 random base64url characters, never "
    "reused. Refusals: 400 invalid_request / request_mismatch (body and URL disagree) / "
    "stale_request, 401 device_revoked (unknown or revoked device) / bad_signature, 404 "
    "ticket_not_found, 409 replayed / wrong_state, 410 ticket_expired, 429 slow_down. "
    "See docs/mobile-qr-login.md."
)
_TICKET_EXAMPLE = "Hk3Jq0tq9nW3Yf1mA2b7cXzLr8dPq5sV"
_DEVICE_EXAMPLE = "6f1d2c3b-8a9e-4f70-b1c2-d3e4f5a6b7c8"
_SIGNED_BODY = {
    "type": "object",
    "required": ["device_id", "ticket", "action", "nonce", "ts"],
    "additionalProperties": False,
    "properties": {
        "device_id": {"type": "string", "maxLength": 64},
        "ticket": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{16,128}$",
            "description": "the t of the QR code's URL; equals the path's ticket",
        },
        "action": {"type": "string", "enum": ["scan", "confirm", "cancel"]},
        "nonce": {"type": "string", "pattern": "^[A-Za-z0-9_-]{22,128}$"},
        "ts": {"type": "integer", "description": "Unix seconds, within 60 s of the server"},
    },
}
_SIGNATURES = {  # by the example device key of docs/mobile-qr-login.md, over the example bodies
    # as this document shows them (keys sorted, compact): any key order is fine, the signature
    # covers the exact bytes sent
    "scan": "MEUCIQDrxyszWIYSkOfNw3Og91SWsPA21J7Y4CMobwz51c7okQIgYgrJ9TfJBFHl"
    "vhLVR85EQ5zdrKO57NukaZtVKBlDn8w=",
    "confirm": "MEUCIEKM/A3UqxnZsdKwH9mAaYfF49dFJibFqAovKTa1VpZiAiEAvyRMrIewCnoJ"
    "EEaVNlOiaXU2TmfM+8clo8+pFoYNpFs=",
    "cancel": "MEQCIBNCERPOanVcb20D6xKVckUrcFGs9u/dyb7tMpoP2MSZAiASQHyUI4KIsVd3"
    "WK/xfPs7qqqaJlGfuwIDaVhQvJMntA==",
}
_PUBLIC_KEY_EXAMPLE = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmWEzYRbJ0tqoStbwqO2SdL6O4LOEdM5OUEEu88uXcg9ove+YtHRcQdTe"
    "FjP+VdVCdeGBRcMitAVaMgIWsL/zwg=="
)
_STATE = {
    "type": "string",
    "enum": ["created", "scanned", "confirmed", "cancelled", "expired"],
}


def _signed_op(action: str, summary: str, description: str, answer: Any, example: Any) -> Any:
    return {
        "post": {
            "summary": summary,
            "description": description + _DEVICE_AUTH,
            "security": [],
            "parameters": [
                {
                    "name": "ticket",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,128}$"},
                    "example": _TICKET_EXAMPLE,
                },
                {
                    "name": "X-Huren-Signature",
                    "in": "header",
                    "required": True,
                    "description": "base64 of the device key's signature over the body bytes",
                    "schema": {"type": "string"},
                    "example": _SIGNATURES[action],
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    _JSON: {
                        "schema": _SIGNED_BODY,
                        "example": {
                            "device_id": _DEVICE_EXAMPLE,
                            "ticket": _TICKET_EXAMPLE,
                            "action": action,
                            "nonce": "q2V0cGxhbnQtbm9uY2UtZXhhbXBsZQ",
                            "ts": 1795840000,
                        },
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {_JSON: {"schema": answer, "example": example}},
                },
                "400": _ERROR,
                "401": _ERROR,
                "404": _ERROR,
                "409": _ERROR,
                "410": _ERROR,
                "429": _ERROR,
            },
        }
    }


MOBILE_PATHS: dict[str, Any] = {
    "/mobile/enroll": {
        "post": {
            "summary": "Enroll a mobile device for QR-code login, step 1: password (§6.3.2 a)",
            "description": "No bearer token: the account's username and password, checked "
            "with the login form's throttling and lockout (401 invalid_credentials, 429 "
            "locked). An SMS code then goes to the account's own mobile (template "
            "device-enroll; in development without a gateway it shows on /dev/sms). The answer "
            "names the enrollment, valid while the code is (300 s). Refusals also: 409 "
            "no_phone, 429 sms_too_soon / sms_throttled (Retry-After), 503 sms_unavailable. "
            "See docs/mobile-qr-login.md.",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    _JSON: {
                        "schema": {
                            "type": "object",
                            "required": ["username", "password"],
                            "properties": {
                                "username": {"type": "string", "maxLength": 150},
                                "password": {"type": "string", "maxLength": 1024},
                            },
                        },
                        "example": {"username": "zhangsan", "password": "correct-horse-9"},
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "the SMS code was sent",
                    "content": {
                        _JSON: {
                            "schema": {
                                "type": "object",
                                "required": ["enrollment", "phone", "expires_in"],
                                "properties": {
                                    "enrollment": {"type": "string"},
                                    "phone": {"type": "string", "description": "masked"},
                                    "expires_in": {"type": "integer"},
                                },
                            },
                            "example": {
                                "enrollment": "bS0yR3Jq9vXw1mZp8c4d6e2f0a1b3c5d",
                                "phone": "138****0000",
                                "expires_in": 300,
                            },
                        }
                    },
                },
                "400": _ERROR,
                "401": _ERROR,
                "409": _ERROR,
                "429": _ERROR,
                "503": _ERROR,
            },
        }
    },
    "/mobile/enroll/{enrollment}": {
        "post": {
            "summary": "Enroll a mobile device, step 2: the SMS code and the device key",
            "description": "No bearer token: the enrollment of step 1 (one use) with the SMS "
            "code, the device's public key (base64 of the DER SubjectPublicKeyInfo of an ECDSA "
            "P-256 key, or of an SM2 key) and a name its owner recognises. A wrong code is 400 "
            "wrong_code with tries_left; after 5 wrong codes the enrollment is void (404 "
            "enrollment_not_found). 400 bad_public_key for any other key. Keep the private key "
            "on the device; it signs the QR requests.",
            "security": [],
            "parameters": [
                {
                    "name": "enrollment",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 128},
                    "example": "bS0yR3Jq9vXw1mZp8c4d6e2f0a1b3c5d",
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    _JSON: {
                        "schema": {
                            "type": "object",
                            "required": ["code", "public_key"],
                            "properties": {
                                "code": {"type": "string", "pattern": "^[0-9]{4,12}$"},
                                "public_key": {
                                    "type": "string",
                                    "description": "base64 DER SubjectPublicKeyInfo",
                                },
                                "name": {"type": "string", "maxLength": 100},
                            },
                        },
                        "example": {
                            "code": "042917",
                            "public_key": _PUBLIC_KEY_EXAMPLE,
                            "name": "张三的手机",
                        },
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "the device is enrolled",
                    "content": {
                        _JSON: {
                            "schema": {
                                "type": "object",
                                "required": ["device_id", "algorithm"],
                                "properties": {
                                    "device_id": {"type": "string"},
                                    "algorithm": {"type": "string", "enum": ["ES256", "SM2"]},
                                    "name": {"type": "string"},
                                },
                            },
                            "example": {
                                "device_id": _DEVICE_EXAMPLE,
                                "algorithm": "ES256",
                                "name": "张三的手机",
                            },
                        }
                    },
                },
                "400": _ERROR,
                "404": _ERROR,
                "409": _ERROR,
                "429": _ERROR,
            },
        }
    },
    "/mobile/qr/{ticket}/scan": _signed_op(
        "scan",
        "The device scanned a login page's QR code; who is asking comes back",
        "created → scanned. Answers the platform (relying party) the browser is signing in to "
        "and the browser's IP address, user agent and opening time, to show the person before "
        "they confirm. The same device may scan again; another device gets 409 wrong_state.",
        {
            "type": "object",
            "required": ["state", "client_name", "browser", "expires_in"],
            "properties": {
                "state": _STATE,
                "client_name": {"type": "string"},
                "browser": {
                    "type": "object",
                    "properties": {
                        "ip": {"type": "string"},
                        "user_agent": {"type": "string"},
                        "opened_at": {"type": "integer", "description": "Unix seconds"},
                    },
                },
                "expires_in": {"type": "integer"},
            },
        },
        {
            "state": "scanned",
            "client_name": "贵州省公共资源交易云平台",
            "browser": {
                "ip": "203.0.113.7",
                "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
                "opened_at": 1795839990,
            },
            "expires_in": 108,
        },
    ),
    "/mobile/qr/{ticket}/confirm": _signed_op(
        "confirm",
        "The person confirmed the sign-in on the device that scanned",
        "scanned → confirmed, only by the device that scanned (409 wrong_state before a scan, "
        "from another device, after a cancel or a confirmation). The browser that opened the "
        "QR code then completes the login of the device's account.",
        {"type": "object", "required": ["state"], "properties": {"state": _STATE}},
        {"state": "confirmed"},
    ),
    "/mobile/qr/{ticket}/cancel": _signed_op(
        "cancel",
        "The person declined the sign-in",
        "created → cancelled (any enrolled device holding the QR code) or scanned → "
        "cancelled (the device that scanned). The login page offers a fresh QR code.",
        {"type": "object", "required": ["state"], "properties": {"state": _STATE}},
        {"state": "cancelled"},
    ),
}

PATHS: dict[str, Any] = {
    **MOBILE_PATHS,
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
    },
}

"""The local bridge (§6.4.2 c): a small JSON API on 127.0.0.1 through which a page of an allowed
origin lists the bidder's certificates and asks for a signature or a key decryption, each
confirmed by the person in the bridge's own prompt. See ``docs/bridge.md``.

Standard library HTTP only; CMS signing is injected (:data:`CmsSigner`) by ``config``.
"""

from drivers.bridge.consent import (
    Consent,
    ConsentRequest,
    ConsentTimeout,
    Decision,
    KioskConsent,
    PageConsent,
    TerminalConsent,
)
from drivers.bridge.errors import BridgeError
from drivers.bridge.server import (
    API_VERSION,
    DEFAULT_PORT,
    MAX_BODY,
    BridgeConfig,
    BridgeServer,
    CmsSigner,
    normalize_origin,
    parse_origin,
)
from drivers.bridge.tokens import TokenRegistry

__all__ = [
    "API_VERSION",
    "DEFAULT_PORT",
    "MAX_BODY",
    "BridgeConfig",
    "BridgeError",
    "BridgeServer",
    "CmsSigner",
    "Consent",
    "ConsentRequest",
    "ConsentTimeout",
    "Decision",
    "KioskConsent",
    "PageConsent",
    "TerminalConsent",
    "TokenRegistry",
    "normalize_origin",
    "parse_origin",
]

"""The market-entity registry: whether a unified social credit code and name are a live
organisation (§6.3.1). Protocol and verdict in `api`, the HTTP backend in `http`."""

from idp.registry.api import (
    Registry,
    RegistryRecord,
    RegistryVerdict,
    VerdictState,
    canonical_uscc,
    verify_organisation,
)
from idp.registry.errors import (
    MalformedUscc,
    RegistryContradiction,
    RegistryError,
    RegistryUnavailable,
)

__all__ = [
    "MalformedUscc",
    "Registry",
    "RegistryContradiction",
    "RegistryError",
    "RegistryRecord",
    "RegistryUnavailable",
    "RegistryVerdict",
    "VerdictState",
    "canonical_uscc",
    "verify_organisation",
]

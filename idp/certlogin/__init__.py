"""Certificate login and certificate binding (§6.3.2 a, §6.4.2 a).

A bidder signs a one-time challenge with the key of a CA certificate (through the local bridge);
the provider checks the signature, the certificate (chain, revocation, CA profile) through the
trust store, and logs in the account the certificate is bound to. Bindings are made by an
entity's administrator (or the member themself) after a password login, or by operators with
``huren cert bind``. A person can hold several certificates from different CAs for one entity:
that is the mutual recognition.

Kept free of imports so that `idp.web.authorize` can read the levels without a cycle.
"""

from __future__ import annotations

ACR_PASSWORD = "urn:huren:loa:1"
ACR_CERTIFICATE = "urn:huren:loa:2"
ACR_LEVELS = {ACR_PASSWORD: 1, ACR_CERTIFICATE: 2}
"""Authentication context classes this provider issues, weakest first."""

AMR_CERTIFICATE = ["hwk", "pop"]
"""RFC 8176: proof of possession of a hardware-secured key."""


def acr_level(acr: str | None) -> int:
    return ACR_LEVELS.get(acr or "", 0)


def required_level(acr_values: str | None) -> int:
    """The level a request's ``acr_values`` needs: the weakest of the values we know (any one
    of them satisfies the client), 0 when it names none of ours."""
    known = [ACR_LEVELS[v] for v in (acr_values or "").split() if v in ACR_LEVELS]
    return min(known, default=0)


__all__ = [
    "ACR_CERTIFICATE",
    "ACR_LEVELS",
    "ACR_PASSWORD",
    "AMR_CERTIFICATE",
    "acr_level",
    "required_level",
]

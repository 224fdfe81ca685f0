"""CA identity profiles: declarative rules saying where a CA's certificates carry the holder's
identity (unified social credit code, ID number, names …), and the extraction that applies them.

A profile is data (TOML or JSON, see :mod:`cert_interop.profiles.model` for the format); adding
a CA is a configuration change. Shipped profiles are in :mod:`cert_interop.profiles.builtin`.
"""

from __future__ import annotations

from cert_interop.profiles.builtin import builtin_profiles
from cert_interop.profiles.checks import id_number_is_valid, org_code_is_valid, uscc_is_valid
from cert_interop.profiles.extract import extract_identity
from cert_interop.profiles.model import (
    ENTITY_TYPES,
    FIELDS,
    Identity,
    Profile,
    Rejection,
    Rule,
    load_profile,
)

__all__ = [
    "ENTITY_TYPES",
    "FIELDS",
    "Identity",
    "Profile",
    "Rejection",
    "Rule",
    "builtin_profiles",
    "extract_identity",
    "id_number_is_valid",
    "load_profile",
    "org_code_is_valid",
    "uscc_is_valid",
]

"""Profiles shipped with Huren, as TOML documents (the same format a CA's own profile uses).

They are Python string constants rather than package data files so that no packaging change is
needed; each is parsed with :func:`load_profile` exactly as an operator's file would be.
``default`` chains the others: SM2 extensions (2023, then 2012), RSA extensions, vendor
fallbacks, then the subject DN.
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType
from typing import Final

from cert_interop.profiles.model import Profile, load_profile

__all__ = ["BUILTIN_DOCUMENTS", "builtin_profiles"]

GMT0015_2012: Final = """
name = "gmt0015-2012"
description = "SM2 certificates, GM/T 0015-2012 identity extensions 1.2.156.10260.4.1.x"

[[rules]]
id = "id-number"
extension = "1.2.156.10260.4.1.1"
field = "id_number"
entity_type = "natural_person"

[[rules]]
id = "social-insurance-number"
extension = "1.2.156.10260.4.1.2"
field = "social_insurance_number"
entity_type = "natural_person"

[[rules]]
id = "business-registration-number"
extension = "1.2.156.10260.4.1.3"
field = "business_registration_number"
entity_type = "legal_person"

[[rules]]
# organisation code at some CAs, unified social credit code at others: decided by shape
id = "organization-or-credit-code"
extension = "1.2.156.10260.4.1.4"
field = "credit_or_organization_code"
entity_type = "legal_person"

[[rules]]
id = "taxpayer-number"
extension = "1.2.156.10260.4.1.5"
field = "taxpayer_number"
"""

GMT0015_2023: Final = """
name = "gmt0015-2023"
description = "SM2 certificates, GM/T 0015-2023: 1.2.156.10260.4.4 and 1.2.156.10260.4.1.1.x"

[[rules]]
id = "credit-code"
extension = "1.2.156.10260.4.4"
field = "credit_code"
entity_type = "legal_person"

[[rules]]
id = "id-number"
extension = "1.2.156.10260.4.1.1.1"
field = "id_number"
entity_type = "natural_person"

[[rules]]
id = "passport-number"
extension = "1.2.156.10260.4.1.1.2"
field = "passport_number"
entity_type = "natural_person"
"""

RSA_1_2_86_11_7: Final = """
name = "rsa-1.2.86.11.7"
description = "RSA certificates of several Chinese CAs: extensions 1.2.86.11.7.x"

[[rules]]
id = "id-number"
extension = "1.2.86.11.7.1"
field = "id_number"
entity_type = "natural_person"

[[rules]]
id = "business-registration-number"
extension = "1.2.86.11.7.3"
field = "business_registration_number"
entity_type = "legal_person"

[[rules]]
id = "credit-code"
extension = "1.2.86.11.7.4"
field = "credit_code"
entity_type = "legal_person"

[[rules]]
id = "taxpayer-number"
extension = "1.2.86.11.7.5"
field = "taxpayer_number"
"""

VENDOR_FALLBACKS: Final = """
name = "vendor-fallbacks"
description = "Vendor-specific holder identifiers seen in mobile CA apps; kind decided by shape"

[[rules]]
id = "1.2.156.1.8888.148"
extension = "1.2.156.1.8888.148"
field = "identifier"

[[rules]]
id = "1.2.156.112570.11.205"
extension = "1.2.156.112570.11.205"
field = "identifier"
"""

SUBJECT_DN: Final = """
name = "subject-dn"
description = "Identity in the subject DN: CN = 041@code@name@seq, serialNumber, OU, O, CN"

[[rules]]
id = "cn-041-code"
subject = "CN"
pattern = '^041@(?P<value>[^@]+)@'
field = "identifier"

[[rules]]
id = "cn-041-name"
subject = "CN"
pattern = '^041@[^@]*@(?P<value>[^@]+)@'
field = "name"

[[rules]]
id = "serial-number"
subject = "serialNumber"
field = "identifier"

[[rules]]
id = "ou"
subject = "OU"
field = "identifier"

[[rules]]
id = "organization-identifier"
subject = "organizationIdentifier"
pattern = '^(?:[A-Z]{3}CN-)?(?P<value>[0-9A-Z]{18})$'
field = "credit_code"

[[rules]]
id = "o"
subject = "O"
field = "organization_name"

[[rules]]
id = "cn"
subject = "CN"
pattern = '^(?P<value>[^@]+)$'
field = "name"
"""

DEFAULT: Final = """
name = "default"
description = "All shipped profiles in turn: SM2 2023, SM2 2012, RSA, vendor fallbacks, subject DN"
extends = ["gmt0015-2023", "gmt0015-2012", "rsa-1.2.86.11.7", "vendor-fallbacks", "subject-dn"]
"""

BUILTIN_DOCUMENTS: Final = (
    GMT0015_2012,
    GMT0015_2023,
    RSA_1_2_86_11_7,
    VENDOR_FALLBACKS,
    SUBJECT_DN,
    DEFAULT,
)
"""In dependency order (a document may extend only those before it)."""


@cache
def _load() -> MappingProxyType[str, Profile]:
    known: dict[str, Profile] = {}
    for doc in BUILTIN_DOCUMENTS:
        profile = load_profile(doc, "toml", known=known)
        known[profile.name] = profile
    return MappingProxyType(known)


def builtin_profiles() -> dict[str, Profile]:
    """The shipped profiles by name (a fresh dict; the profiles are parsed once and shared)."""
    return dict(_load())

"""Check characters of Chinese identity codes, as certificate profiles use them.

A thin re-export: the rules live in :mod:`cert_interop.identifiers`, the one place that knows the
shape of identifiers (registration uses the same module for its typed reasons). These strict
forms take the value exactly as a CA wrote it, without normalisation.
"""

from __future__ import annotations

from cert_interop.identifiers import id_number_is_valid, org_code_is_valid, uscc_is_valid

__all__ = ["id_number_is_valid", "org_code_is_valid", "uscc_is_valid"]

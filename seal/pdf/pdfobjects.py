"""Typed constructors for the pyhanko PDF objects this package writes.

pyhanko's ``generic`` object classes have untyped ``__init__``s; going through these helpers
keeps ``mypy --strict`` honest everywhere else with one narrow cast each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

__all__ = ["entry", "pdf_array", "pdf_dict", "pdf_float", "pdf_int"]

_dict = cast(
    Callable[[Mapping[generic.NameObject, object]], generic.DictionaryObject],
    generic.DictionaryObject,
)
_int = cast(Callable[[int], generic.NumberObject], generic.NumberObject)
_float = cast(Callable[[float], generic.FloatObject], generic.FloatObject)


def pdf_dict(entries: Mapping[str, object]) -> generic.DictionaryObject:
    """A dictionary from ``{"/Key": value}``."""
    return _dict({pdf_name(k): v for k, v in entries.items()})


def pdf_int(value: int) -> generic.NumberObject:
    return _int(value)


def pdf_float(value: float) -> generic.FloatObject:
    return _float(round(value, 4))


def pdf_array(items: Iterable[generic.PdfObject]) -> generic.ArrayObject:
    return generic.ArrayObject(items)


def entry(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` resolved, or ``default``. ``DictionaryObject.get`` is ``dict.get``: it hands
    back an indirect reference unresolved, and most real fonts keep ``/FontDescriptor``,
    ``/Widths`` or ``/W`` as references."""
    try:
        return obj[key] if key in obj else default  # noqa: SIM401 (get would not resolve)
    except Exception:  # a dangling reference or a broken object: as if absent
        return default

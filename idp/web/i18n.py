"""`_()` for Python code: Flask-Babel's gettext, typed as returning `str`."""

from __future__ import annotations

from flask_babel import gettext


def _(text: str, **variables: object) -> str:
    return str(gettext(text, **variables))

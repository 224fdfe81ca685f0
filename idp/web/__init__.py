"""The identity provider's HTTP face: one blueprint, one module per group of endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint

if TYPE_CHECKING:
    from flask import Flask

    from ..service import Idp

bp = Blueprint(
    "idp",
    __name__,
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/assets",
)

from . import (  # noqa: E402, F401  (routes)
    authorize,
    dev_sms,
    endpoints,
    entities_api,
    entity_admin,
    login,
    logout,
    operator,
    register,
)


def init_app(app: Flask, idp: Idp) -> None:
    """Register the blueprint, expose the `Idp` to views, and the template helpers it needs."""
    from .context import EXTENSION
    from .labels import reason_text, scope_label

    app.extensions[EXTENSION] = idp
    app.register_blueprint(bp)
    app.jinja_env.globals.update(scope_label=scope_label, reason_text=reason_text)


__all__ = ["bp", "init_app"]

"""The developer's SMS inbox: `GET /dev/sms` lists what the development sender "sent".

Only in development without a gateway (`Onboarding.dev_sms` set and `HUREN_ENVIRONMENT` is
development); everywhere else the page does not exist (404), so production never shows a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import abort, render_template

from . import bp
from .context import current_idp

CHINA = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True)
class Row:
    phone: str
    code: str
    template: str
    sent_at: str


@bp.route("/dev/sms")
def dev_sms() -> Any:
    idp = current_idp()
    sender = idp.onboarding.dev_sms
    if sender is None or not idp.config.development:
        abort(404)
    rows = [
        Row(
            phone=message.phone,
            code=message.params.get("code", ""),
            template=message.template,
            sent_at=datetime.fromtimestamp(message.sent_at, CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        )
        for message in sender.recent()
    ]
    return render_template("dev_sms.html", messages=rows)

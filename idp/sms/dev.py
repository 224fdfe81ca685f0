"""A development SMS sender: nothing leaves the machine.

Each message is written to the log (the code included, so a developer can register without a
phone; this is the only sender that logs a code) and kept in the ephemeral store so a developer
page, switched off in production, can list the recent ones. Never configure it in production.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from cert_interop.identifiers import mask_phone
from storage.ephemeral import EphemeralStore

__all__ = ["DevMessage", "DevSmsSender"]

log = logging.getLogger(__name__)

_SEQ = "sms-dev:seq"
_SLOT = "sms-dev:msg:{}"


@dataclass(frozen=True)
class DevMessage:
    """One message the dev sender "sent"."""

    phone: str
    template: str
    params: Mapping[str, str] = field(hash=False)
    sent_at: float
    """Unix time."""


class DevSmsSender:
    """`SmsSender` that logs and keeps the last `keep` messages (each for `ttl` seconds).

    Messages go to `keep` slots in the ephemeral store, chosen by an atomic counter, so every
    worker's messages appear on the developer page and old ones are overwritten in turn.
    """

    def __init__(self, store: EphemeralStore, *, keep: int = 50, ttl: float = 3600) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.store = store
        self.keep = keep
        self.ttl = ttl

    def send(self, phone: str, template: str, params: Mapping[str, str]) -> None:
        shown = " ".join(f"{k}={v}" for k, v in params.items())
        log.info("SMS to %s: template=%s %s", mask_phone(phone), template, shown)
        seq = self.store.incr(_SEQ, self.ttl)
        record = {
            "seq": seq,
            "phone": phone,
            "template": template,
            "params": dict(params),
            "sent_at": time.time(),
        }
        self.store.put(_SLOT.format(seq % self.keep), json.dumps(record).encode(), self.ttl)

    def recent(self) -> list[DevMessage]:
        """The kept messages, newest first."""
        found: list[tuple[float, int, DevMessage]] = []
        for slot in range(self.keep):
            raw = self.store.get(_SLOT.format(slot))
            if raw is None:
                continue
            try:
                data = json.loads(raw)
                message = DevMessage(
                    phone=str(data["phone"]),
                    template=str(data["template"]),
                    params={str(k): str(v) for k, v in data["params"].items()},
                    sent_at=float(data["sent_at"]),
                )
                seq = int(data["seq"])
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            found.append((message.sent_at, seq, message))
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [message for _, _, message in found]

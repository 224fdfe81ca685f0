"""A worker's background loop for outbox deliveries (back-channel logout, entity events)."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class BackgroundLoop:
    """Calls `tick()` every `interval` seconds (sooner after `kick()`) in a daemon thread.

    Subclasses call `super().__init__(name)` and define `tick`. A tick that raises is logged
    and the loop goes on: outbox leases and retries make the next tick pick the work up.
    """

    def __init__(self, name: str) -> None:
        self._loop_name = name
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        raise NotImplementedError

    def start(self, interval: float = 2.0) -> None:
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.tick()
                except Exception:  # a tick must never kill the worker
                    log.exception("%s: background pass failed", self._loop_name)
                self._wake.wait(interval)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name=self._loop_name, daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

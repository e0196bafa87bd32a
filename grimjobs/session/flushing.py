"""Flushing session files on a timer, so what was written reaches the OS within a bound.

A writer that flushes only when it writes keeps its newest rows in a user-space buffer for as long
as nothing else is written: with event-only input (a key released, then nothing), a kill -9 seconds
later loses that release. `FlushTimer` flushes a writer every `interval_ns` from its own thread,
whatever the writer is doing; the writer's lock keeps a flush from landing inside a record, so the
file on disk always ends at a record boundary (or a torn tail only when the OS itself cuts a write).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from grimjobs.clock import NS_PER_S

FLUSH_INTERVAL_NS = 200_000_000  # docs promise <= 250 ms; the timer's own wake-up jitter fits in the rest


class FlushTimer:
    """Calls `flush` every `interval_ns` on a daemon thread until `stop()`."""

    def __init__(self, flush: Callable[[], None], name: str, interval_ns: int = FLUSH_INTERVAL_NS) -> None:
        self._flush = flush
        self._interval_s = interval_ns / NS_PER_S
        self._stopped = threading.Event()
        self.flushes = 0
        self._thread = threading.Thread(target=self._run, name=f"flush-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                self._flush()
            except (OSError, ValueError):  # disk full / closed under us: the writer reports it
                return
            self.flushes += 1

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

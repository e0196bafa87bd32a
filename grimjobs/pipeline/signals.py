"""Ctrl+C, SIGTERM and SIGHUP (a closed terminal) end a recording the same way: cleanly.

The first signal asks the recording to finish (`on_stop`); any later one, while the files are
finalized, validated and summary.json is written, is logged and ignored, so a second Ctrl+C
cannot lose the validation block. (A recording that must die at once: kill -9; the fragmented
MP4, sync.csv and actions.bin stay readable and `repair` finishes them.)
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger("grimjobs.pipeline")

STOP_SIGNALS = tuple(
    s for s in (getattr(signal, name, None) for name in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None
)


class StopSignals:
    def __init__(self, on_stop: Callable[[str], None]) -> None:
        self.on_stop = on_stop
        self.received: list[str] = []

    def handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        self.received.append(name)
        if len(self.received) == 1:
            log.info("%s received: finishing", name)
            self.on_stop(name)
        else:
            log.warning("%s received again: still finishing (kill -9 to abort now)", name)


@contextmanager
def stop_signals(on_stop: Callable[[str], None]) -> Iterator[StopSignals]:
    """Install the handlers for the block (main thread only; elsewhere they are left alone)."""
    handlers = StopSignals(on_stop)
    if threading.current_thread() is not threading.main_thread():
        yield handlers
        return
    previous = {sig: signal.signal(sig, handlers.handle) for sig in STOP_SIGNALS}
    try:
        yield handlers
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)

"""No input device: the recording has an empty actions.bin."""

from __future__ import annotations

import time

from grimjobs.input.base import Emit, InputDevice


class NoInput(InputDevice):
    def open(self, start_ns: int) -> None:
        pass

    def poll(self, emit: Emit, timeout_s: float) -> int:
        time.sleep(timeout_s)
        return 0

"""Pause / step / seek / end of a running capture loop: the one controller every caller uses.

Pure (no device, socket or protocol import), below the pipeline and the stream packages, so the
capture loop (`grimjobs/pipeline/loop.py`) and the state-log replayer (`grimjobs/stream/engine.py`)
share its rules and bounds.

GrimStream CONTROL from a viewer (the `stream` job, `record stream=...`), the recorder's hotkeys and
tests all go through `LoopController`; the capture loop asks it once per slot what to do. Every
request is bounded before it is accepted, so no request can make the loop run unpaced, overflow a
frame id or wedge it paused:

- `step(n)`: 1 <= n <= MAX_STEP_FRAMES; steps are taken at the schedule's own slots (a step never
  makes the loop run faster than `capture.fps`); `resume` clears pending steps.
- `seek(f)`: 0 <= f <= MAX_SEEK_FRAME, only for `random_access` sources (live ones cannot seek);
  frame ids stay below MAX_SEEK_FRAME + slots, far inside GrimStream's u64 `frame_id`.

A refused request returns the reason (one line, logged by the caller), and changes nothing.
"""

from __future__ import annotations

import logging
import threading
from enum import Enum
from typing import Protocol

log = logging.getLogger(__name__)

MAX_STEP_FRAMES = 1000
MAX_SEEK_FRAME = 1 << 40  # ~145 years of frames at 240 fps, and 2^24 times below u64 overflow


class ControlRequest(Protocol):
    """What a GrimStream CONTROL carries (`grimjobs.stream.protocol.Control`)."""

    @property
    def kind(self) -> str: ...
    @property
    def frames(self) -> int | None: ...
    @property
    def frame_id(self) -> int | None: ...


def check_control(control: ControlRequest) -> str | None:
    """The bounds every consumer of CONTROL applies (the capture loop, the state-log replayer):
    None when the request is acceptable, else why not (one line)."""
    kind = str(control.kind)
    if kind == "step":
        n = 1 if control.frames is None else control.frames
        if not 1 <= n <= MAX_STEP_FRAMES:
            return f"step frames={n} is outside 1..{MAX_STEP_FRAMES}"
    elif kind == "seek":
        if control.frame_id is None:
            return "seek without frame_id"
        if not 0 <= control.frame_id <= MAX_SEEK_FRAME:
            return f"seek frame_id={control.frame_id} is outside 0..{MAX_SEEK_FRAME}"
    elif kind not in ("viewer_ready", "pause", "resume"):
        return f"unknown CONTROL kind {kind!r}"
    return None


class SlotAction(Enum):
    CAPTURE = "capture"
    PAUSED = "paused"


class LoopController:
    """Thread-safe: requests come from an I/O thread or a hotkey thread, `next_slot` from the loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.paused = False
        self.pending_steps = 0
        self._seek_to: int | None = None
        self._show_seek = False
        self.random_access = False
        self.end_reason: str | None = None
        self._stop: threading.Event | None = None
        self.refused = 0

    def attach(self, random_access: bool, stop: threading.Event) -> None:
        """Called by the loop when it starts: what the source can do, and how to end the loop."""
        with self._lock:
            self.random_access = random_access
            self._stop = stop
            if self.end_reason is not None:
                stop.set()

    # requests -------------------------------------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            self.paused = True

    def resume(self) -> None:
        with self._lock:
            self.paused = False
            self.pending_steps = 0  # a resume never leaves steps that would run after it

    def toggle_pause(self) -> bool:
        """Pause if playing, resume if paused; returns whether it is paused now."""
        with self._lock:
            self.paused = not self.paused
            self.pending_steps = 0
            return self.paused

    def step(self, frames: int | None = 1) -> str | None:
        n = 1 if frames is None else frames
        if not 1 <= n <= MAX_STEP_FRAMES:
            return self._refuse(f"step frames={n} is outside 1..{MAX_STEP_FRAMES}")
        with self._lock:
            self.paused = True
            self.pending_steps = min(MAX_STEP_FRAMES, self.pending_steps + n)
        return None

    def seek(self, frame: int) -> str | None:
        if not 0 <= frame <= MAX_SEEK_FRAME:
            return self._refuse(f"seek frame_id={frame} is outside 0..{MAX_SEEK_FRAME}")
        with self._lock:
            if not self.random_access:
                self.refused += 1
                return "seek: the capture source is live and cannot seek"
            self._seek_to = frame
            self._show_seek = self.paused  # paused: show the frame sought to (not a step)
        return None

    def end(self, reason: str) -> None:
        """End the loop at the next slot, with `reason` as its end_reason."""
        with self._lock:
            if self.end_reason is None:
                self.end_reason = reason
            stop = self._stop
        if stop is not None:
            stop.set()

    def apply(self, control: ControlRequest) -> str | None:
        """A GrimStream CONTROL -> the request above; None when applied, else why not."""
        refused = check_control(control)
        if refused is not None:
            return self._refuse(refused)
        kind = str(control.kind)
        if kind == "viewer_ready":
            return None
        if kind == "pause":
            self.pause()
            return None
        if kind == "resume":
            self.resume()
            return None
        if kind == "step":
            return self.step(control.frames)
        assert control.frame_id is not None  # check_control: a seek has its frame_id
        return self.seek(control.frame_id)

    def _refuse(self, reason: str) -> str:
        with self._lock:
            self.refused += 1
        return reason

    # the loop's side ------------------------------------------------------------------------
    @property
    def holding(self) -> bool:
        """Paused with nothing to show: the next slots would be paused ones."""
        with self._lock:
            return self.paused and self.pending_steps == 0 and not self._show_seek

    def next_slot(self) -> tuple[SlotAction, int | None]:
        """What to do with the slot now due, and a seek target to apply before it (or None)."""
        with self._lock:
            seek, self._seek_to = self._seek_to, None
            show, self._show_seek = self._show_seek, False
            if not self.paused or (show and seek is not None):
                return SlotAction.CAPTURE, seek
            if self.pending_steps > 0:
                self.pending_steps -= 1
                return SlotAction.CAPTURE, seek
            return SlotAction.PAUSED, seek

"""The capture loop: takes frames from a source on a monotonic-deadline schedule.

Slot k is due at t0 + k / fps. When the loop wakes late by whole periods, the missed slots are
counted as dropped (never silently skipped); when no buffer is free because the encoder is
behind, the slot is dropped and counted. Unpaced, it takes frames as fast as buffers free up.
"""

from __future__ import annotations

import logging
import queue
import threading

from grimjobs.capture.base import CaptureSource, SourceEnded
from grimjobs.clock import NS_PER_S, now_ns, sleep_until
from grimjobs.pipeline.pool import FramePool, FrameRef

log = logging.getLogger(__name__)


class CaptureLoop:
    def __init__(
        self,
        source: CaptureSource,
        pool: FramePool,
        frames: queue.SimpleQueue[FrameRef | None],
        stop: threading.Event,
    ) -> None:
        self.source = source
        self.pool = pool
        self.frames = frames
        self.stop = stop
        self.captured = 0
        self.dropped = 0
        self.slots = 0
        self.start_ns = 0
        self.end_reason = "running"
        self.error: BaseException | None = None

    def run(self, start_ns: int) -> None:
        s = self.source.settings
        period_ns = round(NS_PER_S / s.fps)

        def due(k: int) -> int:  # exact per slot, so rounding never accumulates over a long run
            return start_ns + round(k * NS_PER_S / s.fps)

        duration_ns = None if s.duration is None else round(s.duration * NS_PER_S)
        self.start_ns = start_ns
        slot = 0
        try:
            while not self.stop.is_set():
                deadline = due(slot)
                if s.paced:
                    sleep_until(deadline)
                    late_slots = (now_ns() - deadline) // period_ns
                    if late_slots > 0:  # woke up whole periods late: those frames were never taken
                        self.dropped += late_slots
                        slot += late_slots
                        deadline = due(slot)
                if s.max_frames is not None and slot >= s.max_frames:
                    self.end_reason = "max_frames"
                    break
                if duration_ns is not None and (deadline if s.paced else now_ns()) - start_ns >= duration_ns:
                    self.end_reason = "duration"
                    break
                ref = self.pool.acquire(timeout_s=0.0 if s.paced else 1.0)
                if ref is None:
                    if s.paced:
                        self.dropped += 1
                        slot += 1
                    continue
                try:
                    ref.t_ns = self.source.grab(ref.pixels, slot)
                except SourceEnded:
                    ref.release()
                    self.end_reason = "source ended"
                    break
                ref.slot = slot
                self.frames.put(ref)
                self.captured += 1
                slot += 1
            else:
                self.end_reason = "stopped"
        except BaseException as exc:  # reported by the recorder; the files are still finalized
            self.error = exc
            self.end_reason = f"capture error: {exc}"
            log.exception("capture failed")
        finally:
            self.slots = slot
            self.frames.put(None)

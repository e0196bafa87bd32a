"""The capture loop: takes frames from a source on a monotonic-deadline schedule and hands them
to the sinks (encoder, GrimStream publisher, or both: see `pipeline/sinks.py`).

`record` (with or without `stream=tcp|uds`) and the `stream` job are two configurations of this
one loop. Slot k is due at t0 + k / fps, computed from k each time so rounding never accumulates.
Every slot ends in exactly one of five ways, and the counts always add up to `slots`:

- captured: the source filled a buffer; the frame goes to the sinks with its capture time;
- dropped_late: the loop woke whole periods after a deadline (the machine or the source was too
  slow), so those slots were never taken;
- dropped_queue_full: no free buffer (a sink is behind); the slot is skipped now rather than
  delaying every later frame;
- gap, cause "source": the source had nothing to show (`SourceGap`: a minimized window);
- gap, cause "paused": the controller held the loop paused (CONTROL pause, a hotkey).

Limits, the same for every configuration: `capture.max_frames` counts slots (not frames sent), and
`capture.duration` is schedule time, i.e. slots whose time k / fps is below it (so a duration is
exactly ceil(duration x fps) slots, paced or not; unpaced runs them as fast as buffers free up).

Random-access sources (`CaptureSource.random_access`: the test pattern, file playback) are asked
for a content position that seeks move and that stands still while paused; live sources are
asked for the slot and pause by not sending.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from grimjobs.capture.base import CaptureSource, SourceEnded, SourceGap
from grimjobs.clock import NS_PER_S, now_ns, sleep_until
from grimjobs.frames import FramePool, FrameRef
from grimjobs.playback import LoopController, SlotAction

log = logging.getLogger(__name__)

# Sleeping longer than this waits on the stop event instead, so a stop at 1 fps is not a second late.
_WAIT_ON_STOP_NS = 100_000_000
_SPIN_MARGIN_NS = 20_000_000


class DurationHistogram:
    """Grab durations without a per-frame allocation: fixed log-spaced bins (5% wide, 1 us to
    ~100 s) in a preallocated array; exact count, mean and max, p50/p99 to within a bin."""

    RATIO = 1.05
    _LOG_RATIO = math.log(RATIO)
    BINS = 380  # 1.05^380 us ~ 110 s

    def __init__(self) -> None:
        self.counts = np.zeros(self.BINS, np.int64)
        self.count = 0
        self.total_ns = 0
        self.max_ns = 0

    def add(self, ns: int) -> None:
        us = ns / 1000.0
        index = 0 if us <= 1.0 else min(self.BINS - 1, int(math.log(us) / self._LOG_RATIO) + 1)
        self.counts[index] += 1
        self.count += 1
        self.total_ns += ns
        if ns > self.max_ns:
            self.max_ns = ns

    def quantile_ms(self, q: float) -> float:
        """Upper edge of the bin holding quantile q (never above the exact max)."""
        if self.count == 0:
            return 0.0
        rank = max(1, math.ceil(q * self.count))
        index = int(np.searchsorted(np.cumsum(self.counts), rank))
        upper_us = self.RATIO**index
        return round(min(upper_us / 1000.0, self.max_ns / 1e6), 3)

    def as_dict(self) -> dict[str, float]:
        mean = self.total_ns / self.count / 1e6 if self.count else 0.0
        return {
            "mean": round(mean, 3),
            "p50": self.quantile_ms(0.50),
            "p99": self.quantile_ms(0.99),
            "max": round(self.max_ns / 1e6, 3),
        }


@dataclass
class Gap:
    """Consecutive slots without a frame for one cause; times are the schedule's."""

    start_ns: int
    end_ns: int
    slots: int
    cause: str  # "source" or "paused"
    last_slot: int

    def as_dict(self) -> dict[str, Any]:
        return {"start_ns": self.start_ns, "end_ns": self.end_ns, "slots": self.slots, "cause": self.cause}


def slot_limit(fps: float, max_frames: int | None, duration: float | None) -> int | None:
    """The number of slots a run has: max_frames, and the slots of `duration` seconds of schedule."""
    limits = []
    if max_frames is not None:
        limits.append(max_frames)
    if duration is not None:
        if not math.isfinite(duration):
            raise ValueError(f"capture.duration={duration} is not a number of seconds")
        limits.append(max(1, math.ceil(duration * fps - 1e-9)))
    return min(limits) if limits else None


class CaptureLoop:
    def __init__(
        self,
        source: CaptureSource,
        pool: FramePool,
        frames: queue.SimpleQueue[FrameRef | None],
        stop: threading.Event,
        controller: LoopController | None = None,
    ) -> None:
        self.source = source
        self.pool = pool
        self.frames = frames
        self.stop = stop
        self.controller = controller
        self.captured = 0
        self.dropped_late = 0
        self.dropped_queue_full = 0
        self.gap_slots = 0
        self.gaps: list[Gap] = []
        self.slots = 0
        self.start_ns = 0
        self.grab = DurationHistogram()
        self.wake_late_ns_max = 0  # worst lateness of a slot that was still taken
        self.end_reason = "running"
        self.end_ns = 0
        self.error: BaseException | None = None
        self.position = 0  # content position of a random-access source (seek moves it)
        self.fps = float(source.settings.fps)
        self.paced = bool(source.settings.paced)

    @property
    def dropped(self) -> int:
        return self.dropped_late + self.dropped_queue_full

    def _wait_until(self, deadline: int) -> None:
        remaining = deadline - now_ns()
        if remaining > _WAIT_ON_STOP_NS:
            self.stop.wait((remaining - _SPIN_MARGIN_NS) / NS_PER_S)
        if not self.stop.is_set():
            sleep_until(deadline)

    def _gap(self, slot: int, cause: str, start_ns: int, end_ns: int, slots: int = 1) -> None:
        """Slots `slot` .. `slot + slots - 1` had no frame for `cause`."""
        self.gap_slots += slots
        last = self.gaps[-1] if self.gaps else None
        if last is not None and last.cause == cause and last.last_slot == slot - 1:
            last.slots += slots
            last.end_ns = end_ns
            last.last_slot = slot + slots - 1
        else:
            self.gaps.append(Gap(start_ns, end_ns, slots, cause, slot + slots - 1))

    def run(self, start_ns: int) -> None:
        slot = 0
        self.start_ns = start_ns
        fps = self.fps
        paced = self.paced
        random_access = self.source.random_access

        def due(k: int) -> int:  # exact per slot, so rounding never accumulates over a long run
            return start_ns + round(k * NS_PER_S / fps)

        try:
            s = self.source.settings
            limit = slot_limit(fps, s.max_frames, s.duration)
            period_ns = round(NS_PER_S / fps)
            controller = self.controller
            if controller is not None:
                controller.attach(random_access, self.stop)
            while True:
                if self.stop.is_set():
                    self.end_reason = "stopped"
                    break
                if limit is not None and slot >= limit:
                    self.end_reason = "max_frames" if s.max_frames == limit else "duration"
                    break
                deadline = due(slot)
                if paced:
                    self._wait_until(deadline)
                    if self.stop.is_set():
                        continue
                    late_slots = (now_ns() - deadline) // period_ns
                    if late_slots > 0:  # woke up whole periods late: those frames were never taken
                        if limit is not None:
                            late_slots = min(late_slots, limit - slot)
                        if controller is not None and controller.holding:
                            # Paused anyway: those slots are part of the paused span, not drops.
                            self._gap(slot, "paused", deadline, due(slot + late_slots), late_slots)
                        else:
                            self.dropped_late += late_slots
                            self.position += late_slots
                        slot += late_slots
                        continue  # the limit and the stop are checked again for the slot now due
                action, seek = (SlotAction.CAPTURE, None) if controller is None else controller.next_slot()
                if seek is not None and random_access:
                    self.position = seek
                if action is SlotAction.PAUSED:
                    if not paced:  # unpaced has no schedule to wait on: a paused slot lasts a period
                        gap_start = now_ns()
                        self.stop.wait(period_ns / NS_PER_S)
                        self._gap(slot, "paused", gap_start, now_ns())
                    else:
                        self._gap(slot, "paused", deadline, due(slot + 1))
                    slot += 1
                    continue
                ref = self.pool.acquire(timeout_s=0.0 if paced else 1.0)
                if ref is None:
                    if paced:
                        self.dropped_queue_full += 1
                        slot += 1
                        self.position += 1
                    continue
                if paced:
                    late_ns = now_ns() - deadline
                    if late_ns > self.wake_late_ns_max:
                        self.wake_late_ns_max = late_ns
                position = self.position if random_access else slot
                grab_start = now_ns()
                try:
                    ref.t_ns = self.source.grab(ref.pixels, position)
                except SourceGap:
                    ref.release()
                    self._gap(
                        slot,
                        "source",
                        deadline if paced else grab_start,
                        due(slot + 1) if paced else now_ns(),
                    )
                    slot += 1
                    self.position += 1
                    continue
                except SourceEnded as ended:
                    ref.release()
                    self.end_reason = f"source ended: {ended}" if str(ended) else "source ended"
                    break
                except BaseException:
                    ref.release()
                    raise
                self.grab.add(now_ns() - grab_start)
                ref.index = position  # the stream's frame_id; the encode sink renumbers it
                self.frames.put(ref)
                self.captured += 1
                slot += 1
                self.position += 1
            if controller is not None and controller.end_reason is not None and self.end_reason == "stopped":
                self.end_reason = controller.end_reason
        except BaseException as exc:  # reported by the caller; the files are still finalized
            self.error = exc
            self.end_reason = f"capture error: {type(exc).__name__}: {exc}"
            log.debug("capture failed", exc_info=True)
        finally:
            self.slots = slot
            # Where the recording ends on the schedule (not when this thread got to run again).
            self.end_ns = min(now_ns(), due(slot)) if paced else now_ns()
            self.frames.put(None)

    def stats(self) -> dict[str, Any]:
        """summary.json's `capture.loop` (docs/FORMATS.md)."""
        return {
            "paced": self.paced,
            "fps": self.fps,
            "slots": self.slots,
            "captured": self.captured,
            "dropped_late": self.dropped_late,
            "dropped_queue_full": self.dropped_queue_full,
            "gap_slots": self.gap_slots,
            "gaps": [gap.as_dict() for gap in self.gaps],
            "grab_ms": self.grab.as_dict(),
            "wake_late_ms_max": round(self.wake_late_ns_max / 1e6, 3),
        }

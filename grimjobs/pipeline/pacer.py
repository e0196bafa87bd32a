"""The capture loop: takes frames from a source on a monotonic-deadline schedule.

Slot k is due at t0 + k / fps, computed from k each time so rounding never accumulates. Every slot
ends in exactly one of four ways, and the counts always add up to `slots`:

- captured: the source filled a buffer; the frame goes to the encoder with its capture time;
- dropped (late): the loop woke up whole periods after a deadline (the machine or the source was
  too slow), so those slots were never taken;
- dropped (queue full): no free buffer because the encoder is behind; the slot is skipped now
  rather than delaying every later frame;
- gap: the source had nothing to show (`SourceGap`: the captured window is minimized or gone).

Unpaced, it takes frames as fast as buffers free up and never drops.
"""

from __future__ import annotations

import logging
import queue
import threading

from grimjobs.capture.base import CaptureSource, SourceEnded, SourceGap
from grimjobs.clock import NS_PER_S, now_ns, sleep_until
from grimjobs.frames import FramePool, FrameRef

log = logging.getLogger(__name__)

# Sleeping longer than this waits on the stop event instead, so a stop at 1 fps is not a second late.
_WAIT_ON_STOP_NS = 100_000_000
_SPIN_MARGIN_NS = 20_000_000


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
        self.dropped_late = 0
        self.dropped_queue_full = 0
        self.gaps = 0
        self.slots = 0
        self.start_ns = 0
        self.grab_ns_total = 0  # time spent inside source.grab (for overhead figures)
        self.grab_ns_max = 0
        self.wake_late_ns_max = 0  # worst lateness of a slot that was still taken
        self.end_reason = "running"
        self.end_ns = 0
        self.error: BaseException | None = None

    @property
    def dropped(self) -> int:
        return self.dropped_late + self.dropped_queue_full

    def _wait_until(self, deadline: int) -> None:
        remaining = deadline - now_ns()
        if remaining > _WAIT_ON_STOP_NS:
            self.stop.wait((remaining - _SPIN_MARGIN_NS) / NS_PER_S)
        sleep_until(deadline)

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
                    self._wait_until(deadline)
                    if self.stop.is_set():
                        self.end_reason = "stopped"
                        break
                    late_slots = (now_ns() - deadline) // period_ns
                    if late_slots > 0:  # woke up whole periods late: those frames were never taken
                        if s.max_frames is not None:
                            late_slots = min(late_slots, max(0, s.max_frames - slot))
                        self.dropped_late += late_slots
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
                        self.dropped_queue_full += 1
                        slot += 1
                    continue
                if s.paced:
                    self.wake_late_ns_max = max(self.wake_late_ns_max, now_ns() - deadline)
                grab_start = now_ns()
                try:
                    ref.t_ns = self.source.grab(ref.pixels, slot)
                except SourceGap:
                    ref.release()
                    self.gaps += 1
                    slot += 1
                    continue
                except SourceEnded as ended:
                    ref.release()
                    self.end_reason = f"source ended: {ended}" if str(ended) else "source ended"
                    break
                except BaseException:
                    ref.release()
                    raise
                grab_ns = now_ns() - grab_start
                self.grab_ns_total += grab_ns
                self.grab_ns_max = max(self.grab_ns_max, grab_ns)
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
            # Where the recording ends on the schedule (not when this thread got to run again).
            self.end_ns = min(now_ns(), due(slot)) if s.paced else now_ns()
            self.frames.put(None)

    def stats(self) -> dict[str, int | float]:
        return {
            "slots": self.slots,
            "captured": self.captured,
            "dropped_late": self.dropped_late,
            "dropped_queue_full": self.dropped_queue_full,
            "gaps": self.gaps,
            "grab_ms_mean": round(self.grab_ns_total / self.captured / 1e6, 3) if self.captured else 0.0,
            "grab_ms_max": round(self.grab_ns_max / 1e6, 3),
            "wake_late_ms_max": round(self.wake_late_ns_max / 1e6, 3),
        }

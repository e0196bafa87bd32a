"""Aligning two live streams (retail frames, engine state) on one timeline. Pure: no sockets, no SDL.

Time model (see docs/VIEWER.md):
- Every producer stamps its messages with `host_time_ns` on its own CLOCK_MONOTONIC. The viewer
  stamps each message with its own clock when it arrives (`local_ns`).
- Per stream, the clock offset is `local_ns - host_time_ns` of the stream's first timed message,
  lowered whenever a later message shows a smaller value during the first `baseline_ns` (a message
  can only be delayed in transit, never arrive early, so the smallest value is the best estimate).
  A stream's message at `host_time_ns` happened at `host_time_ns + offset` on the viewer's clock.
  With `mode="shared"` (both producers on the viewer's machine, same CLOCK_MONOTONIC) the offset
  used for alignment is 0, and the measured one is still reported.
- Drift: the smallest `local - host` over the last `drift_window_ns`, minus the baseline. Clocks
  that run at different rates, or a path that grows a queue, show up here.
- Gaps: an interval between consecutive messages longer than `max(gap_min_ns, gap_factor x the
  median recent interval)` is recorded as a Gap (pause menu, stall, rate change); silence that is
  still going on is reported as a stall. A reconnect is a gap of its own kind. Nothing is hidden
  or interpolated over.
- Dropped frames: `frame_id` jumps forward by more than one. A `frame_id` that goes back starts a
  new epoch (producers may reset ids on reconnect) and is counted as a reset, not as drops.
"""

from __future__ import annotations

import bisect
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

import numpy as np

from grimjobs.clock import NS_PER_S

T = TypeVar("T")
F = TypeVar("F")
S = TypeVar("S")
AlignMode = Literal["first_message", "shared"]

NS_PER_MS = 1_000_000


class RingBuffer(Generic[T]):
    """The newest `capacity` items ordered by time, with nearest-in-time lookup.

    Items arrive mostly in time order; a late one is inserted in place. Storage is two parallel
    lists trimmed in blocks, so append is amortized O(1) and lookups are a bisect.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._times: list[int] = []
        self._items: list[T] = []
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._times)

    def clear(self) -> None:
        self._times.clear()
        self._items.clear()

    def append(self, t_ns: int, item: T) -> None:
        if not self._times or t_ns >= self._times[-1]:
            self._times.append(t_ns)
            self._items.append(item)
        else:
            at = bisect.bisect_right(self._times, t_ns)
            self._times.insert(at, t_ns)
            self._items.insert(at, item)
        excess = len(self._times) - self.capacity
        if excess > 0 and (excess >= max(1, self.capacity // 4) or self.capacity < 8):
            del self._times[:excess]
            del self._items[:excess]
            self.evicted += excess

    def trimmed(self) -> None:
        """Drop anything over capacity now (for callers that need the exact bound)."""
        excess = len(self._times) - self.capacity
        if excess > 0:
            del self._times[:excess]
            del self._items[:excess]
            self.evicted += excess

    @property
    def times(self) -> Sequence[int]:
        return self._times

    @property
    def items(self) -> Sequence[T]:
        return self._items

    def first_time(self) -> int | None:
        return self._times[0] if self._times else None

    def last(self) -> tuple[int, T] | None:
        return (self._times[-1], self._items[-1]) if self._times else None

    def nearest(self, t_ns: int) -> tuple[int, T] | None:
        """The item closest in time to t_ns (the earlier one on a tie), or None when empty."""
        if not self._times:
            return None
        at = bisect.bisect_left(self._times, t_ns)
        if at == 0:
            return self._times[0], self._items[0]
        if at == len(self._times):
            return self._times[-1], self._items[-1]
        before, after = self._times[at - 1], self._times[at]
        index = at - 1 if t_ns - before <= after - t_ns else at
        return self._times[index], self._items[index]

    def at_or_before(self, t_ns: int) -> tuple[int, T] | None:
        """The newest item not later than t_ns (the state in effect at t_ns)."""
        at = bisect.bisect_right(self._times, t_ns)
        if at == 0:
            return None
        return self._times[at - 1], self._items[at - 1]

    def between(self, start_ns: int, end_ns: int) -> list[tuple[int, T]]:
        """Items with start_ns <= t <= end_ns, oldest first."""
        lo = bisect.bisect_left(self._times, start_ns)
        hi = bisect.bisect_right(self._times, end_ns)
        return list(zip(self._times[lo:hi], self._items[lo:hi], strict=True))

    def index_of(self, t_ns: int) -> int:
        """Index of the item nearest t_ns (0 when empty)."""
        found = self.nearest(t_ns)
        if found is None:
            return 0
        return bisect.bisect_left(self._times, found[0])


class _WindowMin:
    """Minimum of values over a sliding time window (monotonic deque, amortized O(1))."""

    def __init__(self, window_ns: int) -> None:
        self.window_ns = window_ns
        self._queue: deque[tuple[int, int]] = deque()

    def push(self, t_ns: int, value: int) -> None:
        queue = self._queue
        while queue and queue[-1][1] >= value:
            queue.pop()
        queue.append((t_ns, value))
        while queue and queue[0][0] < t_ns - self.window_ns:
            queue.popleft()

    def value(self) -> int | None:
        return self._queue[0][1] if self._queue else None

    def clear(self) -> None:
        self._queue.clear()


class StreamClock:
    """Maps one producer's host_time_ns onto the viewer's clock and measures its drift."""

    def __init__(
        self,
        mode: AlignMode = "first_message",
        baseline_ns: int = 2 * NS_PER_S,
        drift_window_ns: int = 5 * NS_PER_S,
    ) -> None:
        self.mode = mode
        self.baseline_ns = baseline_ns
        self._recent = _WindowMin(drift_window_ns)
        self.reset()

    def reset(self) -> None:
        self.first_local_ns: int | None = None
        self.measured_offset_ns: int | None = None
        self._recent.clear()

    def observe(self, host_ns: int, local_ns: int) -> None:
        sample = local_ns - host_ns
        if self.first_local_ns is None or self.measured_offset_ns is None:
            self.first_local_ns = local_ns
            self.measured_offset_ns = sample
        elif local_ns - self.first_local_ns <= self.baseline_ns and sample < self.measured_offset_ns:
            self.measured_offset_ns = sample
        self._recent.push(local_ns, sample)

    @property
    def offset_ns(self) -> int:
        """What to add to host_time_ns to get viewer time (0 in shared mode or before sync)."""
        if self.mode == "shared" or self.measured_offset_ns is None:
            return 0
        return self.measured_offset_ns

    def to_local(self, host_ns: int) -> int:
        return host_ns + self.offset_ns

    @property
    def drift_ns(self) -> int:
        """How far the recent offset has moved from the baseline (0 before enough data)."""
        recent = self._recent.value()
        if recent is None or self.measured_offset_ns is None:
            return 0
        return recent - self.measured_offset_ns


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of a stream with no messages, in viewer time. `end_ns` None: still going on."""

    stream: str
    start_ns: int
    end_ns: int | None
    kind: Literal["stall", "reconnect"]
    expected_interval_ns: int = 0

    def duration_ns(self, now_ns: int | None = None) -> int:
        end = self.end_ns if self.end_ns is not None else (now_ns if now_ns is not None else self.start_ns)
        return max(0, end - self.start_ns)


def gap_threshold_ns(typical_interval_ns: int | None, gap_min_ns: int, gap_factor: float) -> int:
    if typical_interval_ns is None or typical_interval_ns <= 0:
        return gap_min_ns
    return max(gap_min_ns, int(gap_factor * typical_interval_ns))


def detect_gaps(
    times_ns: np.ndarray | Sequence[int],
    stream: str,
    gap_min_ns: int = 250 * NS_PER_MS,
    gap_factor: float = 4.0,
) -> list[Gap]:
    """Gaps in a complete, sorted time series (offline sessions): intervals above the threshold.

    The typical interval is the median of all intervals, so a session whose rate varies shows
    only the real holes, not every slow frame.
    """
    times = np.asarray(times_ns, dtype=np.int64)
    if len(times) < 2:
        return []
    intervals = np.diff(times)
    typical = int(np.median(intervals))
    threshold = gap_threshold_ns(typical, gap_min_ns, gap_factor)
    where = np.nonzero(intervals > threshold)[0]
    return [Gap(stream, int(times[i]), int(times[i + 1]), "stall", typical) for i in where]


class RateMeter:
    """Messages per second over the last `window_ns` of the stream's own timestamps."""

    def __init__(self, window_ns: int = NS_PER_S, max_samples: int = 512) -> None:
        self.window_ns = window_ns
        self._times: deque[int] = deque(maxlen=max_samples)
        self._intervals: deque[int] = deque(maxlen=64)

    def clear(self) -> None:
        self._times.clear()
        self._intervals.clear()

    def add(self, t_ns: int) -> int | None:
        """Record a timestamp; returns the interval since the previous one (None for the first)."""
        interval = None
        if self._times:
            interval = t_ns - self._times[-1]
            if interval >= 0:
                self._intervals.append(interval)
        self._times.append(t_ns)
        return interval

    def typical_interval_ns(self) -> int | None:
        if len(self._intervals) < 3:
            return None
        return int(statistics.median(self._intervals))

    def rate(self) -> float:
        """Messages per second: (n - 1) / span over the samples inside the window of the newest."""
        if len(self._times) < 2:
            return 0.0
        newest = self._times[-1]
        count = 0
        oldest = newest
        for t in reversed(self._times):
            if newest - t > self.window_ns:
                break
            oldest = t
            count += 1
        span = newest - oldest
        if count < 2 or span <= 0:
            return 0.0
        return (count - 1) * NS_PER_S / span


class StreamTrack(Generic[T]):
    """One stream's buffer and health: clock, ring of items in viewer time, rate, drops, gaps."""

    def __init__(
        self,
        name: str,
        capacity: int,
        mode: AlignMode = "first_message",
        gap_min_ns: int = 250 * NS_PER_MS,
        gap_factor: float = 4.0,
        max_gaps: int = 256,
    ) -> None:
        self.name = name
        self.clock = StreamClock(mode)
        self.ring: RingBuffer[T] = RingBuffer(capacity)
        self.rate = RateMeter()
        self.gap_min_ns = gap_min_ns
        self.gap_factor = gap_factor
        self.gaps: deque[Gap] = deque(maxlen=max_gaps)
        self.received = 0
        self.dropped = 0
        self.id_resets = 0
        self.epochs = 0
        self.last_id: int | None = None
        self.last_host_ns: int | None = None
        self.last_local_ns: int | None = None  # arrival time of the newest message (any kind)
        self.last_item_local_ns: int | None = None  # arrival time of the newest ring item
        self.last_heartbeat_local_ns: int | None = None
        self.connected = False
        self.nominal_fps: float | None = None

    # -- connection lifecycle ------------------------------------------------------------------

    def connect(self, local_ns: int) -> None:
        """A (re)connection: a new epoch. ids and the producer clock may restart."""
        if self.epochs > 0 and self.last_local_ns is not None:
            self.gaps.append(Gap(self.name, self.last_local_ns, local_ns, "reconnect"))
        self.epochs += 1
        self.connected = True
        self.clock.reset()
        self.rate.clear()
        self.last_id = None
        self.last_host_ns = None

    def disconnect(self, local_ns: int) -> None:
        self.connected = False
        if self.last_local_ns is None:
            self.last_local_ns = local_ns

    # -- messages ------------------------------------------------------------------------------

    def heartbeat(self, host_ns: int, local_ns: int) -> None:
        self.clock.observe(host_ns, local_ns)
        self.last_heartbeat_local_ns = local_ns
        self.last_local_ns = local_ns

    def add(self, host_ns: int, local_ns: int, item: T, item_id: int | None = None) -> int:
        """Add a timed item (frame or state); returns its time on the viewer's clock."""
        self.clock.observe(host_ns, local_ns)
        self.received += 1
        if item_id is not None:
            if self.last_id is not None:
                if item_id > self.last_id + 1:
                    self.dropped += item_id - self.last_id - 1
                elif item_id <= self.last_id:
                    self.id_resets += 1
            self.last_id = item_id
        typical = self.rate.typical_interval_ns()
        if self.last_host_ns is not None:
            interval = host_ns - self.last_host_ns
            threshold = gap_threshold_ns(typical, self.gap_min_ns, self.gap_factor)
            if interval > threshold:
                end = self.clock.to_local(host_ns)
                self.gaps.append(Gap(self.name, end - interval, end, "stall", typical or 0))
        self.rate.add(host_ns)
        self.last_host_ns = host_ns
        self.last_local_ns = local_ns
        self.last_item_local_ns = local_ns
        t_local = self.clock.to_local(host_ns)
        self.ring.append(t_local, item)
        return t_local

    # -- health ----------------------------------------------------------------------------------

    def fps(self) -> float:
        return self.rate.rate()

    def stall_ns(self, now_ns: int) -> int:
        """How long the stream has been silent beyond its gap threshold (0 when healthy)."""
        if self.last_item_local_ns is None:
            return 0
        silent = now_ns - self.last_item_local_ns
        threshold = gap_threshold_ns(self.rate.typical_interval_ns(), self.gap_min_ns, self.gap_factor)
        return silent if silent > threshold else 0

    def heartbeat_age_ns(self, now_ns: int) -> int | None:
        if self.last_heartbeat_local_ns is None:
            return None
        return now_ns - self.last_heartbeat_local_ns


@dataclass(slots=True)
class Thresholds:
    """When the HUD warns. All in nanoseconds."""

    sync_tolerance_ns: int = 50 * NS_PER_MS  # frame vs. nearest state
    drift_warn_ns: int = 20 * NS_PER_MS  # inter-stream offset change since the start
    heartbeat_late_ns: int = 3 * NS_PER_S
    rate_tolerance: float = 0.25  # fps this far from nominal is a "rate varies" warning


@dataclass(slots=True)
class StreamHealth:
    name: str
    connected: bool
    fps: float
    nominal_fps: float | None
    received: int
    dropped: int
    id_resets: int
    epochs: int
    offset_ns: int | None
    drift_ns: int
    heartbeat_age_ns: int | None
    stall_ns: int
    gaps: int


@dataclass(slots=True)
class HudInfo:
    """Numbers and warnings for one displayed moment; what the HUD prints."""

    displayed_ns: int | None
    retail: StreamHealth
    engine: StreamHealth
    inter_offset_ns: int | None  # retail offset - engine offset
    inter_drift_ns: int | None  # how much that has moved since both baselines
    state_delta_ns: int | None  # nearest state time - displayed frame time
    warnings: list[str] = field(default_factory=list)


def _health(track: StreamTrack[T], now_ns: int) -> StreamHealth:
    return StreamHealth(
        name=track.name,
        connected=track.connected,
        fps=track.fps(),
        nominal_fps=track.nominal_fps,
        received=track.received,
        dropped=track.dropped,
        id_resets=track.id_resets,
        epochs=track.epochs,
        offset_ns=track.clock.measured_offset_ns,
        drift_ns=track.clock.drift_ns,
        heartbeat_age_ns=track.heartbeat_age_ns(now_ns),
        stall_ns=track.stall_ns(now_ns),
        gaps=len(track.gaps),
    )


def ms(ns: int | float) -> str:
    """A signed duration for the HUD: milliseconds, or seconds from 10 s up (clock offsets
    between machines)."""
    if abs(ns) >= 10 * NS_PER_S:
        return f"{ns / NS_PER_S:+.3f} s"
    return f"{ns / NS_PER_MS:+.1f} ms"


class Aligner(Generic[F, S]):
    """Two tracks (retail frames, engine states) plus the HUD computation over both.

    `F` and `S` are whatever the caller stores per frame and per state.
    """

    def __init__(
        self,
        frame_capacity: int = 120,
        state_capacity: int = 4096,
        mode: AlignMode = "first_message",
        gap_min_ns: int = 250 * NS_PER_MS,
        gap_factor: float = 4.0,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.retail: StreamTrack[F] = StreamTrack("retail", frame_capacity, mode, gap_min_ns, gap_factor)
        self.engine: StreamTrack[S] = StreamTrack("engine", state_capacity, mode, gap_min_ns, gap_factor)
        self.thresholds = thresholds or Thresholds()

    def nearest_state(self, displayed_ns: int) -> tuple[int, S, int] | None:
        """(state time, state, state time - displayed time) of the state nearest the frame."""
        found = self.engine.ring.nearest(displayed_ns)
        if found is None:
            return None
        t, state = found
        return t, state, t - displayed_ns

    def inter_stream(self) -> tuple[int | None, int | None]:
        """(offset between the two streams' clocks, its drift since their baselines)."""
        a, b = self.retail.clock, self.engine.clock
        if a.measured_offset_ns is None or b.measured_offset_ns is None:
            return None, None
        return a.measured_offset_ns - b.measured_offset_ns, a.drift_ns - b.drift_ns

    def hud(self, now_ns: int, displayed_ns: int | None) -> HudInfo:
        th = self.thresholds
        retail = _health(self.retail, now_ns)
        engine = _health(self.engine, now_ns)
        offset, drift = self.inter_stream()
        delta = None
        if displayed_ns is not None:
            nearest = self.nearest_state(displayed_ns)
            delta = nearest[2] if nearest is not None else None
        info = HudInfo(displayed_ns, retail, engine, offset, drift, delta)
        warnings = info.warnings
        for health, track in ((retail, self.retail), (engine, self.engine)):
            if track.epochs == 0:
                continue
            if not health.connected:
                warnings.append(f"{health.name}: disconnected")
            if health.stall_ns:
                warnings.append(f"{health.name}: no data for {health.stall_ns / NS_PER_S:.1f} s")
            if health.heartbeat_age_ns is not None and health.heartbeat_age_ns > th.heartbeat_late_ns:
                warnings.append(
                    f"{health.name}: last heartbeat {health.heartbeat_age_ns / NS_PER_S:.1f} s ago"
                )
            if health.dropped:
                warnings.append(f"{health.name}: {health.dropped} dropped")
            if (
                health.nominal_fps
                and health.fps > 0
                and abs(health.fps - health.nominal_fps) > th.rate_tolerance * health.nominal_fps
            ):
                warnings.append(f"{health.name}: {health.fps:.1f} fps vs nominal {health.nominal_fps:g}")
        if delta is not None and abs(delta) > th.sync_tolerance_ns:
            warnings.append(f"OUT OF SYNC: nearest state {ms(delta)} from frame")
        if drift is not None and abs(drift) > th.drift_warn_ns:
            warnings.append(f"OUT OF SYNC: clock drift {ms(drift)}")
        return info

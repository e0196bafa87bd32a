"""Pure metrics over a session's columns (numpy, no per-frame or per-record Python loops)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grimjobs.session.actions import (
    REASON_CONNECT,
    REASON_DISCONNECT,
    REASON_EVENT,
    REASON_SAMPLE,
    ActionsTable,
)
from grimjobs.session.sync import SyncTable

NS = 1_000_000_000


@dataclass(slots=True)
class TimingMetrics:
    frames: int
    duration_s: float
    effective_fps: float
    nominal_interval_ms: float
    interval_p50_ms: float
    interval_p99_ms: float
    interval_max_ms: float
    late_frames: int  # intervals above late_factor x nominal
    missing_frames: (
        int  # frames late intervals (gaps excluded) should have held: round(interval / nominal) - 1
    )
    gaps: int  # intervals above gap_s: the capture stalled (a gap, not drops)
    longest_gap_s: float
    drift_max_ms: float  # largest |(monotonic - first) - (pts - first) * time_base|
    drift_end_ms: float
    frame_index_errors: int  # rows whose frame_index is not its row number
    backwards_times: int  # monotonic_ns not strictly increasing
    backwards_pts: int
    intervals_ms: np.ndarray = field(repr=False)
    drift_ms: np.ndarray = field(repr=False)


def timing_metrics(
    sync: SyncTable, time_base: float, nominal_fps: float | None, late_factor: float, gap_s: float
) -> TimingMetrics:
    n = len(sync)
    times = sync.monotonic_ns
    intervals = np.diff(times).astype(np.float64) / 1e6
    duration_s = float(times[-1] - times[0]) / NS if n > 1 else 0.0
    if nominal_fps:
        nominal_ms = 1000.0 / nominal_fps
    elif len(intervals):
        nominal_ms = float(np.median(intervals))
    else:
        nominal_ms = 0.0
    late = intervals > late_factor * nominal_ms if nominal_ms > 0 else np.zeros(len(intervals), bool)
    gaps = intervals > gap_s * 1000.0
    short = late & ~gaps  # a gap is a stall of the source, not frames the schedule lost
    missing = int(np.clip(np.rint(intervals[short] / nominal_ms) - 1, 0, None).sum()) if short.any() else 0
    elapsed_s = (times - times[0]).astype(np.float64) / NS if n else np.zeros(0)
    pts_s = (sync.pts - sync.pts[0]).astype(np.float64) * time_base if n else np.zeros(0)
    drift = (elapsed_s - pts_s) * 1000.0
    return TimingMetrics(
        frames=n,
        duration_s=duration_s,
        effective_fps=(n - 1) / duration_s if duration_s > 0 else 0.0,
        nominal_interval_ms=nominal_ms,
        interval_p50_ms=float(np.percentile(intervals, 50)) if len(intervals) else 0.0,
        interval_p99_ms=float(np.percentile(intervals, 99)) if len(intervals) else 0.0,
        interval_max_ms=float(intervals.max()) if len(intervals) else 0.0,
        late_frames=int(late.sum()),
        missing_frames=missing,
        gaps=int(gaps.sum()),
        longest_gap_s=float(intervals[gaps].max() / 1000.0) if gaps.any() else 0.0,
        drift_max_ms=float(np.abs(drift).max()) if n else 0.0,
        drift_end_ms=float(drift[-1]) if n else 0.0,
        frame_index_errors=int((sync.frame_index != np.arange(n)).sum()),
        backwards_times=int((np.diff(times) <= 0).sum()),
        backwards_pts=int((np.diff(sync.pts) <= 0).sum()),
        intervals_ms=intervals,
        drift_ms=drift,
    )


@dataclass(slots=True)
class Activity:
    """Per control: presses (not-held -> held transitions) and seconds held / deflected."""

    presses: dict[int, int]
    held_s: dict[int, float]

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            str(k): {"presses": self.presses[k], "held_s": round(self.held_s[k], 3)} for k in self.presses
        }


@dataclass(slots=True)
class InputMetrics:
    records: int
    events: int
    samples: int
    connects: int
    disconnects: int
    out_of_order: int  # records older than the one before
    max_step_back_ms: float
    stale_records: int  # non-neutral state while disconnected (or in the disconnect record)
    longest_idle_s: float  # longest time without an input event (session edges included)
    dead_periods: int  # idle stretches of at least dead_period_s
    dead_s: float
    longest_record_gap_s: float  # longest time without any record at all
    records_per_s: float
    events_per_s: float
    buttons: Activity
    keys: Activity
    mouse_buttons: Activity
    axes: Activity  # presses = moves out of the neutral zone
    outside_video: int  # records before the first or after the last frame


def _hold_durations(dt: np.ndarray, record_ids: np.ndarray, ids: np.ndarray, records: int) -> Activity:
    """Presses and held seconds per id from (record, id) pairs; dt[i] = time until record i + 1."""
    if len(ids) == 0:
        return Activity({}, {})
    width = int(ids.max()) + 1
    ids64 = ids.astype(np.int64)
    if width <= 64:
        # Held controls of each record as a bit mask: "held in the record before" is one shift.
        masks = np.zeros(records + 1, np.uint64)
        np.bitwise_or.at(masks, record_ids + 1, np.left_shift(np.uint64(1), ids64.astype(np.uint64)))
        held_before = (masks[record_ids] >> ids64.astype(np.uint64)) & np.uint64(1) == 1
    else:
        key = record_ids.astype(np.int64) * width + ids64
        held_before = np.isin(key - width, key)
    presses = np.bincount(ids64[~held_before], minlength=width)
    held = np.bincount(ids64, weights=dt[record_ids], minlength=width)
    present = np.flatnonzero(np.bincount(ids64, minlength=width))
    return Activity(
        {int(k): int(presses[k]) for k in present}, {int(k): float(held[k]) / NS for k in present}
    )


def input_metrics(
    table: ActionsTable, start_ns: int, end_ns: int, neutral: float, dead_period_s: float
) -> InputMetrics:
    n = len(table)
    times = table.monotonic_ns
    reason = table.reason
    steps = np.diff(times)
    span_s = max(end_ns - start_ns, 1) / NS
    dt = np.append(steps.clip(0, None), max(end_ns - int(times[-1]), 0) if n else 0).astype(np.float64)

    # Non-neutral state per record: anything held, or any axis outside the neutral zone.
    held = (
        table.pressed_buttons.counts() + table.pressed_keys.counts() + table.pressed_mouse_buttons.counts()
    ) > 0
    axis_ids = table.axes.record_ids()
    deflected = np.abs(table.axes.values) > neutral
    held |= np.bincount(axis_ids[deflected], minlength=n)[:n] > 0
    # Connection state per record: the last connect/disconnect record at or before it.
    marker = np.where((reason == REASON_CONNECT) | (reason == REASON_DISCONNECT), np.arange(n), -1)
    last_marker = np.maximum.accumulate(marker) if n else marker
    disconnected = (last_marker >= 0) & (reason[np.maximum(last_marker, 0)] == REASON_DISCONNECT)
    stale = int((disconnected & held).sum())

    event_times = times[reason == REASON_EVENT]
    edges = (
        np.concatenate(([start_ns], np.sort(event_times), [end_ns])) if n else np.array([start_ns, end_ns])
    )
    idle = np.diff(edges).clip(0, None).astype(np.float64) / NS
    dead = idle[idle >= dead_period_s]
    record_edges = np.concatenate(([start_ns], times, [end_ns]))
    slot = np.arange(len(table.axes.values)) - np.repeat(table.axes.offsets[:-1], table.axes.counts())
    return InputMetrics(
        records=n,
        events=len(event_times),
        samples=int((reason == REASON_SAMPLE).sum()),
        connects=int((reason == REASON_CONNECT).sum()),
        disconnects=int((reason == REASON_DISCONNECT).sum()),
        out_of_order=int((steps < 0).sum()),
        max_step_back_ms=float(-steps.min() / 1e6) if len(steps) and steps.min() < 0 else 0.0,
        stale_records=stale,
        longest_idle_s=float(idle.max()) if len(idle) else 0.0,
        dead_periods=len(dead),
        dead_s=float(dead.sum()),
        longest_record_gap_s=float(np.diff(record_edges).clip(0, None).max() / NS),
        records_per_s=n / span_s,
        events_per_s=len(event_times) / span_s,
        buttons=_hold_durations(dt, table.pressed_buttons.record_ids(), table.pressed_buttons.values, n),
        keys=_hold_durations(dt, table.pressed_keys.record_ids(), table.pressed_keys.values, n),
        mouse_buttons=_hold_durations(
            dt, table.pressed_mouse_buttons.record_ids(), table.pressed_mouse_buttons.values, n
        ),
        axes=_hold_durations(dt, axis_ids[deflected], slot[deflected], n),
        outside_video=int(((times < start_ns) | (times > end_ns)).sum()),
    )


def rounded(values: dict[str, Any], digits: int = 3) -> dict[str, Any]:
    return {k: round(v, digits) if isinstance(v, float) else v for k, v in values.items()}

"""Frame <-> input alignment (pure, numpy).

Rule (the seed's, `std::upper_bound - 1`): frame i, captured at `frame_ns[i]` (sync.csv
monotonic_ns), is paired with the LAST input snapshot whose monotonic_ns is AT OR BEFORE it:

    row[i] = searchsorted(snapshot_ns, frame_ns[i], side="right") - 1      (-1: no input yet)

A snapshot is the full input state from its time until the next snapshot, so this is the input
state in effect when the frame was captured. Before the first snapshot the state is neutral
(nothing pressed, axes 0).

Horizon (optional, `horizon_ms = h`): the input over the window [t, t + h) that starts at the
frame's capture time t, i.e. what a policy should output after seeing the frame. Every state in
effect at some moment of the window counts: rows row[i] .. last snapshot < t + h. Digital values
become "held at any moment of the window" (max); analog values the time-weighted mean over the
window (neutral before the first snapshot).

Example (times in ms, snapshots at 0: nothing, 40: A down, 45: A up, 100: A down):
    frame at 30  -> snapshot at 0  (A up);   horizon 20 ms: window [30, 50) sees 0, 40, 45 -> A=1
    frame at 40  -> snapshot at 40 (A down, exactly at the frame time counts)
    frame at 50  -> snapshot at 45 (A up);   horizon 20 ms: window [50, 70) sees only 45 -> A=0
"""

from __future__ import annotations

import numpy as np

NO_INPUT = -1


def rows_at(frame_ns: np.ndarray, snapshot_ns: np.ndarray) -> np.ndarray:
    """For each frame, the index of the last snapshot at or before it, or -1 (int64)."""
    rows: np.ndarray = np.searchsorted(snapshot_ns, frame_ns, side="right").astype(np.int64) - 1
    return rows


def rows_before(frame_ns: np.ndarray, snapshot_ns: np.ndarray) -> np.ndarray:
    """For each time, the index of the last snapshot strictly before it, or -1."""
    rows: np.ndarray = np.searchsorted(snapshot_ns, frame_ns, side="left").astype(np.int64) - 1
    return rows


def take(values: np.ndarray, rows: np.ndarray, neutral: float | bool = 0) -> np.ndarray:
    """values[rows] with row -1 (no input yet) filled with the neutral value."""
    if len(values) == 0:
        return np.full((len(rows), *values.shape[1:]), neutral, dtype=values.dtype)
    picked: np.ndarray = values[np.maximum(rows, 0)]
    missing = rows < 0
    if missing.any():
        picked[missing] = neutral
    return picked


def window_rows(
    frame_ns: np.ndarray, snapshot_ns: np.ndarray, horizon_ns: int
) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) snapshot rows in effect during [t, t + horizon); last < first: only neutral."""
    if horizon_ns <= 0:
        raise ValueError("horizon must be positive")
    first = np.maximum(rows_at(frame_ns, snapshot_ns), 0)
    last = rows_before(frame_ns + horizon_ns, snapshot_ns)
    return first, last


def window_any(values: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Per frame, the max (logical or for bool) of values[first..last]; 0 when the range is empty."""
    count = len(values)
    padded = np.concatenate([values, np.zeros((1, *values.shape[1:]), dtype=values.dtype)])
    lo = np.clip(first, 0, count)
    hi = np.clip(last + 1, 0, count)
    bounds = np.empty(2 * len(first), dtype=np.intp)
    bounds[0::2] = lo
    bounds[1::2] = hi
    if len(bounds) == 0:
        return np.zeros((0, *values.shape[1:]), dtype=values.dtype)
    ufunc = np.logical_or if values.dtype == bool else np.maximum
    reduced = ufunc.reduceat(padded, bounds, axis=0)[0::2]
    reduced[hi <= lo] = 0
    return reduced


def window_mean(
    values: np.ndarray, snapshot_ns: np.ndarray, frame_ns: np.ndarray, horizon_ns: int
) -> np.ndarray:
    """Per frame, the time-weighted mean of the piecewise-constant signal over [t, t + horizon)."""
    if len(values) == 0:
        return np.zeros((len(frame_ns), *values.shape[1:]), dtype=np.float32)
    origin = snapshot_ns[0]
    starts = (snapshot_ns - origin).astype(np.float64)
    signal = values.astype(np.float64)
    durations = np.diff(starts)
    # integral[k] = integral of the signal from the first snapshot up to snapshot k.
    integral = np.zeros_like(signal)
    if len(signal) > 1:
        integral[1:] = np.cumsum(signal[:-1] * durations.reshape(-1, *([1] * (signal.ndim - 1))), axis=0)

    def integral_to(at_ns: np.ndarray) -> np.ndarray:
        rows = rows_at(at_ns, snapshot_ns)
        safe = np.maximum(rows, 0)
        since = (at_ns - origin).astype(np.float64) - starts[safe]
        result: np.ndarray = integral[safe] + signal[safe] * since.reshape(-1, *([1] * (signal.ndim - 1)))
        result[rows < 0] = 0.0
        return result

    mean: np.ndarray = (integral_to(frame_ns + horizon_ns) - integral_to(frame_ns)) / float(horizon_ns)
    return mean.astype(np.float32)

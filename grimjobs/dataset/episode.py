"""One session -> one episode: per-frame columns aligned with the input (pure: files and numpy).

Columns (one row per video frame, in sync.csv order):
    frame_index, timestamp (measured: seconds since the episode's first frame, from sync.csv),
    capture_ns, pts (sync.csv, exact), action.axes, action.buttons, action.keys,
    action.mouse_buttons, action.mouse_xy, input.index, input.age_s, input.reason,
    action (mapped, with a profile), horizon.* (with horizon_ms > 0).
See docs/DATASET.md for the shapes and meaning of each.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grimjobs.dataset import align
from grimjobs.dataset.apply import CompiledMapping, RawInputs
from grimjobs.dataset.controls import AXIS_NAMES, BUTTON_NAMES, KEY_COUNT, MOUSE_BUTTON_COUNT
from grimjobs.errors import UserError
from grimjobs.session import ACTIONS, SYNC
from grimjobs.session.actions import ActionsFormatError, read_actions_table
from grimjobs.session.sync import SyncFormatError, read_sync


@dataclass(frozen=True, slots=True)
class Feature:
    """A LeRobot feature: dtype and per-row shape, with names for each slot (or None)."""

    dtype: str
    shape: tuple[int, ...]
    names: list[str] | None = None

    def as_info(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "shape": list(self.shape), "names": self.names}


def raw_features() -> dict[str, Feature]:
    return {
        "action.axes": Feature("float32", (len(AXIS_NAMES),), list(AXIS_NAMES)),
        "action.buttons": Feature("uint8", (len(BUTTON_NAMES),), list(BUTTON_NAMES)),
        "action.keys": Feature("uint8", (KEY_COUNT,), None),
        "action.mouse_buttons": Feature(
            "uint8", (MOUSE_BUTTON_COUNT,), ["left", "middle", "right", "x1", "x2"]
        ),
        "action.mouse_xy": Feature("float32", (2,), ["x", "y"]),
    }


def episode_features(mapping: CompiledMapping | None, horizon_ms: float) -> dict[str, Feature]:
    """Every per-frame column an episode has, in column order (episode/task indices are added at merge)."""
    features = {
        "frame_index": Feature("int64", (1,)),
        "timestamp": Feature("float32", (1,)),
        "capture_ns": Feature("int64", (1,)),
        "pts": Feature("int64", (1,)),
        **raw_features(),
        "input.index": Feature("int64", (1,)),
        "input.age_s": Feature("float32", (1,)),
        "input.reason": Feature("int16", (1,)),
    }
    if mapping is not None:
        features["action"] = Feature("float32", (len(mapping.names),), list(mapping.names))
    if horizon_ms > 0:
        for name in ("action.axes", "action.buttons", "action.keys"):
            features[f"horizon.{name}"] = features[name]
        if mapping is not None:
            features["horizon.action"] = features["action"]
    return features


@dataclass(slots=True)
class Episode:
    session: Path
    columns: dict[str, np.ndarray]
    features: dict[str, Feature]
    frames: int
    records: int
    notes: list[str] = field(default_factory=list)


def _read(session: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, RawInputs, list[str]]:
    notes: list[str] = []
    sync_path, actions_path = session / SYNC, session / ACTIONS
    if not sync_path.exists():
        raise UserError(f"{sync_path}: missing; a session needs sync.csv to be exported")
    try:
        sync = read_sync(sync_path)
    except SyncFormatError as exc:
        raise UserError(str(exc)) from None
    if sync.torn:
        notes.append("sync.csv: torn last line dropped")
    if actions_path.exists():
        try:
            table = read_actions_table(actions_path)
        except ActionsFormatError as exc:
            raise UserError(str(exc)) from None
        if table.torn_bytes:
            notes.append(f"actions.bin: torn tail of {table.torn_bytes} bytes dropped")
        raw = RawInputs.from_table(table)
    else:
        notes.append("actions.bin: missing; every frame has neutral input")
        raw = RawInputs.from_snapshots([])
    if raw.dropped:
        notes.append(f"actions.bin: {raw.dropped} ids outside the fixed-width arrays were dropped")
    return sync.frame_index, sync.monotonic_ns, sync.pts, raw, notes


def build_episode(session: Path, mapping: CompiledMapping | None, horizon_ms: float = 0.0) -> Episode:
    frame_index, frame_ns, pts, raw, notes = _read(session)
    frames = len(frame_ns)
    if frames == 0:
        raise UserError(f"{session / SYNC}: no frames; nothing to export")
    rows = align.rows_at(frame_ns, raw.t_ns)
    origin = frame_ns[0]
    columns: dict[str, np.ndarray] = {
        "frame_index": frame_index.astype(np.int64),
        "timestamp": ((frame_ns - origin) / 1e9).astype(np.float32),
        "capture_ns": frame_ns.astype(np.int64),
        "pts": pts.astype(np.int64),
        "action.axes": align.take(raw.axes, rows, 0.0),
        "action.buttons": align.take(raw.buttons, rows, False).astype(np.uint8),
        "action.keys": align.take(raw.keys, rows, False).astype(np.uint8),
        "action.mouse_buttons": align.take(raw.mouse_buttons, rows, False).astype(np.uint8),
        "action.mouse_xy": align.take(raw.mouse_xy, rows, np.nan),
        "input.index": rows,
        "input.age_s": np.where(rows >= 0, (frame_ns - align.take(raw.t_ns, rows, 0)) / 1e9, np.nan).astype(
            np.float32
        ),
        "input.reason": align.take(raw.reason.astype(np.int16), rows, -1),
    }
    mapped = mapping.apply(raw.axes, raw.buttons) if mapping is not None else None
    if mapped is not None:
        columns["action"] = align.take(mapped, rows, 0.0)
    if horizon_ms > 0:
        horizon_ns = round(horizon_ms * 1e6)
        first, last = align.window_rows(frame_ns, raw.t_ns, horizon_ns)
        columns["horizon.action.axes"] = align.window_mean(raw.axes, raw.t_ns, frame_ns, horizon_ns)
        columns["horizon.action.buttons"] = align.window_any(raw.buttons, first, last).astype(np.uint8)
        columns["horizon.action.keys"] = align.window_any(raw.keys, first, last).astype(np.uint8)
        if mapped is not None and mapping is not None:
            out = np.zeros((frames, len(mapping.names)), dtype=np.float32)
            any_cols = np.array([a == "any" for a in mapping.aggregates])
            if any_cols.any():
                out[:, any_cols] = align.window_any(mapped[:, any_cols], first, last)
            if (~any_cols).any():
                out[:, ~any_cols] = align.window_mean(mapped[:, ~any_cols], raw.t_ns, frame_ns, horizon_ns)
            columns["horizon.action"] = out
    features = episode_features(mapping, horizon_ms)
    assert list(columns) == list(features), (list(columns), list(features))
    return Episode(session, columns, features, frames, len(raw), notes)


def column_stats(values: np.ndarray) -> dict[str, list[float]]:
    """LeRobot-style per-dimension stats (min, max, mean, std, count), NaN ignored."""
    data = values.astype(np.float64).reshape(len(values), -1)
    finite = ~np.isnan(data)
    count = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        filled = np.where(finite, data, 0.0)
        mean = np.where(count > 0, filled.sum(axis=0) / np.maximum(count, 1), np.nan)
        var = np.where(
            count > 0, (np.where(finite, data - mean, 0.0) ** 2).sum(axis=0) / np.maximum(count, 1), np.nan
        )
        lo = np.where(count > 0, np.where(finite, data, np.inf).min(axis=0, initial=np.inf), np.nan)
        hi = np.where(count > 0, np.where(finite, data, -np.inf).max(axis=0, initial=-np.inf), np.nan)
    return {
        "min": lo.tolist(),
        "max": hi.tolist(),
        "mean": mean.tolist(),
        "std": np.sqrt(var).tolist(),
        "count": count.astype(np.float64).tolist(),
    }


def pool_stats(parts: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    """Combine per-episode stats into dataset stats (pooled mean and variance)."""
    count = np.array([p["count"] for p in parts], dtype=np.float64)
    mean = np.array([p["mean"] for p in parts], dtype=np.float64)
    std = np.array([p["std"] for p in parts], dtype=np.float64)
    total = count.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = np.where(count > 0, count, 0.0)
        safe_mean = np.where(count > 0, mean, 0.0)
        pooled_mean = (weights * safe_mean).sum(axis=0) / total
        second = (weights * (np.where(count > 0, std, 0.0) ** 2 + safe_mean**2)).sum(axis=0) / total
        pooled_std = np.sqrt(np.maximum(second - pooled_mean**2, 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column (no mouse) stays NaN
        lo = np.nanmin(np.array([p["min"] for p in parts], dtype=np.float64), axis=0)
        hi = np.nanmax(np.array([p["max"] for p in parts], dtype=np.float64), axis=0)
    return {
        "min": lo.tolist(),
        "max": hi.tolist(),
        "mean": pooled_mean.tolist(),
        "std": pooled_std.tolist(),
        "count": total.tolist(),
    }

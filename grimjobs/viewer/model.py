"""What the viewer shows, independent of how it arrived: engine state folded from STATE_UPDATE
deltas, timeline marks and telemetry, and a session's input snapshot. Pure.

STATE_UPDATE fields (the reference `grim_stream::StateUpdate`): `seq`, `host_time_ns`, and the
optional `frame`, `position` [x, y, z], `yaw` (degrees), `active_setup`, `active_hotspot`,
`coverage` [{key, value}] (a counter's current value: it replaces the previous one), `events`
[str], `active_movie`. Absent fields keep their previous value, as in the reference viewer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class EngineState:
    """The engine's state after one STATE_UPDATE, with everything earlier folded in.

    Frozen and shared: a new snapshot copies the coverage map only when the update changes it,
    so keeping thousands of snapshots in the ring costs little.
    """

    seq: int = 0
    host_time_ns: int = 0
    frame: int | None = None
    position: tuple[float, float, float] | None = None
    yaw: float | None = None
    active_setup: str | None = None
    active_hotspot: str | None = None
    active_movie: str | None = None
    coverage: Mapping[str, int] = field(default_factory=dict)
    events: tuple[str, ...] = ()  # this update's events only
    updates: int = 0


def _float3(value: Any) -> tuple[float, float, float] | None:
    if isinstance(value, Sequence) and not isinstance(value, str | bytes) and len(value) >= 3:
        try:
            return float(value[0]), float(value[1]), float(value[2])
        except (TypeError, ValueError):
            return None
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _get(update: Any, name: str) -> Any:
    """A field from a dict payload or a typed message object."""
    if isinstance(update, Mapping):
        return update.get(name)
    return getattr(update, name, None)


def apply_update(previous: EngineState, update: Any) -> EngineState:
    """Fold one STATE_UPDATE (a payload mapping or a typed message) into the state."""
    changes: dict[str, Any] = {"updates": previous.updates + 1, "events": ()}
    seq, host = _get(update, "seq"), _get(update, "host_time_ns")
    if isinstance(seq, int):
        changes["seq"] = seq
    if isinstance(host, int):
        changes["host_time_ns"] = host
    frame = _get(update, "frame")
    if isinstance(frame, int):
        changes["frame"] = frame
    position = _float3(_get(update, "position"))
    if position is not None:
        changes["position"] = position
    yaw = _get(update, "yaw")
    if isinstance(yaw, int | float) and not isinstance(yaw, bool):
        changes["yaw"] = float(yaw)
    for name in ("active_setup", "active_hotspot", "active_movie"):
        value = _str(_get(update, name))
        if value is not None:
            changes[name] = value
    coverage = _get(update, "coverage")
    if coverage:
        merged = dict(previous.coverage)
        for counter in coverage:
            key, value = _get(counter, "key"), _get(counter, "value")
            if isinstance(key, str) and isinstance(value, int):
                merged[key] = value
        changes["coverage"] = merged
    events = _get(update, "events")
    if events:
        changes["events"] = tuple(e for e in events if isinstance(e, str))
    return replace(previous, **changes)


@dataclass(frozen=True, slots=True)
class Mark:
    """A labelled moment: TIMELINE_MARK, TELEMETRY or a STATE_UPDATE event, in viewer time."""

    t_ns: int
    source: str  # "mark", "telemetry", "event"
    label: str
    seq: int | None = None

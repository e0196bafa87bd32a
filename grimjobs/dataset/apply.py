"""Applying a mapping profile to input snapshots, vectorized over many snapshots with numpy.

`RawInputs` is actions.bin as fixed-width columns (one row per snapshot); `CompiledMapping.apply`
turns those rows into one float32 column per action output (a vector2 action gives two). Mapping
is done once per snapshot, and frames pick their rows afterwards (see align.py), so the cost is
O(snapshots x actions) numpy operations, never a Python loop per frame.
Pure: no devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from grimjobs.dataset.actions import GameActions
from grimjobs.dataset.controls import (
    AXES,
    AXIS_COUNT,
    BUTTON_COUNT,
    BUTTONS,
    KEY_COUNT,
    MOUSE_BUTTON_COUNT,
    STICKS,
    axis_member,
)
from grimjobs.dataset.profile import Binding, MappingProfile, trigger_threshold
from grimjobs.session.actions import ActionsTable, InputSnapshot, decode_actions, encode_record

# How a column is summarised over a horizon window: "any" = held at any moment (digital),
# "mean" = time-weighted mean (analog).
Aggregate = Literal["any", "mean"]


@dataclass(frozen=True, slots=True)
class RawInputs:
    """actions.bin as columns. Slots beyond the fixed widths are dropped and counted."""

    t_ns: np.ndarray  # (M,) int64, snapshot times (recording clock)
    axes: np.ndarray  # (M, 6) float32, SDL axis slots
    buttons: np.ndarray  # (M, 21) bool, SDL_GameControllerButton ids
    keys: np.ndarray  # (M, 512) bool, SDL scancodes
    mouse_buttons: np.ndarray  # (M, 5) bool, SDL mouse buttons 1..5
    mouse_xy: np.ndarray  # (M, 2) float32, NaN when the snapshot has no mouse position
    reason: np.ndarray  # (M,) int8, REASON_* codes
    dropped: int = 0  # ids outside the fixed widths (should be 0)

    def __len__(self) -> int:
        return len(self.t_ns)

    @staticmethod
    def from_table(table: ActionsTable) -> RawInputs:
        """Scatter the columnar actions.bin (ragged id lists) into dense rows, with numpy only."""
        count = len(table)
        t_ns = table.monotonic_ns.astype(np.int64)
        axes = np.zeros((count, AXIS_COUNT), dtype=np.float32)
        slot = np.arange(len(table.axes.values)) - np.repeat(table.axes.offsets[:-1], table.axes.counts())
        kept = slot < AXIS_COUNT
        axes[table.axes.record_ids()[kept], slot[kept]] = table.axes.values[kept]
        dropped = int(np.count_nonzero(~kept))
        dense: list[np.ndarray] = []
        for ragged, width, base in (
            (table.pressed_buttons, BUTTON_COUNT, 0),
            (table.pressed_keys, KEY_COUNT, 0),
            (table.pressed_mouse_buttons, MOUSE_BUTTON_COUNT, 1),
        ):
            held = np.zeros((count, width), dtype=bool)
            ids = ragged.values.astype(np.int64) - base
            inside = (ids >= 0) & (ids < width)
            held[ragged.record_ids()[inside], ids[inside]] = True
            dropped += int(np.count_nonzero(~inside))
            dense.append(held)
        buttons, keys, mouse_buttons = dense
        mouse_xy = np.full((count, 2), np.nan, dtype=np.float32)
        mouse_xy[table.has_mouse, 0] = table.mouse_x[table.has_mouse]
        mouse_xy[table.has_mouse, 1] = table.mouse_y[table.has_mouse]
        reason = table.reason.astype(np.int8)
        if count > 1 and np.any(np.diff(t_ns) < 0):
            # Records are appended in time order; if a file says otherwise, order them by time
            # (stable, so equal times keep file order) rather than pick wrong rows.
            order = np.argsort(t_ns, kind="stable")
            t_ns, axes, buttons, keys = t_ns[order], axes[order], buttons[order], keys[order]
            mouse_buttons, mouse_xy, reason = mouse_buttons[order], mouse_xy[order], reason[order]
        return RawInputs(t_ns, axes, buttons, keys, mouse_buttons, mouse_xy, reason, dropped)

    @staticmethod
    def from_snapshots(snapshots: Sequence[InputSnapshot]) -> RawInputs:
        """The same rows from snapshots in memory (tests, small inputs): encoded as actions.bin
        records and read back, so there is one conversion."""
        return RawInputs.from_table(decode_actions(b"".join(encode_record(s) for s in snapshots)))


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    """A validated profile resolved to SDL ids, ready to apply to `RawInputs`."""

    profile: MappingProfile
    game: GameActions
    names: tuple[str, ...]  # output columns, e.g. ("walk.x", "walk.y", "run", ...)
    aggregates: tuple[Aggregate, ...]  # per column

    @staticmethod
    def build(profile: MappingProfile, game: GameActions) -> CompiledMapping:
        names: list[str] = []
        aggregates: list[Aggregate] = []
        for action in game.actions_of(profile.class_ids):
            names.extend(action.columns)
            kind: Aggregate = "mean" if action.type in ("analog", "vector2") else "any"
            aggregates.extend([kind] * len(action.columns))
        return CompiledMapping(profile, game, tuple(names), tuple(aggregates))

    def apply(self, axes: np.ndarray, buttons: np.ndarray) -> np.ndarray:
        """(M, 6) float axes + (M, 21) bool buttons -> (M, len(names)) float32 action values.

        digital / trigger: 1.0 while any binding is held, else 0.0. analog: the bound axis
        (negated with `invert`); with several bindings the one deflected furthest wins.
        vector2: the bound stick (x, y as SDL reports them, y down); several: the longest wins.
        """
        count = len(axes)
        out = np.zeros((count, len(self.names)), dtype=np.float32)
        column = 0
        for action in self.game.actions_of(self.profile.class_ids):
            bindings = self.profile.bindings.get(action.id, [])
            if action.type in ("digital", "trigger"):
                held = np.zeros(count, dtype=bool)
                for binding in bindings:
                    held |= self._held(
                        binding,
                        action_threshold=trigger_threshold(binding, action, self.profile)
                        if binding.trigger is not None
                        else 0.0,
                        axes=axes,
                        buttons=buttons,
                    )
                out[:, column] = held
            elif action.type == "analog":
                best = np.zeros(count, dtype=np.float32)
                for binding in bindings:
                    assert binding.axis is not None
                    value = axes[:, AXES[binding.axis]] * (-1.0 if binding.invert else 1.0)
                    best = np.where(np.abs(value) > np.abs(best), value, best)
                out[:, column] = best
            else:  # vector2
                best_xy = np.zeros((count, 2), dtype=np.float32)
                for binding in bindings:
                    assert binding.stick is not None
                    x_name, y_name = STICKS[binding.stick]
                    xy = axes[:, [AXES[x_name], AXES[y_name]]]
                    longer = (xy * xy).sum(axis=1) > (best_xy * best_xy).sum(axis=1)
                    best_xy = np.where(longer[:, None], xy, best_xy)
                out[:, column : column + 2] = best_xy
            column += len(action.columns)
        return out

    def _held(
        self, binding: Binding, action_threshold: float, axes: np.ndarray, buttons: np.ndarray
    ) -> np.ndarray:
        if binding.button is not None:
            return np.asarray(buttons[:, BUTTONS[binding.button]], dtype=bool)
        if binding.trigger is not None:
            return np.asarray(axes[:, AXES[binding.trigger]] >= action_threshold)
        held = np.ones(len(axes), dtype=bool)
        for member in binding.combo or ():
            held &= self._member_held(member, axes, buttons)
        return held

    def _member_held(self, member: str, axes: np.ndarray, buttons: np.ndarray) -> np.ndarray:
        if member in BUTTONS:
            return np.asarray(buttons[:, BUTTONS[member]], dtype=bool)
        axis, direction = axis_member(member)
        threshold = self.profile.axis_thresholds[axis]
        return np.asarray(axes[:, AXES[axis]] * direction >= threshold)

"""replay: drive a virtual controller from a session's actions.bin with the original timing.

Each recorded state is applied at `(t_i - t_0) / speed` after the start; the timing error is the
time it was actually applied minus that schedule (p50/p99/max reported). With target=sdl_virtual
the states go into an SDL virtual game controller in this process and are read back through
SDL's controller events, so the replay also checks that the recording re-drives cleanly.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from grimjobs.clock import NS_PER_S, now_ns, sleep_until
from grimjobs.errors import UserError
from grimjobs.input.controls import AXIS_COUNT, BUTTON_COUNT, InputState
from grimjobs.input.forward import VgamepadForwarder
from grimjobs.input.sdl_pad import PadHub, PadSelector, VirtualPad
from grimjobs.runner import hydra_job
from grimjobs.session import ACTIONS
from grimjobs.session.actions import InputSnapshot, read_actions

log = logging.getLogger("grimjobs.replay")


def schedule_ns(times_ns: Sequence[int], speed: float) -> list[int]:
    """Offsets from the replay start at which each recorded state is due."""
    if not times_ns:
        return []
    first = times_ns[0]
    return [round((t - first) / speed) for t in times_ns]


def percentile(values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile (q in [0, 100]) of integer values; 0 for none."""
    if not values:
        return 0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def resolve_actions(path: str) -> Path:
    candidate = Path(path).expanduser()
    if candidate.is_dir():
        candidate = candidate / ACTIONS
    if not candidate.is_file():
        raise UserError(f"path={path}: no actions.bin there; give a session folder or an actions.bin file")
    return candidate


class SdlVirtualTarget:
    """Applies states to an SDL virtual pad and reads them back through SDL events."""

    def __init__(self) -> None:
        self.pad = VirtualPad("grimjobs replay pad")
        self.readback = InputState()
        self.hub: PadHub | None = None
        self._axes = [0.0] * AXIS_COUNT
        self._buttons: set[int] = set()

    def open(self) -> None:
        instance = self.pad.attach()
        self.hub = PadHub(PadSelector(instance_id=instance), self.readback, lambda reason, t: None)
        self.hub.open()
        self.hub.pump()

    def apply(self, snapshot: InputSnapshot) -> None:
        for slot in range(min(AXIS_COUNT, len(snapshot.axes))):
            if snapshot.axes[slot] != self._axes[slot]:
                self.pad.set_axis(slot, snapshot.axes[slot])
                self._axes[slot] = snapshot.axes[slot]
        held = {b for b in snapshot.pressed_buttons if b < BUTTON_COUNT}
        for button in held ^ self._buttons:
            self.pad.set_button(button, button in held)
        self._buttons = held
        assert self.hub is not None
        self.hub.pump()

    def matches(self, snapshot: InputSnapshot) -> bool:
        """Whether SDL reports back the state just applied (axes within SDL's 16-bit rounding)."""
        axes_ok = all(
            abs(a - b) < 2e-3 for a, b in zip(self.readback.axes, snapshot.axes[:AXIS_COUNT], strict=False)
        )
        return axes_ok and self.readback.buttons == {b for b in snapshot.pressed_buttons if b < BUTTON_COUNT}

    def close(self) -> None:
        if self.hub is not None:
            self.hub.close(emit_disconnect=False)
        self.pad.detach()


class VgamepadTarget:
    def __init__(self) -> None:
        self.forwarder = VgamepadForwarder()

    def open(self) -> None:
        self.forwarder.open()

    def apply(self, snapshot: InputSnapshot) -> None:
        self.forwarder.send(snapshot.axes, snapshot.pressed_buttons)

    def matches(self, snapshot: InputSnapshot) -> bool:
        return True

    def close(self) -> None:
        self.forwarder.close()


@hydra_job("replay")
def main(cfg: DictConfig) -> int:
    speed = float(cfg.speed)
    if not speed > 0:
        raise UserError(f"speed={cfg.speed!r} is not allowed: must be greater than 0")
    if cfg.target not in ("sdl_virtual", "vgamepad"):
        raise UserError(f"target={cfg.target!r} is not allowed: use sdl_virtual or vgamepad")
    actions = read_actions(resolve_actions(str(cfg.path)))
    records = actions.records
    if not records:
        raise UserError(f"path={cfg.path}: actions.bin has no records to replay")
    target: SdlVirtualTarget | VgamepadTarget = (
        SdlVirtualTarget() if cfg.target == "sdl_virtual" else VgamepadTarget()
    )
    target.open()
    due = schedule_ns([r.monotonic_ns for r in records], speed)
    errors: list[int] = []
    mismatches = 0
    try:
        start = now_ns() + round(float(cfg.delay) * NS_PER_S)
        for offset, snapshot in zip(due, records, strict=True):
            sleep_until(start + offset)
            target.apply(snapshot)
            errors.append(now_ns() - (start + offset))
            if not target.matches(snapshot):
                mismatches += 1
    except KeyboardInterrupt:
        log.warning("replay interrupted after %d of %d states", len(errors), len(records))
    finally:
        target.close()
    span_s = due[-1] / NS_PER_S
    p50, p99, worst = (percentile(errors, q) / 1e6 for q in (50, 99, 100))
    print(
        f"replayed {len(errors)}/{len(records)} states over {span_s:.2f} s at speed {speed:g} to {cfg.target}"
    )
    print(f"timing error: p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {worst:.3f} ms")
    if cfg.target == "sdl_virtual":
        print(f"read back through SDL: {len(errors) - mismatches} match, {mismatches} differ")
    log.info(
        "replay timing error p50 %.3f ms p99 %.3f ms max %.3f ms, %d mismatches", p50, p99, worst, mismatches
    )
    return 1 if mismatches else 0

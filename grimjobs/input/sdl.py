"""`input=sdl`: a physical game controller through SDL2, plus optional keyboard, mouse and forwarding.

One device composes the parts a recording needs, all driven from `poll` on the main thread:

- the pad (`PadHub`: first pad or one by index/name/GUID, hot-plug, neutral snapshot on disconnect),
- global keyboard/mouse hooks (`input.keyboard`, `input.mouse`; pynput threads feed a queue),
- a forwarder mirroring the pad into a virtual Xbox 360 controller (`input.forward=vgamepad`),
- periodic samples (`input.sample_hz`), on top of one full-state snapshot per change.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.input.base import Emit, InputDevice, InputSettings
from grimjobs.input.controls import InputState
from grimjobs.input.sdl_pad import PadHub, PadSelector, parse_pad_spec
from grimjobs.session.actions import REASON_EVENT, REASON_SAMPLE, InputSnapshot

if TYPE_CHECKING:
    from grimjobs.input.forward import Forwarder
    from grimjobs.input.keyboard import GlobalHooks

log = logging.getLogger("grimjobs.input")

# How long poll sleeps between looks at the SDL queue while waiting (SDL2 without a video
# subsystem has no blocking wait that also wakes for joystick events).
WAIT_STEP_S = 0.0005


def _no_emit(snapshot: InputSnapshot) -> None:
    pass


class PadInputSettings(InputSettings):
    """Keys shared by every SDL-pad device (`input=sdl`, `input=scripted`)."""

    sample_hz: float = Field(
        default=0.0, ge=0, le=1000, description="also write a snapshot this often (0: only on changes)"
    )
    keyboard: bool = Field(default=False, description="record keys globally (pynput) as SDL scancodes")
    mouse: bool = Field(default=False, description="record mouse buttons and pointer position globally")
    forward: Literal["none", "vgamepad"] = Field(
        default="none", description="mirror the pad into a virtual Xbox 360 controller"
    )


class SdlInputSettings(PadInputSettings):
    pad: str | int = Field(
        default="first", description="first | device index | GUID (32 hex digits) | name substring"
    )


class SdlInput(InputDevice):
    """Records the pad SDL sees (and, optionally, keyboard and mouse); see the module doc."""

    Settings: ClassVar[type[InputSettings]] = SdlInputSettings
    settings: PadInputSettings

    def __init__(self, settings: InputSettings) -> None:
        super().__init__(settings)
        self.state = InputState()
        self.hub: PadHub | None = None
        self.hooks: GlobalHooks | None = None
        self.forwarder: Forwarder | None = None
        self.snapshots = 0
        self.samples = 0
        self._emit: Emit = _no_emit
        self._last_ns = 0
        self._sample_period_ns = round(NS_PER_S / self.settings.sample_hz) if self.settings.sample_hz else 0
        self._next_sample_ns = 0

    # --- lifecycle -------------------------------------------------------------------------

    def selector(self) -> PadSelector:
        assert isinstance(self.settings, SdlInputSettings)
        return PadSelector(parse_pad_spec(self.settings.pad))

    def open(self, start_ns: int) -> None:
        # Backends that can be missing open first: their one-line error comes before any file.
        if self.settings.forward != "none":
            from grimjobs.input.forward import make_forwarder

            self.forwarder = make_forwarder(self.settings.forward)
            self.forwarder.open()
        try:
            if self.settings.keyboard or self.settings.mouse:
                from grimjobs.input.keyboard import GlobalHooks

                self.hooks = GlobalHooks(keyboard=self.settings.keyboard, mouse=self.settings.mouse)
                self.hooks.open()
            self.hub = PadHub(self.selector(), self.state, self._pad_changed)
            self.hub.open()
        except BaseException:
            self.close()
            raise
        self._next_sample_ns = start_ns + self._sample_period_ns
        self._last_ns = 0

    def close(self, emit: Emit | None = None) -> None:
        if emit is not None:
            self._emit = emit
        # The parts stay referenced (their close is idempotent) so stats() still reports them.
        if self.hub is not None:
            self.hub.close(emit_disconnect=emit is not None)
        if self.hooks is not None:
            self.hooks.close()
        if self.forwarder is not None:
            self.forwarder.close()
        self._emit = _no_emit

    # --- reading ---------------------------------------------------------------------------

    def _write(self, reason: int, t_ns: int) -> None:
        # Sources stamp events on different threads: never let the log run backwards.
        if t_ns < self._last_ns:
            t_ns = self._last_ns
        self._last_ns = t_ns
        self._emit(self.state.snapshot(t_ns, reason))
        self.snapshots += 1

    def _pad_changed(self, reason: int, t_ns: int) -> None:
        self._write(reason, t_ns)
        if self.forwarder is not None:
            self.forwarder.send(self.state.axes, self.state.buttons)

    def _other_changed(self, t_ns: int) -> None:
        self._write(REASON_EVENT, t_ns)

    def _drive(self, now: int) -> int:
        """Hook run before each pump (the scripted device moves its virtual pad here); returns
        events read."""
        return 0

    def _next_wake_ns(self) -> int | None:
        """When `_drive` next has work (None: only when events arrive)."""
        return None

    def _read(self) -> int:
        events = self._drive(now_ns())
        if self.hub is not None:
            events += self.hub.pump()
        if self.hooks is not None:
            events += self.hooks.drain(self.state, self._other_changed)
        return events

    def poll(self, emit: Emit, timeout_s: float) -> int:
        self._emit = emit
        deadline = now_ns() + round(timeout_s * NS_PER_S)
        total = 0
        try:
            while True:
                total += self._read()
                now = now_ns()
                if self._sample_period_ns and now >= self._next_sample_ns:
                    self._write(REASON_SAMPLE, now)
                    self.samples += 1
                    # Keep the grid; after a stall, resume at the next grid point instead of bursting.
                    missed = (now - self._next_sample_ns) // self._sample_period_ns + 1
                    self._next_sample_ns += missed * self._sample_period_ns
                if total or now >= deadline:
                    break
                wake = deadline
                if self._sample_period_ns:
                    wake = min(wake, self._next_sample_ns)
                driven = self._next_wake_ns()
                if driven is not None:
                    wake = min(wake, driven)
                time.sleep(max(0.0, min(WAIT_STEP_S, (wake - now) / NS_PER_S)))
        finally:
            self._emit = _no_emit
        self.events += total
        return total

    def stats(self) -> dict[str, int | float | str]:
        stats: dict[str, int | float | str] = {
            "events": self.events,
            "snapshots": self.snapshots,
            "samples": self.samples,
        }
        hub = self.hub
        if hub is not None:
            stats.update(
                pad=hub.last_pad.name if hub.last_pad else "",
                connects=hub.connects,
                disconnects=hub.disconnects,
                sdl_queue_ms_max=hub.max_queue_ms,
            )
            # How SDL's event times were mapped to the recording clock (offset, rechecks, fallbacks).
            stats.update({f"sdl_time_{key}": value for key, value in hub.clock.stats().items()})
        if self.hooks is not None:
            stats.update(self.hooks.stats())
        if self.forwarder is not None:
            stats.update(self.forwarder.stats())
        return stats

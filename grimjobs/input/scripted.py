"""`input=scripted`: an SDL virtual game controller played from a timeline in the config.

The device attaches a real SDL virtual game controller and records it through the same `PadHub`
as `input=sdl`: each timeline step sets a virtual axis or button, SDL turns it into a controller
event on the next pump, and the event becomes a snapshot exactly as a physical pad's would. Steps
are applied one at a time with a pump in between, so a press and release due in the same poll
still produce both events, and the recorded sequence does not depend on scheduling (a rerun
records the same states).

Timeline steps (times in seconds from the recording start, in any order):

    - {t: 0.5, press: a}            # SDL button name or id
    - {t: 0.6, release: a}
    - {t: 1.0, axis: leftx, value: 0.8}   # sticks -1..1 (y down is +), triggers 0..1
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Self

from pydantic import Field, field_validator, model_validator

from grimjobs.clock import NS_PER_S
from grimjobs.input.base import Emit, InputSettings
from grimjobs.input.controls import axis_id, button_id, is_trigger
from grimjobs.input.sdl import PadInputSettings, SdlInput
from grimjobs.input.sdl_pad import PadSelector, VirtualPad
from grimjobs.settings import Settings


class ScriptStep(Settings):
    t: float = Field(ge=0, description="seconds from the recording start")
    press: str | int | None = None
    release: str | int | None = None
    axis: str | int | None = None
    value: float | None = None

    @field_validator("press", "release")
    @classmethod
    def _known_button(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            button_id(value)
        return value

    @field_validator("axis")
    @classmethod
    def _known_axis(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            axis_id(value)
        return value

    @model_validator(mode="after")
    def _one_action(self) -> Self:
        actions = [key for key in ("press", "release", "axis") if getattr(self, key) is not None]
        if len(actions) != 1:
            raise ValueError(
                f"a step needs exactly one of press, release, axis (t={self.t} has {actions or 'none'})"
            )
        if self.axis is not None:
            if self.value is None:
                raise ValueError(f"step t={self.t} axis={self.axis}: needs value")
            low = 0.0 if is_trigger(axis_id(self.axis)) else -1.0
            if not low <= self.value <= 1.0:
                raise ValueError(f"step t={self.t} axis={self.axis}: value {self.value} outside [{low}, 1]")
        elif self.value is not None:
            raise ValueError(f"step t={self.t}: value only goes with axis")
        return self


class ScriptedSettings(PadInputSettings):
    name: str = Field(default="grimjobs scripted pad", min_length=1, description="the virtual pad's SDL name")
    loop: bool = Field(default=False, description="repeat the timeline every `length` seconds")
    length: float | None = Field(
        default=None, gt=0, description="timeline length in seconds (default: last step)"
    )
    timeline: list[ScriptStep] = Field(default_factory=list)

    @model_validator(mode="after")
    def _length_covers_steps(self) -> Self:
        last = max((step.t for step in self.timeline), default=0.0)
        if self.length is not None and self.length < last:
            raise ValueError(f"length={self.length} is shorter than the last step (t={last})")
        if self.loop and self.period_s <= 0:
            raise ValueError("loop needs a positive length (or steps after t=0)")
        return self

    @property
    def period_s(self) -> float:
        return (
            self.length if self.length is not None else max((step.t for step in self.timeline), default=0.0)
        )


@dataclass(frozen=True, slots=True)
class Action:
    """One virtual-pad change: a button (`down`) or an axis (`value`)."""

    kind: str  # "button" | "axis"
    control: int
    down: bool = False
    value: float = 0.0


def step_action(step: ScriptStep) -> Action:
    if step.press is not None:
        return Action("button", button_id(step.press), down=True)
    if step.release is not None:
        return Action("button", button_id(step.release), down=False)
    assert step.axis is not None and step.value is not None
    return Action("axis", axis_id(step.axis), value=step.value)


class Timeline:
    """Steps at offsets from a start; `due(elapsed)` yields each step once, in time order (steps
    at the same time keep their config order), wrapping around when looping."""

    def __init__(self, steps: list[tuple[int, Action]], period_ns: int | None = None) -> None:
        order = sorted(range(len(steps)), key=lambda i: steps[i][0])  # stable: config order on ties
        self.times = [steps[i][0] for i in order]
        self.actions = [steps[i][1] for i in order]
        self.period_ns = period_ns if period_ns else None
        self._cursor = 0
        self._base_ns = 0  # start of the current loop pass

    @classmethod
    def from_settings(cls, settings: ScriptedSettings) -> Timeline:
        steps = [(round(step.t * NS_PER_S), step_action(step)) for step in settings.timeline]
        period = round(settings.period_s * NS_PER_S) if settings.loop else None
        return cls(steps, period)

    def next_ns(self) -> int | None:
        """Offset of the next step, or None when the timeline is done."""
        if not self.times:
            return None
        if self._cursor < len(self.times):
            return self._base_ns + self.times[self._cursor]
        if self.period_ns is None:
            return None
        return self._base_ns + self.period_ns + self.times[0]

    def due(self, elapsed_ns: int) -> Iterator[Action]:
        while (next_ns := self.next_ns()) is not None and next_ns <= elapsed_ns:
            if self._cursor >= len(self.times):
                assert self.period_ns is not None
                self._base_ns += self.period_ns
                self._cursor = 0
            yield self.actions[self._cursor]
            self._cursor += 1


class ScriptedInput(SdlInput):
    """A virtual SDL game controller played from `timeline`, recorded like a physical pad."""

    Settings: ClassVar[type[InputSettings]] = ScriptedSettings
    settings: ScriptedSettings

    def __init__(self, settings: InputSettings) -> None:
        super().__init__(settings)
        self.virtual = VirtualPad(self.settings.name)
        self.timeline = Timeline.from_settings(self.settings)
        self.steps_played = 0
        self._start_ns = 0
        self._end_ns: int | None = None

    def selector(self) -> PadSelector:
        return PadSelector(instance_id=self.virtual.instance_id)

    def open(self, start_ns: int) -> None:
        # Step times count from the first poll: the recorder polls from the moment capture starts,
        # which is closer to the first video frame than the device's open().
        self._start_ns = 0
        self.virtual.attach()
        try:
            super().open(start_ns)
        except BaseException:
            self.virtual.detach()
            raise

    def _drive(self, now: int) -> int:
        if self.hub is None or not self.virtual.attached:
            return 0
        if not self.hub.connected:
            # Play nothing before SDL has announced the pad and we opened it: a step applied
            # earlier would arrive folded into the connect snapshot instead of as its own event.
            return 0
        if not self._start_ns:
            self._start_ns = now
        if self._end_ns is not None:
            now = min(now, self._end_ns)
        events = 0
        for action in self.timeline.due(now - self._start_ns):
            if action.kind == "button":
                self.virtual.set_button(action.control, action.down)
            else:
                self.virtual.set_axis(action.control, action.value)
            self.steps_played += 1
            # One step, one pump: every step's event is read before the next step can mask it.
            events += self.hub.pump()
        return events

    def end_at(self, end_ns: int) -> None:
        self._end_ns = end_ns

    def _next_wake_ns(self) -> int | None:
        offset = self.timeline.next_ns()
        return None if offset is None or not self._start_ns else self._start_ns + offset

    def close(self, emit: Emit | None = None) -> None:
        super().close(emit)
        self.virtual.detach()

    def stats(self) -> dict[str, int | float | str]:
        return {**super().stats(), "script_steps": self.steps_played}

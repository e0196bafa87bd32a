"""Pad input for the `map` job: the shared SDL event path (grimjobs.input.sdl_pad) plus an optional
in-process virtual controller driven by a followed script file (`pad=virtual:<script>`).

SDL virtual joysticks exist only in the process that attaches them, so the mapper itself attaches
the virtual pad; its moves still come back as real SDL controller events through `PadHub`.
"""

from __future__ import annotations

import time
from pathlib import Path

from grimjobs.dataset.controls import AXIS_ALIASES
from grimjobs.errors import UserError
from grimjobs.input.controls import InputState, axis_id, button_id
from grimjobs.input.sdl_pad import PadHub, PadSelector, VirtualPad, parse_pad_spec

VIRTUAL_PREFIX = "virtual:"
# Script lines may use either trigger spelling; the input layer takes SDL's mapping-string one.
_AXIS_ALIASES = {ours: sdl for sdl, ours in AXIS_ALIASES.items()}


class PadScript:
    """Follows a text file of pad moves, applying complete lines as they appear."""

    def __init__(self, path: Path, pad: VirtualPad) -> None:
        self.path = path
        self.pad = pad
        self._offset = 0
        self._pending = ""
        self._lines: list[str] = []
        self._resume_at = 0.0

    def step(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                handle.seek(self._offset)
                data = handle.read()
                self._offset = handle.tell()
        except FileNotFoundError:
            data = ""
        if data:
            text = self._pending + data
            *complete, self._pending = text.split("\n")
            self._lines.extend(complete)
        # One line per pump, so a move and its release in consecutive lines are two SDL events.
        if self._lines and time.monotonic() >= self._resume_at:
            self._apply(self._lines.pop(0).strip())
        if self.pad.attached:
            self.pad.update()

    def _apply(self, line: str) -> None:
        if not line or line.startswith("#"):
            return
        words = line.split()
        try:
            if words[0] == "press":
                self.pad.set_button(button_id(words[1]), True)
            elif words[0] == "release":
                self.pad.set_button(button_id(words[1]), False)
            elif words[0] == "axis":
                self.pad.set_axis(axis_id(_AXIS_ALIASES.get(words[1], words[1])), float(words[2]))
            elif words[0] == "wait":
                self._resume_at = time.monotonic() + float(words[1])
            elif words[0] == "detach":
                self.pad.detach()
            else:
                raise ValueError(f"unknown command {words[0]!r}")
        except (IndexError, ValueError) as exc:
            raise UserError(
                f"{self.path}: line {line!r}: {exc}; use press/release <button>, "
                "axis <name> <value>, wait <seconds>, detach"
            ) from None


class MapperPad:
    """The pad the mapper reads: `state` is its live input; `pump()` on the main thread."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.state = InputState()
        self.virtual: VirtualPad | None = None
        self.script: PadScript | None = None
        self.hub: PadHub | None = None

    def open(self) -> None:
        selector = PadSelector(parse_pad_spec(self.spec))
        if self.spec.startswith(VIRTUAL_PREFIX):
            self.virtual = VirtualPad("grimjobs map virtual pad")
            instance = self.virtual.attach()
            self.script = PadScript(Path(self.spec[len(VIRTUAL_PREFIX) :]), self.virtual)
            selector = PadSelector(instance_id=instance)
        self.hub = PadHub(selector, self.state, lambda reason, t_ns: None)
        self.hub.open()

    @property
    def connected(self) -> bool:
        return self.hub is not None and self.hub.connected

    def describe(self) -> str:
        if self.hub is not None and self.hub.pad is not None:
            return self.hub.pad.name
        return "no pad connected"

    def pump(self) -> None:
        if self.script is not None and self.virtual is not None and self.virtual.attached:
            self.script.step()
        if self.hub is not None:
            self.hub.pump()

    def close(self) -> None:
        if self.hub is not None:
            self.hub.close(emit_disconnect=False)
            self.hub = None
        if self.virtual is not None:
            self.virtual.detach()
            self.virtual = None

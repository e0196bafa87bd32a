"""Global hotkeys while recording: pause/resume and end, through the loop's `LoopController`.

`record hotkeys.pause=ctrl+alt+p hotkeys.stop=ctrl+alt+e` (null: off, the default). Keys are read
globally through the same hook backends as `input.keyboard` (X RECORD on Linux, pynput elsewhere:
`grimjobs/input/keyboard.py`), by physical key (SDL scancode), so they work whatever window has
focus. A paused span is recorded as a gap with cause "paused" (`capture.loop.gaps` in
summary.json), never as dropped frames; "stop" ends the recording as Ctrl+C does, with
end_reason "hotkey".

A combination is `+`-separated key names: modifiers `ctrl`, `shift`, `alt`, `super` (either side),
or a side (`ctrl_l`, `alt_r`, ...), keys by name (`f9`, `pause`, `space`, `esc`, ...) or by the
character they type on a US layout (`p`, `1`). It fires once when its last key goes down while
the others are held.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from pydantic import Field, field_validator

from grimjobs.input.keyboard import KEY, HookBackend, HookEvent, default_backend
from grimjobs.input.scancodes import CHAR_TO_SDL, KEY_NAME_TO_SDL
from grimjobs.playback import LoopController
from grimjobs.settings import Settings

log = logging.getLogger("grimjobs.record")

_EITHER_SIDE: dict[str, frozenset[int]] = {
    "ctrl": frozenset({224, 228}),
    "shift": frozenset({225, 229}),
    "alt": frozenset({226, 230}),
    "super": frozenset({227, 231}),
    "cmd": frozenset({227, 231}),
    "win": frozenset({227, 231}),
}

Combo = tuple[frozenset[int], ...]


def parse_combo(text: str) -> Combo:
    """'ctrl+alt+p' -> one set of acceptable scancodes per key; ValueError naming a bad part."""
    parts = [part.strip().lower() for part in text.split("+")]
    if not parts or any(not part for part in parts):
        raise ValueError(f"{text!r} is not a key combination like ctrl+alt+p")
    combo: list[frozenset[int]] = []
    for part in parts:
        if part in _EITHER_SIDE:
            combo.append(_EITHER_SIDE[part])
        elif part in KEY_NAME_TO_SDL:
            combo.append(frozenset({KEY_NAME_TO_SDL[part]}))
        elif len(part) == 1 and part in CHAR_TO_SDL:
            combo.append(frozenset({CHAR_TO_SDL[part]}))
        else:
            raise ValueError(f"{part!r} in {text!r} is not a key name (e.g. ctrl, alt, shift, f9, p)")
    return tuple(combo)


class HotkeySettings(Settings):
    pause: str | None = Field(None, description="toggle pause/resume, e.g. ctrl+alt+p (null: off)")
    stop: str | None = Field(None, description="end the recording, e.g. ctrl+alt+e (null: off)")

    @field_validator("pause", "stop")
    @classmethod
    def _combo(cls, value: str | None) -> str | None:
        if value is not None:
            parse_combo(value)
        return value

    def bindings(self) -> dict[str, Combo]:
        out = {}
        if self.pause:
            out["pause"] = parse_combo(self.pause)
        if self.stop:
            out["stop"] = parse_combo(self.stop)
        return out


class Hotkeys:
    """Watches the global key hook for the bound combinations and drives the controller."""

    def __init__(
        self,
        settings: HotkeySettings,
        backend: HookBackend | None = None,
        on_action: Callable[[str], None] | None = None,
    ) -> None:
        self.bindings = settings.bindings()
        self.backend = backend
        self.on_action = on_action
        self.controller: LoopController | None = None
        self.fired: dict[str, int] = dict.fromkeys(self.bindings, 0)
        self._held: set[int] = set()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.bindings)

    def open(self, controller: LoopController) -> None:
        self.controller = controller
        if self.backend is None:
            self.backend = default_backend()
        self.backend.start(self._on_event, keyboard=True, mouse=False)
        log.info("hotkeys: %s", ", ".join(f"{a}={c}" for a, c in self.describe().items()))

    def describe(self) -> dict[str, str]:
        return {
            action: "+".join(str(sorted(keys)) for keys in combo) for action, combo in self.bindings.items()
        }

    def _on_event(self, event: HookEvent) -> None:
        """On the hook's thread: keep the held set, fire a combination when it completes."""
        if event.kind != KEY:
            return
        with self._lock:
            if not event.down:
                self._held.discard(event.code)
                return
            if event.code in self._held:  # auto-repeat: fire once per press
                return
            self._held.add(event.code)
            held = frozenset(self._held)
        for action, combo in self.bindings.items():
            if any(event.code in keys for keys in combo) and all(keys & held for keys in combo):
                self.fire(action)

    def fire(self, action: str) -> None:
        self.fired[action] += 1
        controller = self.controller
        if controller is not None:
            if action == "pause":
                paused = controller.toggle_pause()
                log.info("hotkey: recording %s", "paused" if paused else "resumed")
            elif action == "stop":
                log.info("hotkey: ending the recording")
                controller.end("hotkey")
        if self.on_action is not None:
            self.on_action(action)

    def poll(self) -> None:
        """Nothing to do on the main thread (the hook thread drives the controller); kept so the
        recorder's loop can treat hotkeys like an input device."""

    def close(self) -> None:
        if self.backend is not None:
            self.backend.stop()
            self.backend = None

    def stats(self) -> dict[str, int]:
        return dict(self.fired)

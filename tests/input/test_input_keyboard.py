"""Global keyboard/mouse capture under a real X server with real xdotool events."""

from __future__ import annotations

import subprocess
import time

from grimjobs.input.controls import InputState
from grimjobs.input.keyboard import GlobalHooks, XRecordHooks
from grimjobs.input.sdl import SdlInput, SdlInputSettings
from grimjobs.session.actions import InputSnapshot
from tests.conftest import XServer, require_tool


def _drain_until(hooks: GlobalHooks, state: InputState, seen: list[tuple[int, ...]], count: int) -> None:
    deadline = time.monotonic() + 5
    while len(seen) < count and time.monotonic() < deadline:
        hooks.drain(state, lambda t_ns: seen.append(tuple(sorted(state.keys))))
        time.sleep(0.01)


def test_xdotool_keys_become_sdl_scancodes_in_order(xvfb: XServer) -> None:
    xdotool = require_tool("xdotool")
    hooks = GlobalHooks(keyboard=True, mouse=False, backend=XRecordHooks(xvfb.display))
    hooks.open()
    state = InputState()
    seen: list[tuple[int, ...]] = []
    try:
        subprocess.run(
            [xdotool, "key", "--delay", "5", "a", "shift+b", "Escape", "F1", "Return", "Up", "space"],
            env=xvfb.env(),
            check=True,
        )
        _drain_until(hooks, state, seen, 16)
    finally:
        hooks.close()
        hooks.close()  # idempotent
    a, b, shift, esc, f1, enter, up, space = 4, 5, 225, 41, 58, 40, 82, 44
    assert seen == [
        (a,), (),
        (shift,), (b, shift), (b,), (),  # xdotool releases the modifier first
        (esc,), (), (f1,), (), (enter,), (), (up,), (), (space,), (),
    ]  # fmt: skip
    assert hooks.stats()["key_events"] == 16


def test_keyboard_and_mouse_in_the_sdl_device_snapshots(xvfb: XServer) -> None:
    xdotool = require_tool("xdotool")
    device = SdlInput(SdlInputSettings(pad="no such pad", keyboard=True, mouse=True))
    out: list[InputSnapshot] = []
    device.open(time.monotonic_ns())
    try:
        subprocess.run(
            [xdotool, "mousemove", "100", "200", "keydown", "w", "click", "3", "keyup", "w"],
            env=xvfb.env(),
            check=True,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (not out or out[-1].pressed_keys):
            device.poll(out.append, 0.01)
    finally:
        device.close(out.append)
    states = [(s.pressed_keys, s.pressed_mouse_buttons, s.mouse) for s in out]
    assert states == [
        ((), (), (100, 200)),
        ((26,), (), (100, 200)),
        ((26,), (3,), (100, 200)),
        ((26,), (), (100, 200)),
        ((), (), (100, 200)),
    ]
    times = [s.monotonic_ns for s in out]
    assert times == sorted(times)
    assert all(len(s.axes) == 6 for s in out)  # the pad part stays neutral and present

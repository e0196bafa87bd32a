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


def test_key_stamps_are_the_x_server_time_of_the_key(xvfb: XServer) -> None:
    """Keys sent through XTEST from this process: the server handles each between our send and the
    end of the sync round trip after it, so its stamp must lie in that bracket (widened by the
    offset's measured uncertainty and the millisecond tick), however late the hook thread or our
    drain gets to it. We drain only after all keys are sent, seconds later for the first ones:
    a stamp taken on receipt would fall outside every bracket but the last."""
    from Xlib import X, display
    from Xlib.ext import xtest

    backend = XRecordHooks(xvfb.display)
    hooks = GlobalHooks(keyboard=True, mouse=False, backend=backend)
    hooks.open()
    connection = display.Display(xvfb.display)
    brackets: list[tuple[int, int]] = []
    keycode = connection.keysym_to_keycode(ord("a"))
    try:
        for _ in range(10):
            for kind in (X.KeyPress, X.KeyRelease):
                before = time.monotonic_ns()
                xtest.fake_input(connection, kind, keycode)
                connection.sync()
                brackets.append((before, time.monotonic_ns()))
            time.sleep(0.05)
        time.sleep(0.5)  # the drain comes late: the stamps must not
        state = InputState()
        stamps: list[int] = []
        deadline = time.monotonic() + 10
        while len(stamps) < len(brackets) and time.monotonic() < deadline:
            hooks.drain(state, stamps.append)
            time.sleep(0.01)
    finally:
        connection.close()
        hooks.close()
    assert len(stamps) == len(brackets)
    stats = hooks.stats()
    assert int(stats["xtime_observations"]) >= 1 and stats["xtime_fallbacks"] == 0
    tolerance = round(float(stats["xtime_offset_uncertainty_ms"]) * 1e6) + 1_000_000
    for stamp, (before, after) in zip(stamps, brackets, strict=True):
        assert before - tolerance <= stamp <= after + tolerance, (stamp - before, after - before, tolerance)
    assert stamps == sorted(stamps)

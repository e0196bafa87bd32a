"""The gamepad path through SDL's real event queue, driven by SDL virtual game controllers."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from grimjobs.clock import now_ns
from grimjobs.errors import ConfigError
from grimjobs.input.base import InputDevice
from grimjobs.input.controls import AXIS_IDS, BUTTON_IDS
from grimjobs.input.scripted import ScriptedInput, ScriptedSettings
from grimjobs.input.sdl import SdlInput, SdlInputSettings
from grimjobs.input.sdl_pad import VirtualPad
from grimjobs.session.actions import (
    REASON_CONNECT,
    REASON_DISCONNECT,
    REASON_EVENT,
    REASON_SAMPLE,
    InputSnapshot,
)
from grimjobs.settings import build

SCRIPTED = "grimjobs.input.scripted.ScriptedInput"
A, B, DPUP = BUTTON_IDS["a"], BUTTON_IDS["b"], BUTTON_IDS["dpup"]
LEFTX, LEFTY, RT = AXIS_IDS["leftx"], AXIS_IDS["lefty"], AXIS_IDS["righttrigger"]


def poll_until(
    device: InputDevice, out: list[InputSnapshot], done: Callable[[], bool], limit_s: float = 3.0
) -> None:
    deadline = now_ns() + int(limit_s * 1e9)
    while not done():
        assert now_ns() < deadline, f"condition not reached; got {out}"
        device.poll(out.append, 0.002)


def test_scripted_timeline_reaches_the_log_through_sdl_events() -> None:
    settings = ScriptedSettings.model_validate(
        {
            "timeline": [
                {"t": 0.00, "press": "a"},
                {"t": 0.00, "release": "a"},  # same instant: both edges still recorded
                {"t": 0.02, "axis": "leftx", "value": 0.5},
                {"t": 0.03, "axis": "lefty", "value": -1.0},
                {"t": 0.04, "axis": "righttrigger", "value": 1.0},
                {"t": 0.05, "press": "dpup"},
                {"t": 0.06, "axis": "righttrigger", "value": 0.25},
            ]
        }
    )
    device = ScriptedInput(settings)
    out: list[InputSnapshot] = []
    device.open(now_ns())
    try:
        poll_until(device, out, lambda: device.steps_played == 7 and len(out) >= 8)
    finally:
        device.close(out.append)
        device.close()  # idempotent
    states = [(s.reason, tuple(round(a, 4) for a in s.axes), s.pressed_buttons) for s in out]
    zero = (0.0,) * 6
    assert states == [
        (REASON_CONNECT, zero, ()),
        (REASON_EVENT, zero, (A,)),
        (REASON_EVENT, zero, ()),
        (REASON_EVENT, (0.5, 0, 0, 0, 0, 0), ()),
        (REASON_EVENT, (0.5, -1.0, 0, 0, 0, 0), ()),
        (REASON_EVENT, (0.5, -1.0, 0, 0, 0, 1.0), ()),
        (REASON_EVENT, (0.5, -1.0, 0, 0, 0, 1.0), (DPUP,)),
        (REASON_EVENT, (0.5, -1.0, 0, 0, 0, 0.25), (DPUP,)),
        (REASON_DISCONNECT, zero, ()),
    ]
    times = [s.monotonic_ns for s in out]
    assert times == sorted(times)
    # Steps are timed from the first poll: the tap and the last step are 60 ms apart at least.
    assert times[7] - times[1] >= 55_000_000
    assert device.stats()["script_steps"] == 7


def test_hot_plug_connect_disconnect_reconnect_during_polling() -> None:
    device = SdlInput(SdlInputSettings(pad="hotplug test pad"))
    out: list[InputSnapshot] = []
    device.open(now_ns())
    other = VirtualPad("some other controller")  # does not match the name: ignored
    pad = VirtualPad("Hotplug Test Pad")
    try:
        other.attach()
        device.poll(out.append, 0.01)
        assert out == []  # no matching pad yet, and the other pad's events are not ours
        other.set_button(A, True)
        device.poll(out.append, 0.01)
        assert out == []

        pad.attach()
        poll_until(device, out, lambda: len(out) == 1)
        assert out[0].reason == REASON_CONNECT
        pad.set_button(B, True)
        pad.set_axis(LEFTX, -1.0)
        poll_until(device, out, lambda: len(out) == 3)
        assert out[2].pressed_buttons == (B,) and out[2].axes[LEFTX] == -1.0

        pad.detach()  # unplugged while held: the log must not carry B / leftx forward
        poll_until(device, out, lambda: out[-1].reason == REASON_DISCONNECT)
        assert out[-1].pressed_buttons == () and all(v == 0.0 for v in out[-1].axes)
        assert device.hub is not None and not device.hub.connected

        pad.attach()  # plugged back in
        poll_until(device, out, lambda: out[-1].reason == REASON_CONNECT)
        pad.set_axis(RT, 0.5)
        poll_until(device, out, lambda: abs(out[-1].axes[RT] - 0.5) < 1e-3)
    finally:
        device.close(out.append)
        pad.detach()
        other.detach()
    stats = device.stats()
    assert stats["connects"] == 2 and stats["disconnects"] == 2  # the unplug + the final release
    assert out[-1].reason == REASON_DISCONNECT
    # Pad events carry SDL's own event time, mapped to the recording clock: learned, never a
    # fallback, and the log never runs backwards.
    assert int(stats["sdl_time_observations"]) >= 1 and stats["sdl_time_fallbacks"] == 0
    assert int(stats["sdl_time_mapped"]) >= 3
    stamps = [snapshot.monotonic_ns for snapshot in out]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("by", ["guid", "index", "first"])
def test_pad_selection_by_guid_index_first(by: str) -> None:
    pads = [VirtualPad(f"selection pad {i}") for i in range(2)]
    for pad in pads:
        pad.attach()
    try:
        import sdl2

        # The second pad by whatever the selector names.
        index = next(
            i
            for i in range(sdl2.SDL_NumJoysticks())
            if sdl2.SDL_JoystickGetDeviceInstanceID(i) == pads[1].instance_id
        )
        from grimjobs.input.sdl_pad import guid_string

        specs: dict[str, str | int] = {
            "guid": guid_string(sdl2, sdl2.SDL_JoystickGetDeviceGUID(index)),
            "index": index,
            "first": "first",
        }
        spec = specs[by]
        device = SdlInput(SdlInputSettings(pad=spec))
        out: list[InputSnapshot] = []
        device.open(now_ns())
        try:
            poll_until(device, out, lambda: len(out) == 1)
            assert device.hub is not None and device.hub.pad is not None
            expected = "selection pad 0" if by == "first" else "selection pad 1"
            assert device.hub.pad.name == expected
        finally:
            device.close()
    finally:
        for pad in pads:
            pad.detach()


def test_sampling_fills_idle_time_and_keeps_both_edges_of_a_short_press() -> None:
    device = SdlInput(SdlInputSettings(pad="sampled pad", sample_hz=100))
    pad = VirtualPad("sampled pad")
    out: list[InputSnapshot] = []
    pad.attach()
    start = now_ns()
    device.open(start)
    try:
        poll_until(device, out, lambda: now_ns() - start > 150_000_000, limit_s=2)
        # A press and release well inside one 10 ms sampling period, each pumped by SDL.
        pad.set_button(A, True)
        device.poll(out.append, 0.0)
        pad.set_button(A, False)
        device.poll(out.append, 0.0)
        until = now_ns() + 50_000_000
        poll_until(device, out, lambda: now_ns() > until)
    finally:
        device.close()
        pad.detach()
    samples = [s for s in out if s.reason == REASON_SAMPLE]
    assert 14 <= len(samples) <= 22, len(samples)
    gaps = [b.monotonic_ns - a.monotonic_ns for a, b in itertools.pairwise(samples)]
    assert max(gaps) < 25_000_000
    events = [s.pressed_buttons for s in out if s.reason == REASON_EVENT]
    assert events == [(A,), ()]


def test_scripted_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"input\.timeline"):
        build(
            {"_target_": "grimjobs.input.scripted.ScriptedInput", "timeline": [{"t": 1, "press": "zz"}]},
            "input",
        )
    with pytest.raises(ConfigError, match="exactly one"):
        build({"_target_": SCRIPTED, "timeline": [{"t": 1}]}, "input")
    with pytest.raises(ConfigError, match="outside"):
        build(
            {
                "_target_": "grimjobs.input.scripted.ScriptedInput",
                "timeline": [{"t": 1, "axis": "lefttrigger", "value": -0.5}],
            },
            "input",
        )
    with pytest.raises(ConfigError, match=r"input\.sample_hz"):
        build({"_target_": "grimjobs.input.sdl.SdlInput", "sample_hz": -1}, "input")


def test_list_shows_controllers_with_the_guid_input_pad_takes() -> None:
    from grimjobs.jobs.list import list_controllers

    pad = VirtualPad("listed pad")
    pad.attach()
    try:
        rows = [row for row in list_controllers() if row["name"] == "listed pad"]
        assert len(rows) == 1 and rows[0]["game_controller"] is True
        device = SdlInput(SdlInputSettings(pad=rows[0]["guid"]))
        out: list[InputSnapshot] = []
        device.open(now_ns())
        try:
            poll_until(device, out, lambda: len(out) == 1)
            assert device.hub is not None and device.hub.pad is not None
            assert device.hub.pad.name == "listed pad"
        finally:
            device.close()
    finally:
        pad.detach()

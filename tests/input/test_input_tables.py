"""Pure tables: normalization, scancodes, SDL -> XUSB, backend error lines, timeline."""

from __future__ import annotations

import pytest

from grimjobs.errors import UserError
from grimjobs.input.controls import (
    AXIS_MAX,
    AXIS_MIN,
    BUTTON_IDS,
    InputState,
    normalize_axis,
    virtual_axis_value,
)
from grimjobs.input.forward import backend_error, make_forwarder
from grimjobs.input.scancodes import (
    CHAR_TO_SDL,
    EVDEV_TO_SDL,
    KEY_NAME_TO_SDL,
    X11_BUTTON_TO_SDL,
    key_name_to_sdl,
    x11_keycode_to_sdl,
)
from grimjobs.input.scripted import Action, Timeline
from grimjobs.input.xusb import SDL_BUTTON_TO_XUSB, XusbReport, stick, trigger, xusb_report
from grimjobs.session.actions import REASON_SAMPLE


def test_axis_normalization_bounds() -> None:
    assert normalize_axis(0, AXIS_MAX) == 1.0
    assert normalize_axis(0, AXIS_MIN) == -1.0
    assert normalize_axis(1, 0) == 0.0
    assert normalize_axis(4, 0) == 0.0 and normalize_axis(5, AXIS_MAX) == 1.0
    assert normalize_axis(5, -5) == 0.0  # a trigger never goes negative
    assert virtual_axis_value(4, 0.0) == AXIS_MIN and virtual_axis_value(4, 1.0) == AXIS_MAX
    assert virtual_axis_value(0, -1.0) == -AXIS_MAX and virtual_axis_value(2, 2.0) == AXIS_MAX


def test_input_state_reports_only_changes() -> None:
    state = InputState()
    assert state.set_button(0, True) and not state.set_button(0, True)
    assert state.set_axis(1, 0.5) and not state.set_axis(1, 0.5)
    assert not state.set_axis(9, 0.5)  # no such slot
    assert state.set_key(4, True) and state.set_mouse(3, 4) and not state.set_mouse(3, 4)
    snap = state.snapshot(7, REASON_SAMPLE)
    assert (snap.monotonic_ns, snap.pressed_buttons, snap.axes[1], snap.pressed_keys, snap.mouse) == (
        7,
        (0,),
        0.5,
        (4,),
        (3, 4),
    )
    state.neutral_pad()
    assert state.pad_is_neutral() and state.keys == {4}


@pytest.mark.parametrize(
    ("evdev", "scancode"),
    [(1, 41), (2, 30), (10, 38), (11, 39), (16, 20), (30, 4), (44, 29), (50, 16), (57, 44), (28, 40),
     (42, 225), (54, 229), (29, 224), (97, 228), (56, 226), (100, 230), (125, 227), (59, 58), (68, 67),
     (87, 68), (88, 69), (103, 82), (108, 81), (105, 80), (106, 79), (111, 76), (96, 88),
     (183, 104), (194, 115)],
)  # fmt: skip
def test_evdev_keys_map_to_sdl_scancodes(evdev: int, scancode: int) -> None:
    assert EVDEV_TO_SDL[evdev] == scancode
    assert x11_keycode_to_sdl(evdev + 8) == scancode


def test_scancode_tables_are_consistent() -> None:
    # Distinct keys get distinct scancodes, all within SDL's range.
    assert len(set(EVDEV_TO_SDL.values())) == len(EVDEV_TO_SDL)
    assert all(0 < code < 512 for code in EVDEV_TO_SDL.values())
    # Letters: SDL_SCANCODE_A..Z are 4..29 in alphabetical order, from either path.
    qwerty = "qwertyuiopasdfghjklzxcvbnm"
    evdev_codes = [*range(16, 26), *range(30, 39), *range(44, 51)]
    for letter, code in zip(qwerty, evdev_codes, strict=True):
        assert (
            EVDEV_TO_SDL[code]
            == ord(letter) - ord("a") + 4
            == CHAR_TO_SDL[letter]
            == CHAR_TO_SDL[letter.upper()]
        )
    # Every key-name mapping lands on a key the evdev table also produces (same meaning both ways).
    assert set(KEY_NAME_TO_SDL.values()) <= set(EVDEV_TO_SDL.values())
    assert set(CHAR_TO_SDL.values()) <= set(EVDEV_TO_SDL.values())
    assert key_name_to_sdl("shift_r", None) == 229 and key_name_to_sdl(None, "?") == 56
    assert key_name_to_sdl(None, "é") is None and x11_keycode_to_sdl(8 + 240) is None
    assert X11_BUTTON_TO_SDL == {1: 1, 2: 2, 3: 3, 8: 4, 9: 5}


def test_xusb_translation() -> None:
    assert xusb_report((0.0,) * 6, ()) == XusbReport()
    report = xusb_report(
        (1.0, 1.0, -1.0, -0.5, 0.5, 1.0), {BUTTON_IDS["a"], BUTTON_IDS["dpleft"], BUTTON_IDS["misc1"]}
    )
    assert report == XusbReport(buttons=0x1000 | 0x0004, left_trigger=128, right_trigger=255,
                                thumb_lx=32767, thumb_ly=-32767, thumb_rx=-32767, thumb_ry=16384)  # fmt: skip
    assert stick(2.0) == 32767 and stick(-2.0) == -32767 and trigger(-1) == 0 and trigger(0.999) == 255
    # Every XUSB bit is reachable from exactly one SDL button, and all 15 bits are covered.
    bits = list(SDL_BUTTON_TO_XUSB.values())
    assert len(bits) == len(set(bits)) == 15 and sum(bits) == 0xF7FF
    for button, bit in SDL_BUTTON_TO_XUSB.items():
        assert xusb_report((), [button]).buttons == bit
    assert xusb_report((0.1,), ()).thumb_lx == 3277  # a short axes list is padded with zeros


@pytest.mark.parametrize(
    ("exc", "platform", "fix"),
    [
        (ModuleNotFoundError("No module named 'vgamepad'", name="vgamepad"), "linux", "pip install vgamepad"),
        (FileNotFoundError(2, "No such file or directory", "/dev/uinput"), "linux", "modprobe uinput"),
        (PermissionError(13, "Permission denied", "/dev/uinput"), "linux", "udev rule"),
        (OSError("libevdev.so.2: cannot open shared object file"), "linux", "apt-get install libevdev2"),
        (Exception("VIGEM_ERROR_BUS_NOT_FOUND"), "win32", "install ViGEmBus"),
    ],
)
def test_missing_backend_errors_name_the_fix(exc: BaseException, platform: str, fix: str) -> None:
    line = backend_error(exc, platform)
    assert fix in line and "\n" not in line and line.startswith("input.forward=vgamepad: ")


def test_forwarder_open_fails_with_one_line_here() -> None:
    import os

    forwarder = make_forwarder("vgamepad")
    if os.path.exists("/dev/uinput") and os.access("/dev/uinput", os.W_OK):
        pytest.skip("this machine has a writable /dev/uinput")
    with pytest.raises(UserError) as info:
        forwarder.open()
    assert "uinput" in str(info.value) or "pip install vgamepad" in str(info.value)


def test_timeline_order_ties_and_loop() -> None:
    a, b, c = Action("button", 0, True), Action("button", 0, False), Action("axis", 1, value=0.5)
    timeline = Timeline([(20, c), (10, a), (10, b)])
    assert list(timeline.due(5)) == [] and timeline.next_ns() == 10
    assert list(timeline.due(10)) == [a, b]  # same time: config order
    assert list(timeline.due(100)) == [c] and timeline.next_ns() is None
    looped = Timeline([(0, a), (5, b)], period_ns=10)
    assert list(looped.due(24)) == [a, b, a, b, a]
    assert looped.next_ns() == 25

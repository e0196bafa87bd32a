"""Windows keyboard translation (scan code + extended flag -> SDL scancode) and press/release
balance, fed the way pynput's Windows listener feeds `win32_event_filter`: (msg, KBDLLHOOKSTRUCT)
from the WH_KEYBOARD_LL hook."""

from __future__ import annotations

import ctypes
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
import sdl2
from hypothesis import given, settings
from hypothesis import strategies as st

from grimjobs.input.controls import InputState
from grimjobs.input.keyboard import KEY, GlobalHooks, HookEvent
from grimjobs.input.keyboard_win32 import (
    LLKHF_EXTENDED,
    WM_KEYDOWN,
    WM_KEYUP,
    WM_SYSKEYDOWN,
    WM_SYSKEYUP,
    KeyBalance,
    Win32Hooks,
    windows_key_to_sdl,
)
from grimjobs.input.scancodes import EVDEV_TO_SDL


class KBDLLHOOKSTRUCT(ctypes.Structure):
    """As pynput declares it (pynput/keyboard/_win32.py) and Windows fills it."""

    _fields_ = [
        ("vkCode", ctypes.c_uint32),
        ("scanCode", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("time", ctypes.c_uint32),
        ("dwExtraInfo", ctypes.c_void_p),
    ]


# (vk, scan, extended) of physical keys on a PC keyboard. The vk depends on the layout; the scan
# code does not. US, German QWERTZ and French AZERTY virtual keys for the same positions:
LAYOUT_VK = {
    "us": {0x10: ord("Q"), 0x11: ord("W"), 0x15: ord("Y"), 0x2C: ord("Z"), 0x08: ord("7"), 0x1E: ord("A")},
    "de": {0x10: ord("Q"), 0x11: ord("W"), 0x15: ord("Z"), 0x2C: ord("Y"), 0x08: ord("7"), 0x1E: ord("A")},
    "fr": {0x10: ord("A"), 0x11: ord("Z"), 0x15: ord("Y"), 0x2C: ord("W"), 0x08: ord("7"), 0x1E: ord("Q")},
}
VK_LCONTROL, VK_LSHIFT, VK_RMENU, VK_NUMPAD7, VK_HOME, VK_RETURN = 0xA2, 0xA0, 0xA5, 0x67, 0x24, 0x0D


def sdl_name(code: int) -> str:
    return str(sdl2.SDL_GetScancodeName(code).decode())


class StubListener:
    """pynput.keyboard.Listener's Windows contract: options prefixed `win32_` are the backend's;
    `event_filter(msg, data)` runs in the hook for every event, and returning False ends pynput's
    own handling of it (no on_press/on_release)."""

    instances: ClassVar[list[StubListener]] = []

    def __init__(self, on_press: Callable[..., Any] | None = None, **kwargs: Any) -> None:
        self.on_press = on_press
        self.event_filter = kwargs.get("win32_event_filter", lambda msg, data: True)
        self.running = False
        self.translated = 0  # events pynput would have turned into KeyCode(char=...) itself
        StubListener.instances.append(self)

    def start(self) -> None:
        self.running = True

    def wait(self) -> None:
        assert self.running

    def stop(self) -> None:
        self.running = False

    def hook(self, msg: int, vk: int, scan: int, extended: bool = False) -> None:
        assert self.running
        data = KBDLLHOOKSTRUCT(vk, scan, LLKHF_EXTENDED if extended else 0, 0, None)
        if self.event_filter(msg, data) is not False:
            self.translated += 1


@pytest.fixture
def stub_pynput(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[StubListener]]:
    keyboard = types.ModuleType("pynput.keyboard")
    keyboard.Listener = StubListener  # type: ignore[attr-defined]
    package = types.ModuleType("pynput")
    package.keyboard = keyboard  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynput", package)
    monkeypatch.setitem(sys.modules, "pynput.keyboard", keyboard)
    StubListener.instances = []
    yield StubListener


STATES: dict[int, InputState] = {}


def hooked(stub: type[StubListener]) -> tuple[GlobalHooks, StubListener]:
    hooks = GlobalHooks(keyboard=True, mouse=False, backend=Win32Hooks())
    hooks.open()
    STATES.clear()
    return hooks, stub.instances[-1]


def drain(hooks: GlobalHooks) -> tuple[InputState, list[int]]:
    """Apply the queued events to the one InputState of `hooks` (kept across calls)."""
    state = STATES.setdefault(id(hooks), InputState())
    hooks.drain(state, lambda t: None)
    return state, sorted(state.keys)


def test_basic_block_matches_the_linux_table() -> None:
    """Set-1 scan codes of the main block equal Linux evdev codes: SDL's Windows and Linux tables
    must agree on every one (two independent tables, same keys)."""
    checked = 0
    for scan in range(1, 0x59):
        if scan in (0x54, 0x55) or scan not in EVDEV_TO_SDL:
            continue
        assert windows_key_to_sdl(0, scan, False) == EVDEV_TO_SDL[scan], hex(scan)
        checked += 1
    assert checked >= 80


@pytest.mark.parametrize(
    ("vk", "scan", "extended", "name"),
    [
        (VK_NUMPAD7, 0x47, False, "Keypad 7"),
        (VK_HOME, 0x47, True, "Home"),
        (VK_RETURN, 0x1C, True, "Keypad Enter"),
        (VK_RETURN, 0x1C, False, "Return"),
        (0xA3, 0x1D, True, "Right Ctrl"),
        (VK_RMENU, 0x38, True, "Right Alt"),
        (0x6F, 0x35, True, "Keypad /"),
        (0x6A, 0x37, False, "Keypad *"),
        (0x2C, 0x37, True, "PrintScreen"),
        (0x13, 0x45, False, "Pause"),  # Pause and NumLock share scan 0x45: the vk decides
        (0x90, 0x45, True, "Numlock"),
        (0x7C, 0x64, False, "F13"),
        (0x25, 0x00, False, "Left"),  # on-screen keyboard: no scan code
    ],
)
def test_extended_and_numpad_keys_as_sdl_names_them(vk: int, scan: int, extended: bool, name: str) -> None:
    assert sdl_name(windows_key_to_sdl(vk, scan, extended)) == name


@pytest.mark.parametrize("layout", sorted(LAYOUT_VK))
def test_positions_not_characters_on_every_layout(stub_pynput: type[StubListener], layout: str) -> None:
    hooks, hook = hooked(stub_pynput)
    vk = LAYOUT_VK[layout]
    hook.hook(WM_KEYDOWN, vk[0x10], 0x10)  # right of Tab: 'A' on AZERTY, still SDL Q
    hook.hook(WM_KEYDOWN, vk[0x2C], 0x2C)  # left of X: 'Y' on QWERTZ, still SDL Z
    _, keys = drain(hooks)
    assert [sdl_name(k) for k in keys] == ["Q", "Z"]
    assert hook.translated == 0  # the filter took every event: pynput's char path never ran
    hooks.close()


def test_release_under_changed_modifiers_balances(stub_pynput: type[StubListener]) -> None:
    """W down, Ctrl down, W up (pynput would report '\\x17' for it), Ctrl up; Shift+7 on QWERTZ
    ('/' on release) and Ctrl+digit: nothing stays held."""
    hooks, hook = hooked(stub_pynput)
    vk = LAYOUT_VK["de"]
    hook.hook(WM_KEYDOWN, vk[0x11], 0x11)
    hook.hook(WM_KEYDOWN, VK_LCONTROL, 0x1D)
    hook.hook(WM_KEYUP, vk[0x11], 0x11)
    _, keys = drain(hooks)
    assert [sdl_name(k) for k in keys] == ["Left Ctrl"]
    hook.hook(WM_KEYDOWN, vk[0x08], 0x08)  # Ctrl+7
    _, _ = drain(hooks)
    hook.hook(WM_KEYUP, VK_LCONTROL, 0x1D)
    hook.hook(WM_KEYDOWN, VK_LSHIFT, 0x2A)
    hook.hook(WM_KEYUP, vk[0x08], 0x08)
    hook.hook(WM_KEYUP, VK_LSHIFT, 0x2A)
    _, keys = drain(hooks)
    assert keys == []
    hooks.close()


def test_numpad_and_main_row_are_different_keys(stub_pynput: type[StubListener]) -> None:
    hooks, hook = hooked(stub_pynput)
    hook.hook(WM_KEYDOWN, ord("7"), 0x08)
    hook.hook(WM_KEYDOWN, VK_NUMPAD7, 0x47)
    hook.hook(WM_SYSKEYDOWN, VK_RMENU, 0x38, extended=True)  # AltGr comes as a system key
    _, keys = drain(hooks)
    assert sorted(sdl_name(k) for k in keys) == ["7", "Keypad 7", "Right Alt"]
    hook.hook(WM_SYSKEYUP, VK_RMENU, 0x38, extended=True)
    _, keys = drain(hooks)
    assert sorted(sdl_name(k) for k in keys) == ["7", "Keypad 7"]
    hooks.close()


def test_fake_shift_around_extended_keys_is_not_a_keystroke(stub_pynput: type[StubListener]) -> None:
    hooks, hook = hooked(stub_pynput)
    hook.hook(WM_KEYDOWN, VK_LSHIFT, 0x2A)
    hook.hook(WM_KEYUP, VK_LSHIFT, 0x2A, extended=True)  # driver: fake Shift up ...
    hook.hook(WM_KEYDOWN, VK_HOME, 0x47, extended=True)
    hook.hook(WM_KEYUP, VK_HOME, 0x47, extended=True)
    hook.hook(WM_KEYDOWN, VK_LSHIFT, 0x2A, extended=True)  # ... and fake Shift down again
    _, keys = drain(hooks)
    assert [sdl_name(k) for k in keys] == ["Left Shift"]
    hook.hook(WM_KEYUP, VK_LSHIFT, 0x2A)
    _, keys = drain(hooks)
    assert keys == []
    hooks.close()


def test_stop_releases_held_keys_and_drops_orphan_releases(stub_pynput: type[StubListener]) -> None:
    hooks, hook = hooked(stub_pynput)
    hook.hook(WM_KEYUP, ord("A"), 0x1E)  # held before the recording: its press was never seen
    hook.hook(WM_KEYDOWN, ord("D"), 0x20)
    hook.hook(WM_KEYDOWN, ord("D"), 0x20)  # auto-repeat
    hooks.close()
    state = InputState()
    changes: list[int] = []
    hooks.drain(state, changes.append)
    assert not state.keys
    assert len(changes) == 2  # one press, one release


keys_st = st.sampled_from(
    [
        (0x11, False),
        (0x1D, False),
        (0x1D, True),
        (0x2A, False),
        (0x47, False),
        (0x47, True),
        (0x38, True),
        (0x08, False),
        (0x1C, True),
        (0x99, False),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(keys_st, st.booleans()), max_size=60))
def test_every_press_has_its_release(script: list[tuple[tuple[int, bool], bool]]) -> None:
    events: list[HookEvent] = []
    balance = KeyBalance(events.append)
    for (scan, extended), down in script:
        msg = WM_KEYDOWN if down else WM_KEYUP
        balance.key(0, msg, 0, scan, LLKHF_EXTENDED if extended else 0)
    balance.release_all(1)
    held: dict[int, int] = {}
    for event in events:
        assert event.kind == KEY and event.code != 0
        held[event.code] = held.get(event.code, 0) + (1 if event.down else -1)
        assert held[event.code] in (0, 1)  # never released twice, never pressed twice
    assert all(count == 0 for count in held.values())


def test_keys_without_an_sdl_scancode_are_counted(stub_pynput: type[StubListener]) -> None:
    hooks, hook = hooked(stub_pynput)
    hook.hook(WM_KEYDOWN, 0xFF, 0x7E)  # no SDL scancode
    hook.hook(WM_KEYUP, 0xFF, 0x7E)
    _, keys = drain(hooks)
    assert keys == []
    assert hooks.stats()["unknown_keys"] == 1
    hooks.close()

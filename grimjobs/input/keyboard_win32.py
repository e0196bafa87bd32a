"""Windows keyboard: physical keys from the low-level hook's scan code, as SDL translates them.

pynput's Windows backend turns each key into `KeyCode(char=ToUnicodeEx(vk, scan, modifiers))`, so
the same physical key reports different characters while Ctrl/Shift/AltGr change (W pressed, Ctrl
pressed, W released under Ctrl: a release nobody matches, a key held forever), numpad keys report
the main-row digits, and on AZERTY the key right of Tab reports "a". We read the KBDLLHOOKSTRUCT
that pynput's `win32_event_filter` hands us instead: `scanCode` and the LLKHF_EXTENDED flag name a
key position whatever the layout and modifiers, and SDL's own Windows table (SDL2
src/events/scancodes_windows.h with WindowsScanCodeToSDLScanCode's extended/numpad rules, in
src/video/windows/SDL_windowsevents.c) turns them into SDL scancodes.

Press/release always balance: the code a press was recorded under is remembered by (scan,
extended) and its release uses the same code; a release whose press we never saw (held before the
recording started) is dropped; auto-repeat presses of a held key are not new presses; `stop()`
releases whatever is still held.
"""

from __future__ import annotations

import threading
from typing import Any

from grimjobs.clock import now_ns
from grimjobs.errors import UserError
from grimjobs.input.keyboard import KEY, HookBackend, HookEvent, PynputHooks, Sink

WM_KEYDOWN = 0x0100
WM_KEYUP = 0x0101
WM_SYSKEYDOWN = 0x0104
WM_SYSKEYUP = 0x0105
PRESS_MESSAGES = (WM_KEYDOWN, WM_SYSKEYDOWN)
RELEASE_MESSAGES = (WM_KEYUP, WM_SYSKEYUP)
LLKHF_EXTENDED = 0x01  # KBDLLHOOKSTRUCT.flags: the key's scan code came with the 0xE0 prefix
# With NumLock on (or Shift held), the keyboard driver wraps an extended navigation key in fake
# Shift releases/presses with the 0xE0 prefix; they are not key presses of a person.
FAKE_SHIFT_SCANS = (0x2A, 0x36)

# SDL scancodes (SDL_scancode.h) used below.
_RETURN, _LCTRL, _LALT, _RALT, _RCTRL, _SLASH, _CAPSLOCK = 40, 224, 226, 230, 228, 56, 57
_KP_ENTER, _KP_DIVIDE, _KP_PLUS, _KP_MULTIPLY, _PRINTSCREEN = 88, 84, 87, 85, 70

# windows_scancode_table of SDL2 (src/events/scancodes_windows.h): set-1 scan code 0x00..0x7F ->
# SDL scancode, 0 = SDL_SCANCODE_UNKNOWN. Rows of 8 as in SDL's file.
# fmt: off
WINDOWS_SCANCODE_TABLE: tuple[int, ...] = (
    0, 41, 30, 31, 32, 33, 34, 35,  # 0x00 -, ESCAPE, 1..6
    36, 37, 38, 39, 45, 46, 42, 43,  # 0x08 7 8 9 0 MINUS EQUALS BACKSPACE TAB
    20, 26, 8, 21, 23, 28, 24, 12,  # 0x10 Q W E R T Y U I
    18, 19, 47, 48, 40, 224, 4, 22,  # 0x18 O P [ ] RETURN LCTRL A S
    7, 9, 10, 11, 13, 14, 15, 51,  # 0x20 D F G H J K L SEMICOLON
    52, 53, 225, 49, 29, 27, 6, 25,  # 0x28 APOSTROPHE GRAVE LSHIFT BACKSLASH Z X C V
    5, 17, 16, 54, 55, 56, 229, 70,  # 0x30 B N M COMMA PERIOD SLASH RSHIFT PRINTSCREEN
    226, 44, 57, 58, 59, 60, 61, 62,  # 0x38 LALT SPACE CAPSLOCK F1..F5
    63, 64, 65, 66, 67, 83, 71, 74,  # 0x40 F6..F10 NUMLOCKCLEAR SCROLLLOCK HOME
    82, 75, 86, 80, 93, 79, 87, 77,  # 0x48 UP PAGEUP KP_MINUS LEFT KP_5 RIGHT KP_PLUS END
    81, 78, 73, 76, 0, 0, 100, 68,  # 0x50 DOWN PAGEDOWN INSERT DELETE - - NONUSBACKSLASH F11
    69, 72, 0, 227, 231, 101, 0, 0,  # 0x58 F12 PAUSE - LGUI RGUI APPLICATION - -
    0, 0, 0, 0, 104, 105, 106, 107,  # 0x60 - - - - F13..F16
    108, 109, 110, 0, 0, 0, 0, 0,  # 0x68 F17..F19
    136, 0, 0, 135, 0, 0, 0, 0,  # 0x70 INTERNATIONAL2 - - INTERNATIONAL1
    0, 138, 0, 139, 0, 137, 0, 0,  # 0x78 - INTERNATIONAL4 - INTERNATIONAL5 - INTERNATIONAL3
)
# fmt: on
assert len(WINDOWS_SCANCODE_TABLE) == 128

# WindowsScanCodeToSDLScanCode: with the extended flag these table entries are other keys...
_EXTENDED: dict[int, int] = {
    _RETURN: _KP_ENTER,
    _LALT: _RALT,
    _LCTRL: _RCTRL,
    _SLASH: _KP_DIVIDE,
    _CAPSLOCK: _KP_PLUS,
}
# ...and without it the navigation entries are the numpad keys (NumLock off or on alike).
_NOT_EXTENDED: dict[int, int] = {
    74: 95,  # HOME -> KP_7
    82: 96,  # UP -> KP_8
    75: 97,  # PAGEUP -> KP_9
    80: 92,  # LEFT -> KP_4
    79: 94,  # RIGHT -> KP_6
    77: 89,  # END -> KP_1
    81: 90,  # DOWN -> KP_2
    78: 91,  # PAGEDOWN -> KP_3
    73: 98,  # INSERT -> KP_0
    76: 99,  # DELETE -> KP_PERIOD
    _PRINTSCREEN: _KP_MULTIPLY,
}
# VKeytoScancode: the virtual keys SDL trusts over the scan code (the ones a PC keyboard sends).
VK_TO_SDL: dict[int, int] = {
    0x13: 72,  # VK_PAUSE (scan 0x45 like NumLock, told apart only by the vk)
    0x90: 83,  # VK_NUMLOCK (scan 0x45 extended)
    **{0x7C + i: 104 + i for i in range(12)},  # VK_F13..VK_F24 -> F13..F24
    0xE2: 100,  # VK_OEM_102 -> NONUSBACKSLASH
}
# VKeytoScancodeFallback: the on-screen keyboard's arrows come without a scan code.
_VK_FALLBACK: dict[int, int] = {0x25: 80, 0x26: 82, 0x27: 79, 0x28: 81}


def windows_key_to_sdl(vk: int, scan: int, extended: bool) -> int:
    """SDL scancode of a low-level keyboard event (0 = unknown), as SDL2's
    WindowsScanCodeToSDLScanCode computes it from (vk, scan code, extended flag)."""
    code = VK_TO_SDL.get(vk, 0)
    if code == 0 and 0 <= scan <= 0x7F:
        code = WINDOWS_SCANCODE_TABLE[scan]
        code = (_EXTENDED if extended else _NOT_EXTENDED).get(code, code)
    if code == 0:
        code = _VK_FALLBACK.get(vk, 0)
    return code


class KeyBalance:
    """Turns the hook's presses and releases into balanced SDL key events.

    Keyed by the physical key (scan, extended), not by the SDL code: a release is always the code
    its press was recorded under, even if the translation of that key could change."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.held: dict[tuple[int, bool], int] = {}
        self.unknown = 0
        self.unmatched_releases = 0
        self._lock = threading.Lock()  # the hook thread and stop() both touch `held`

    def key(self, t_ns: int, msg: int, vk: int, scan: int, flags: int) -> bool:
        """Apply one hook event; False for a key press SDL has no scancode for."""
        extended = bool(flags & LLKHF_EXTENDED)
        if extended and scan in FAKE_SHIFT_SCANS:
            return True  # E0 2A / E0 36: the driver's fake Shift around an extended key, not a keystroke
        position = (scan, extended) if scan else (-vk, extended)  # no scan code: the vk names it
        with self._lock:
            if msg in PRESS_MESSAGES:
                if position in self.held:
                    return True  # auto-repeat of a key already down
                code = windows_key_to_sdl(vk, scan, extended)
                if code == 0:
                    self.unknown += 1
                    return False
                self.held[position] = code
                self.sink(HookEvent(t_ns, KEY, code, True))
            elif msg in RELEASE_MESSAGES:
                code = self.held.pop(position, 0)
                if code == 0:
                    self.unmatched_releases += 1
                    return True
                self.sink(HookEvent(t_ns, KEY, code, False))
        return True

    def release_all(self, t_ns: int) -> None:
        with self._lock:
            held, self.held = self.held, {}
        for code in held.values():
            self.sink(HookEvent(t_ns, KEY, code, False))


class Win32Hooks(HookBackend):
    """Windows: keys from pynput's low-level keyboard hook via `win32_event_filter` (scan codes);
    the mouse through pynput's mouse listener as on other platforms."""

    def __init__(self) -> None:
        self._balance: KeyBalance | None = None
        self._listener: Any = None
        self._mouse = PynputHooks()

    def event_filter(self, msg: int, data: Any) -> bool:
        """pynput calls this on its hook thread with the message and the KBDLLHOOKSTRUCT. Returning
        False keeps pynput from translating the event further (the game still gets the key)."""
        t_ns = now_ns()
        assert self._balance is not None
        if not self._balance.key(t_ns, int(msg), int(data.vkCode), int(data.scanCode), int(data.flags)):
            self.unknown += 1
        return False

    def start(self, sink: Sink, keyboard: bool, mouse: bool) -> None:
        if keyboard:
            try:
                from pynput import keyboard as pkeyboard
            except ImportError as exc:
                raise UserError(f"input.keyboard: pynput cannot hook the keyboard here ({exc})") from None
            self._balance = KeyBalance(sink)
            self._listener = pkeyboard.Listener(win32_event_filter=self.event_filter)
            self._listener.start()
            self._listener.wait()
        if mouse:
            self._mouse.start(sink, keyboard=False, mouse=True)

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self._balance is not None:
            self._balance.release_all(now_ns())  # nothing stays held past the end of the recording
        self._mouse.stop()

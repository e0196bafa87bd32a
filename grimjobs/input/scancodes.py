"""Pure key and mouse-button translation tables into SDL ids (SDL scancodes = USB HID usage ids).

A scancode names a physical key position, not a character: the key right of Tab is
SDL_SCANCODE_Q (20) on a QWERTY and on an AZERTY keyboard alike. So the X11 path translates the
hardware keycode (layout independent; with the evdev/xkb driver it is the Linux evdev code + 8,
exactly as SDL's own X11 backend assumes), and only the fallback for other platforms goes through
key names and US-layout characters.
"""

from __future__ import annotations

# Linux evdev KEY_* code -> SDL_Scancode (the subset a PC keyboard has; SDL's linux table).
EVDEV_TO_SDL: dict[int, int] = {
    1: 41,  # ESC
    **{code: 30 + code - 2 for code in range(2, 11)},  # 1..9
    11: 39,  # 0
    12: 45,  # MINUS
    13: 46,  # EQUAL
    14: 42,  # BACKSPACE
    15: 43,  # TAB
    16: 20, 17: 26, 18: 8, 19: 21, 20: 23, 21: 28, 22: 24, 23: 12, 24: 18, 25: 19,  # Q W E R T Y U I O P
    26: 47,  # LEFTBRACE
    27: 48,  # RIGHTBRACE
    28: 40,  # ENTER
    29: 224,  # LEFTCTRL
    30: 4, 31: 22, 32: 7, 33: 9, 34: 10, 35: 11, 36: 13, 37: 14, 38: 15,  # A S D F G H J K L
    39: 51,  # SEMICOLON
    40: 52,  # APOSTROPHE
    41: 53,  # GRAVE
    42: 225,  # LEFTSHIFT
    43: 49,  # BACKSLASH
    44: 29, 45: 27, 46: 6, 47: 25, 48: 5, 49: 17, 50: 16,  # Z X C V B N M
    51: 54,  # COMMA
    52: 55,  # DOT
    53: 56,  # SLASH
    54: 229,  # RIGHTSHIFT
    55: 85,  # KPASTERISK
    56: 226,  # LEFTALT
    57: 44,  # SPACE
    58: 57,  # CAPSLOCK
    **{code: 58 + code - 59 for code in range(59, 69)},  # F1..F10
    69: 83,  # NUMLOCK
    70: 71,  # SCROLLLOCK
    71: 95, 72: 96, 73: 97,  # KP7 KP8 KP9
    74: 86,  # KPMINUS
    75: 92, 76: 93, 77: 94,  # KP4 KP5 KP6
    78: 87,  # KPPLUS
    79: 89, 80: 90, 81: 91,  # KP1 KP2 KP3
    82: 98,  # KP0
    83: 99,  # KPDOT
    85: 148,  # ZENKAKUHANKAKU -> LANG5
    86: 100,  # 102ND -> NONUSBACKSLASH
    87: 68,  # F11
    88: 69,  # F12
    89: 135,  # RO -> INTERNATIONAL1
    90: 146,  # KATAKANA -> LANG3
    91: 147,  # HIRAGANA -> LANG4
    92: 138,  # HENKAN -> INTERNATIONAL4
    93: 136,  # KATAKANAHIRAGANA -> INTERNATIONAL2
    94: 139,  # MUHENKAN -> INTERNATIONAL5
    95: 140,  # KPJPCOMMA -> INTERNATIONAL6
    96: 88,  # KPENTER
    97: 228,  # RIGHTCTRL
    98: 84,  # KPSLASH
    99: 70,  # SYSRQ -> PRINTSCREEN
    100: 230,  # RIGHTALT
    102: 74,  # HOME
    103: 82,  # UP
    104: 75,  # PAGEUP
    105: 80,  # LEFT
    106: 79,  # RIGHT
    107: 77,  # END
    108: 81,  # DOWN
    109: 78,  # PAGEDOWN
    110: 73,  # INSERT
    111: 76,  # DELETE
    113: 127,  # MUTE
    114: 129,  # VOLUMEDOWN
    115: 128,  # VOLUMEUP
    116: 102,  # POWER
    117: 103,  # KPEQUAL
    119: 72,  # PAUSE
    121: 133,  # KPCOMMA
    122: 144,  # HANGEUL -> LANG1
    123: 145,  # HANJA -> LANG2
    124: 137,  # YEN -> INTERNATIONAL3
    125: 227,  # LEFTMETA -> LGUI
    126: 231,  # RIGHTMETA -> RGUI
    127: 101,  # COMPOSE -> APPLICATION
    **{code: 104 + code - 183 for code in range(183, 195)},  # F13..F24
}  # fmt: skip

# X11 keycodes are evdev codes shifted by 8 (xkb's evdev keycodes, what Xorg and Xvfb use).
X11_KEYCODE_OFFSET = 8


def x11_keycode_to_sdl(keycode: int) -> int | None:
    """X11 hardware keycode -> SDL scancode, or None for a key SDL has no scancode for."""
    return EVDEV_TO_SDL.get(keycode - X11_KEYCODE_OFFSET)


# Key names (pynput's `Key` members) -> SDL scancode, for backends that report keys by name.
KEY_NAME_TO_SDL: dict[str, int] = {
    "enter": 40, "esc": 41, "backspace": 42, "tab": 43, "space": 44, "caps_lock": 57,
    **{f"f{n}": 57 + n for n in range(1, 13)},
    **{f"f{n}": 91 + n for n in range(13, 25)},
    "print_screen": 70, "scroll_lock": 71, "pause": 72, "insert": 73, "home": 74, "page_up": 75,
    "delete": 76, "end": 77, "page_down": 78, "right": 79, "left": 80, "down": 81, "up": 82,
    "num_lock": 83, "menu": 101,
    "ctrl": 224, "ctrl_l": 224, "shift": 225, "shift_l": 225, "alt": 226, "alt_l": 226,
    "cmd": 227, "cmd_l": 227, "ctrl_r": 228, "shift_r": 229, "alt_r": 230, "alt_gr": 230, "cmd_r": 231,
    "media_volume_mute": 127, "media_volume_up": 128, "media_volume_down": 129,
}  # fmt: skip

# Characters of a US layout -> the key that types them (shifted characters on the same key).
CHAR_TO_SDL: dict[str, int] = {
    **{chr(ord("a") + i): 4 + i for i in range(26)},
    **{chr(ord("A") + i): 4 + i for i in range(26)},
    **{digit: 30 + i for i, digit in enumerate("1234567890")},
    **{symbol: 30 + i for i, symbol in enumerate("!@#$%^&*()")},
    "-": 45, "_": 45, "=": 46, "+": 46, "[": 47, "{": 47, "]": 48, "}": 48, "\\": 49, "|": 49,
    ";": 51, ":": 51, "'": 52, '"': 52, "`": 53, "~": 53, ",": 54, "<": 54, ".": 55, ">": 55,
    "/": 56, "?": 56, " ": 44, "\t": 43, "\n": 40, "\r": 40,
}  # fmt: skip


def key_name_to_sdl(name: str | None, char: str | None) -> int | None:
    """A key reported by name (pynput `Key.x`) or by the character it types -> SDL scancode."""
    if name is not None:
        return KEY_NAME_TO_SDL.get(name)
    if char is not None:
        return CHAR_TO_SDL.get(char)
    return None


# X11 pointer buttons -> SDL_BUTTON_* (1 left, 2 middle, 3 right, 4 X1, 5 X2). X11 buttons 4-7
# are wheel steps, not held buttons, so they are not recorded as pressed.
X11_BUTTON_TO_SDL: dict[int, int] = {1: 1, 2: 2, 3: 3, 8: 4, 9: 5}

# pynput `Button` member names -> SDL_BUTTON_*.
BUTTON_NAME_TO_SDL: dict[str, int] = {"left": 1, "middle": 2, "right": 3, "x1": 4, "x2": 5}

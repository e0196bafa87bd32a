"""Stable names for game controller controls and their SDL ids.

The names are the ones SDL's GameController API uses in mapping strings (`a`, `leftshoulder`,
`dpup`, `leftx`, ...), except the triggers, which use the enum spelling (`triggerleft`,
`triggerright`) like SDL_CONTROLLER_AXIS_TRIGGERLEFT. The ids are SDL_GameControllerButton /
SDL_GameControllerAxis numbers: what actions.bin stores (axes by slot, pressed_buttons by id).
Pure: no SDL import, so profiles validate where SDL is missing.
"""

from __future__ import annotations

# SDL_GameControllerButton, SDL 2.0.14+ order (SDL_CONTROLLER_BUTTON_MAX = 21).
BUTTONS: dict[str, int] = {
    "a": 0,
    "b": 1,
    "x": 2,
    "y": 3,
    "back": 4,
    "guide": 5,
    "start": 6,
    "leftstick": 7,
    "rightstick": 8,
    "leftshoulder": 9,
    "rightshoulder": 10,
    "dpup": 11,
    "dpdown": 12,
    "dpleft": 13,
    "dpright": 14,
    "misc1": 15,
    "paddle1": 16,
    "paddle2": 17,
    "paddle3": 18,
    "paddle4": 19,
    "touchpad": 20,
}
BUTTON_COUNT = 21

# SDL_GameControllerAxis (SDL_CONTROLLER_AXIS_MAX = 6).
AXES: dict[str, int] = {
    "leftx": 0,
    "lefty": 1,
    "rightx": 2,
    "righty": 3,
    "triggerleft": 4,
    "triggerright": 5,
}
AXIS_COUNT = 6
TRIGGERS: tuple[str, ...] = ("triggerleft", "triggerright")
# SDL's mapping strings (and grimjobs.input) spell the triggers this way; both are accepted.
AXIS_ALIASES: dict[str, str] = {"lefttrigger": "triggerleft", "righttrigger": "triggerright"}

# A vector2 binding names a whole stick: (x axis, y axis). SDL's y axes grow downwards.
STICKS: dict[str, tuple[str, str]] = {"left": ("leftx", "lefty"), "right": ("rightx", "righty")}

# SDL_NUM_SCANCODES: keyboard state is exported as this many slots (pressed_keys are scancodes).
KEY_COUNT = 512
# Mouse buttons 1..5 (SDL_BUTTON_LEFT..SDL_BUTTON_X2) are exported in slots 0..4.
MOUSE_BUTTON_COUNT = 5

BUTTON_NAMES: tuple[str, ...] = tuple(sorted(BUTTONS, key=BUTTONS.__getitem__))
AXIS_NAMES: tuple[str, ...] = tuple(sorted(AXES, key=AXES.__getitem__))

# How a stored axis value is scaled: sticks in [-1, 1] (SDL int16 / 32767, clamped), triggers in
# [0, 1]. Every reader and writer of actions.bin agrees on this.
AXIS_FULL_SCALE = 32767.0


def normalize_axis(raw: int) -> float:
    """SDL int16 axis value -> the float stored in actions.bin."""
    return max(-1.0, min(1.0, raw / AXIS_FULL_SCALE))


def canonical_axis(name: str) -> str:
    return AXIS_ALIASES.get(name, name)


def axis_member(name: str) -> tuple[str, int]:
    """Parse a combo member that uses an axis as a button: `leftx+`, `lefty-` or a trigger name.

    Returns (axis name, direction): +1 / -1 for stick directions, +1 for triggers.
    Raises ValueError with the allowed forms.
    """
    if canonical_axis(name) in TRIGGERS:
        return canonical_axis(name), 1
    if name[-1:] in ("+", "-") and name[:-1] in AXES and name[:-1] not in TRIGGERS:
        return name[:-1], 1 if name[-1] == "+" else -1
    raise ValueError(
        f"{name!r} is neither a button nor an axis direction; use a button ({', '.join(BUTTON_NAMES)}), "
        "a stick direction (leftx+, leftx-, lefty+, lefty-, rightx+, ...) or triggerleft/triggerright"
    )


def is_button(name: str) -> bool:
    return name in BUTTONS

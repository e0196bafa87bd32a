"""Stable names for game controller controls and their SDL ids.

The names are the ones SDL's GameController API uses in mapping strings (`a`, `leftshoulder`,
`dpup`, `leftx`, ...), except the triggers, which use the enum spelling (`triggerleft`,
`triggerright`) like SDL_CONTROLLER_AXIS_TRIGGERLEFT. The ids are SDL_GameControllerButton /
SDL_GameControllerAxis numbers: what actions.bin stores (axes by slot, pressed_buttons by id).
Pure: no SDL import, so profiles validate where SDL is missing. The ids come from
`grimjobs.input.controls` (one table for recording and export).
"""

from __future__ import annotations

from grimjobs.input import controls as sdl

# SDL_GameControllerButton ids, the table grimjobs.input records with.
BUTTONS: dict[str, int] = dict(sdl.BUTTON_IDS)
BUTTON_NAMES: tuple[str, ...] = sdl.BUTTON_NAMES
BUTTON_COUNT = sdl.BUTTON_COUNT

# SDL's mapping strings (and grimjobs.input) spell the triggers this way; both are accepted.
AXIS_ALIASES: dict[str, str] = {"lefttrigger": "triggerleft", "righttrigger": "triggerright"}
# SDL_GameControllerAxis slots, triggers in the enum spelling.
AXES: dict[str, int] = {AXIS_ALIASES.get(name, name): slot for name, slot in sdl.AXIS_IDS.items()}
AXIS_NAMES: tuple[str, ...] = tuple(AXES)
AXIS_COUNT = sdl.AXIS_COUNT
TRIGGERS: tuple[str, ...] = ("triggerleft", "triggerright")

# A vector2 binding names a whole stick: (x axis, y axis). SDL's y axes grow downwards.
STICKS: dict[str, tuple[str, str]] = {"left": ("leftx", "lefty"), "right": ("rightx", "righty")}

# SDL_NUM_SCANCODES: keyboard state is exported as this many slots (pressed_keys are scancodes).
KEY_COUNT = 512
# Mouse buttons 1..5 (SDL_BUTTON_LEFT..SDL_BUTTON_X2) are exported in slots 0..4.
MOUSE_BUTTON_COUNT = 5


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

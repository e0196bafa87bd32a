"""Game-controller vocabulary and the full input state, independent of any device library.

Ids are SDL2's (and SDL3's, which kept the numbers): `axes[i]` is SDL_GameControllerAxis slot i,
`pressed_buttons` holds SDL_GameControllerButton ids, `pressed_keys` SDL scancodes. Raw SDL axis
values are signed 16-bit; snapshots store sticks in [-1, 1] and triggers in [0, 1].
"""

from __future__ import annotations

from collections.abc import Iterable

from grimjobs.session.actions import InputSnapshot

AXIS_NAMES: tuple[str, ...] = ("leftx", "lefty", "rightx", "righty", "lefttrigger", "righttrigger")
AXIS_IDS: dict[str, int] = {name: slot for slot, name in enumerate(AXIS_NAMES)}
AXIS_COUNT = len(AXIS_NAMES)
TRIGGER_LEFT = AXIS_IDS["lefttrigger"]
TRIGGER_RIGHT = AXIS_IDS["righttrigger"]

# SDL_GameControllerButton order; names as in SDL's mapping strings (SDL_GameControllerGetStringForButton).
BUTTON_NAMES: tuple[str, ...] = (
    "a", "b", "x", "y", "back", "guide", "start", "leftstick", "rightstick", "leftshoulder",
    "rightshoulder", "dpup", "dpdown", "dpleft", "dpright", "misc1", "paddle1", "paddle2", "paddle3",
    "paddle4", "touchpad",
)  # fmt: skip
BUTTON_IDS: dict[str, int] = {name: button for button, name in enumerate(BUTTON_NAMES)}
BUTTON_COUNT = len(BUTTON_NAMES)

AXIS_MAX = 32767
AXIS_MIN = -32768

NEUTRAL_AXES: tuple[float, ...] = (0.0,) * AXIS_COUNT


def is_trigger(slot: int) -> bool:
    return slot in (TRIGGER_LEFT, TRIGGER_RIGHT)


def normalize_axis(slot: int, raw: int) -> float:
    """SDL game-controller axis value -> stored value: sticks [-1, 1], triggers [0, 1].

    SDL reports sticks in [-32768, 32767] and triggers in [0, 32767]; dividing by 32767 makes full
    deflection exactly 1.0 both ways (-32768 is clamped to -1.0).
    """
    value = raw / AXIS_MAX
    if is_trigger(slot):
        return min(1.0, max(0.0, value))
    return min(1.0, max(-1.0, value))


def virtual_axis_value(slot: int, value: float) -> int:
    """Stored value -> the raw value to give SDL_JoystickSetVirtualAxis so that the game-controller
    API reports `value` back. A virtual controller's trigger axis spans the whole joystick range
    (-32768 is released, 32767 fully pressed), a stick maps value * 32767."""
    if is_trigger(slot):
        clamped = min(1.0, max(0.0, value))
        return round(AXIS_MIN + clamped * (AXIS_MAX - AXIS_MIN))
    clamped = min(1.0, max(-1.0, value))
    return round(clamped * AXIS_MAX)


def axis_id(name_or_id: str | int) -> int:
    """An axis by SDL name ('leftx', ...) or slot number; ValueError naming the choices."""
    if isinstance(name_or_id, int) and not isinstance(name_or_id, bool):
        if 0 <= name_or_id < AXIS_COUNT:
            return name_or_id
    elif isinstance(name_or_id, str) and name_or_id.lower() in AXIS_IDS:
        return AXIS_IDS[name_or_id.lower()]
    raise ValueError(f"unknown axis {name_or_id!r}; use one of {', '.join(AXIS_NAMES)} or 0-{AXIS_COUNT - 1}")


def button_id(name_or_id: str | int) -> int:
    """A button by SDL name ('a', 'dpup', ...) or id; ValueError naming the choices."""
    if isinstance(name_or_id, int) and not isinstance(name_or_id, bool):
        if 0 <= name_or_id < BUTTON_COUNT:
            return name_or_id
    elif isinstance(name_or_id, str) and name_or_id.lower() in BUTTON_IDS:
        return BUTTON_IDS[name_or_id.lower()]
    raise ValueError(
        f"unknown button {name_or_id!r}; use one of {', '.join(BUTTON_NAMES)} or 0-{BUTTON_COUNT - 1}"
    )


class InputState:
    """The recorder's view of everything held right now: one pad, keyboard keys, mouse.

    Setters return whether anything changed, so callers write a snapshot only for real changes.
    """

    __slots__ = ("axes", "buttons", "keys", "mouse", "mouse_buttons")

    def __init__(self) -> None:
        self.axes: list[float] = list(NEUTRAL_AXES)
        self.buttons: set[int] = set()
        self.keys: set[int] = set()
        self.mouse_buttons: set[int] = set()
        self.mouse: tuple[int, int] | None = None

    def set_axis(self, slot: int, value: float) -> bool:
        if not 0 <= slot < AXIS_COUNT or self.axes[slot] == value:
            return False
        self.axes[slot] = value
        return True

    def set_button(self, button: int, down: bool) -> bool:
        return _toggle(self.buttons, button, down)

    def set_key(self, scancode: int, down: bool) -> bool:
        return _toggle(self.keys, scancode, down)

    def set_mouse_button(self, button: int, down: bool) -> bool:
        return _toggle(self.mouse_buttons, button, down)

    def set_mouse(self, x: int, y: int) -> bool:
        if self.mouse == (x, y):
            return False
        self.mouse = (x, y)
        return True

    def set_pad(self, axes: Iterable[float], buttons: Iterable[int]) -> None:
        self.axes[:] = axes
        self.buttons = set(buttons)

    def neutral_pad(self) -> None:
        """Sticks centered, triggers released, no button held (a disconnected pad)."""
        self.axes[:] = NEUTRAL_AXES
        self.buttons.clear()

    def pad_is_neutral(self) -> bool:
        return not self.buttons and all(value == 0.0 for value in self.axes)

    def snapshot(self, monotonic_ns: int, reason: int) -> InputSnapshot:
        return InputSnapshot(
            monotonic_ns=monotonic_ns,
            axes=tuple(self.axes),
            pressed_buttons=tuple(sorted(self.buttons)),
            pressed_keys=tuple(sorted(self.keys)),
            pressed_mouse_buttons=tuple(sorted(self.mouse_buttons)),
            mouse=self.mouse,
            reason=reason,
        )


def _toggle(held: set[int], code: int, down: bool) -> bool:
    if down == (code in held):
        return False
    if down:
        held.add(code)
    else:
        held.discard(code)
    return True

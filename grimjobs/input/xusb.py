"""Pure translation of the recorded SDL pad state into an Xbox 360 (XUSB / XInput) report.

The report is what ViGEmBus (Windows) and vgamepad's uinput device (Linux) take: a button bit
mask, two 8-bit triggers and four signed 16-bit stick axes with Y pointing UP (SDL's Y points
down, so Y is negated). SDL buttons an Xbox 360 pad does not have (misc1, paddles, touchpad) are
dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple

from grimjobs.input.controls import AXIS_IDS, BUTTON_IDS

# XUSB_GAMEPAD_* bits (XInput's XINPUT_GAMEPAD_* values).
XUSB_DPAD_UP = 0x0001
XUSB_DPAD_DOWN = 0x0002
XUSB_DPAD_LEFT = 0x0004
XUSB_DPAD_RIGHT = 0x0008
XUSB_START = 0x0010
XUSB_BACK = 0x0020
XUSB_LEFT_THUMB = 0x0040
XUSB_RIGHT_THUMB = 0x0080
XUSB_LEFT_SHOULDER = 0x0100
XUSB_RIGHT_SHOULDER = 0x0200
XUSB_GUIDE = 0x0400
XUSB_A = 0x1000
XUSB_B = 0x2000
XUSB_X = 0x4000
XUSB_Y = 0x8000

SDL_BUTTON_TO_XUSB: dict[int, int] = {
    BUTTON_IDS["a"]: XUSB_A,
    BUTTON_IDS["b"]: XUSB_B,
    BUTTON_IDS["x"]: XUSB_X,
    BUTTON_IDS["y"]: XUSB_Y,
    BUTTON_IDS["back"]: XUSB_BACK,
    BUTTON_IDS["guide"]: XUSB_GUIDE,
    BUTTON_IDS["start"]: XUSB_START,
    BUTTON_IDS["leftstick"]: XUSB_LEFT_THUMB,
    BUTTON_IDS["rightstick"]: XUSB_RIGHT_THUMB,
    BUTTON_IDS["leftshoulder"]: XUSB_LEFT_SHOULDER,
    BUTTON_IDS["rightshoulder"]: XUSB_RIGHT_SHOULDER,
    BUTTON_IDS["dpup"]: XUSB_DPAD_UP,
    BUTTON_IDS["dpdown"]: XUSB_DPAD_DOWN,
    BUTTON_IDS["dpleft"]: XUSB_DPAD_LEFT,
    BUTTON_IDS["dpright"]: XUSB_DPAD_RIGHT,
}

_LX, _LY, _RX, _RY = AXIS_IDS["leftx"], AXIS_IDS["lefty"], AXIS_IDS["rightx"], AXIS_IDS["righty"]
_LT, _RT = AXIS_IDS["lefttrigger"], AXIS_IDS["righttrigger"]


class XusbReport(NamedTuple):
    """XUSB_REPORT fields, in the struct's order."""

    buttons: int = 0
    left_trigger: int = 0
    right_trigger: int = 0
    thumb_lx: int = 0
    thumb_ly: int = 0
    thumb_rx: int = 0
    thumb_ry: int = 0


def stick(value: float) -> int:
    """[-1, 1] -> [-32767, 32767] (symmetric, so center stays 0 and full deflection is exact)."""
    return round(min(1.0, max(-1.0, value)) * 32767)


def trigger(value: float) -> int:
    """[0, 1] -> [0, 255]."""
    return round(min(1.0, max(0.0, value)) * 255)


def xusb_report(axes: Sequence[float], buttons: Collection[int]) -> XusbReport:
    """The XUSB report for a recorded pad state (axes by SDL slot, SDL button ids)."""
    mask = 0
    for button in buttons:
        mask |= SDL_BUTTON_TO_XUSB.get(button, 0)

    def axis(slot: int) -> float:
        return axes[slot] if slot < len(axes) else 0.0

    return XusbReport(
        buttons=mask,
        left_trigger=trigger(axis(_LT)),
        right_trigger=trigger(axis(_RT)),
        thumb_lx=stick(axis(_LX)),
        thumb_ly=-stick(axis(_LY)),  # SDL: down is +; XInput: up is +
        thumb_rx=stick(axis(_RX)),
        thumb_ry=-stick(axis(_RY)),
    )

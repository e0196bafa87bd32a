"""Forwarding the recorded pad into a virtual Xbox 360 controller (`input.forward=vgamepad`).

The game binds to the virtual pad while actions.bin keeps logging the physical one (the C++
recorder's ViGEm proxy design). vgamepad drives ViGEmBus on Windows and a uinput device through
libevdev on Linux. Every way the backend can be missing becomes one `UserError` line naming the
fix, raised from `open()`, i.e. before the recorder creates any file.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Collection, Sequence
from typing import Any

from grimjobs.errors import UserError
from grimjobs.input.xusb import XusbReport, xusb_report


def backend_error(exc: BaseException, platform: str = sys.platform) -> str:
    """One line naming the fix for a vgamepad backend failure (pure: tested per case)."""
    text = str(exc)
    prefix = "input.forward=vgamepad: "
    if isinstance(exc, ModuleNotFoundError) and exc.name in ("vgamepad", "libevdev"):
        return prefix + f"the {exc.name} package is not installed; pip install vgamepad"
    if platform.startswith("win"):
        return prefix + (
            f"the ViGEmBus driver is not available ({text}); install ViGEmBus "
            "(ViGEmBus_Setup from the nefarius/ViGEmBus releases) and reboot"
        )
    if isinstance(exc, FileNotFoundError) and "uinput" in text:
        return prefix + "/dev/uinput does not exist; load the kernel module: sudo modprobe uinput"
    if isinstance(exc, PermissionError) and "uinput" in text:
        return prefix + (
            "no permission to write /dev/uinput; add a udev rule "
            '(KERNEL=="uinput", MODE="0660", GROUP="input") and join the input group, or run as root'
        )
    if isinstance(exc, OSError | ImportError) and "evdev" in text.lower():
        return prefix + f"libevdev cannot be loaded ({text}); install it: sudo apt-get install libevdev2"
    return prefix + f"cannot create the virtual controller ({type(exc).__name__}: {text})"


class Forwarder:
    """Receives the pad state after each pad change; `open` fails early with a UserError."""

    def open(self) -> None:
        raise NotImplementedError

    def send(self, axes: Sequence[float], buttons: Collection[int]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def stats(self) -> dict[str, int | float | str]:
        return {}


class VgamepadForwarder(Forwarder):
    """A vgamepad VX360Gamepad fed with `xusb_report` of each new state (unchanged reports skipped)."""

    def __init__(self) -> None:
        self.gamepad: Any = None
        self.sent = 0
        self.max_update_us = 0.0
        self._last: XusbReport | None = None

    def open(self) -> None:
        try:
            import vgamepad

            self.gamepad = vgamepad.VX360Gamepad()
        except Exception as exc:  # ImportError, OSError, FileNotFoundError, PermissionError, ViGEm errors
            raise UserError(backend_error(exc)) from None
        self._last = None
        self.send((), ())  # start neutral

    def send(self, axes: Sequence[float], buttons: Collection[int]) -> None:
        if self.gamepad is None:
            return
        report = xusb_report(axes, buttons)
        if report == self._last:
            return
        target = self.gamepad.report
        (
            target.wButtons,
            target.bLeftTrigger,
            target.bRightTrigger,
            target.sThumbLX,
            target.sThumbLY,
            target.sThumbRX,
            target.sThumbRY,
        ) = report
        started = time.perf_counter()
        self.gamepad.update()
        self.max_update_us = max(self.max_update_us, (time.perf_counter() - started) * 1e6)
        self._last = report
        self.sent += 1

    def close(self) -> None:
        if self.gamepad is not None:
            self.send((), ())  # leave the game a released pad
            self.gamepad = None  # vgamepad releases the device when the object goes

    def stats(self) -> dict[str, int | float | str]:
        return {"forwarded_reports": self.sent, "forward_update_us_max": round(self.max_update_us, 1)}


def make_forwarder(kind: str) -> Forwarder:
    if kind == "vgamepad":
        return VgamepadForwarder()
    raise UserError(f"input.forward={kind!r} is not allowed: use none or vgamepad")

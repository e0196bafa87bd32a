"""A monitor (or a region of it) through python-mss: X11 (XShmGetImage) and Windows (GDI BitBlt).

mss hands back a bytearray of BGRA pixels; we view it as an image without copying and fit it into
the pooled output buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from grimjobs.capture.screen import Region, ScreenSettings, ScreenSource
from grimjobs.clock import now_ns
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat


def open_mss(display: str | None = None, with_cursor: bool = False) -> Any:
    """An mss instance, or a UserError naming what is missing."""
    import sys

    import mss
    from mss.exception import ScreenShotError

    kwargs: dict[str, Any] = {}
    if sys.platform.startswith("linux"):
        kwargs["with_cursor"] = with_cursor
        if display:
            kwargs["display"] = display
    try:
        return mss.MSS(**kwargs)
    except ScreenShotError as exc:
        raise UserError(f"cannot capture the screen: {exc} (on X11: is DISPLAY set?)") from None


def screen_view(shot: Any) -> np.ndarray:
    """A (height, width, 4) BGRA view of an mss screenshot's own buffer."""
    width, height = shot.size
    return np.frombuffer(shot.raw, dtype=np.uint8).reshape(height, width, 4)


class MonitorSettings(ScreenSettings):
    monitor: int = Field(1, ge=0, description="mss monitor index: 1 = primary, 2.. others, 0 = all together")
    region: Region | None = Field(None, description="part of the monitor to record (null: all of it)")
    with_cursor: bool = Field(False, description="draw the mouse pointer (X11 only)")
    display: str | None = Field(None, description="X display (null: $DISPLAY); ignored on Windows")


class MonitorSource(ScreenSource):
    Settings = MonitorSettings
    settings: MonitorSettings

    def _open(self) -> FrameFormat:
        s = self.settings
        self._sct = open_mss(s.display, s.with_cursor)
        monitors = self._sct.monitors
        if s.monitor >= len(monitors):
            self._sct.close()
            raise UserError(
                f"capture.monitor={s.monitor}: this system has monitors 1..{len(monitors) - 1} "
                "(0 = all together); see `python -m grimjobs list`"
            )
        mon = monitors[s.monitor]
        rect = {"left": mon["left"], "top": mon["top"], "width": mon["width"], "height": mon["height"]}
        if s.region is not None:
            r = s.region
            if r.left + r.width > mon["width"] or r.top + r.height > mon["height"]:
                self._sct.close()
                raise UserError(
                    f"capture.region={r.left},{r.top} {r.width}x{r.height} reaches outside monitor "
                    f"{s.monitor} ({mon['width']}x{mon['height']})"
                )
            rect = {
                "left": mon["left"] + r.left,
                "top": mon["top"] + r.top,
                "width": r.width,
                "height": r.height,
            }
        self.rect = rect
        return self._output_format()

    def _grab(self, out: np.ndarray, slot: int) -> int:
        shot = self._sct.grab(self.rect)
        # Stamped right after the read returns: the picture was on screen by then (never a frame
        # showing something painted after its stamp); late by at most the read itself.
        t_ns = now_ns()
        self._deliver(screen_view(shot), out)
        return t_ns

    def _close(self) -> None:
        self._sct.close()

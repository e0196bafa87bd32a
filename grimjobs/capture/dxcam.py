"""Windows Desktop Duplication (DXGI) through the `dxcam` package: the fastest way to read a
Windows monitor, and the one that sees full-screen Direct3D games. Windows only.

dxcam's `grab()` returns None when the desktop has not changed since the previous grab; we then
repeat the previous picture and count it as a duplicate (the game showed nothing new).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from pydantic import Field

from grimjobs.capture.base import SourceGap
from grimjobs.capture.screen import Region, ScreenSettings, ScreenSource
from grimjobs.clock import now_ns
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat


def create_camera(device: int, output: int) -> Any:
    """A dxcam camera on one GPU output, in BGRA, or a one-line UserError."""
    if sys.platform != "win32":
        raise UserError(
            "capture=dxcam uses Windows Desktop Duplication and is Windows-only; "
            "on this system use capture=monitor, capture=window or capture=x11grab"
        )
    try:
        import dxcam
    except ImportError:
        raise UserError("capture=dxcam needs the dxcam package: pip install dxcam") from None
    camera = dxcam.create(device_idx=device, output_idx=output, output_color="BGRA")
    if camera is None:
        raise UserError(f"capture.device={device} capture.monitor={output + 1}: dxcam found no such output")
    return camera


class DxcamSettings(ScreenSettings):
    monitor: int = Field(1, ge=1, description="output of the GPU, 1 = first (as in `grimjobs list`)")
    device: int = Field(0, ge=0, description="GPU index")
    region: Region | None = Field(None, description="part of the monitor to record (null: all of it)")


class DxcamSource(ScreenSource):
    Settings = DxcamSettings
    settings: DxcamSettings

    def _open(self) -> FrameFormat:
        s = self.settings
        self.camera = create_camera(s.device, s.monitor - 1)
        width, height = int(self.camera.width), int(self.camera.height)
        if s.region is None:
            self.region = (0, 0, width, height)
        else:
            r = s.region
            if r.left + r.width > width or r.top + r.height > height:
                self._close()
                raise UserError(
                    f"capture.region={r.left},{r.top} {r.width}x{r.height} reaches outside "
                    f"monitor {s.monitor} ({width}x{height})"
                )
            self.region = (r.left, r.top, r.left + r.width, r.top + r.height)
        self._last: np.ndarray | None = None
        return self._output_format()

    def _grab(self, out: np.ndarray, slot: int) -> int:
        t_ns = now_ns()
        frame = self.camera.grab(region=self.region)
        if frame is None:  # nothing new on the desktop: the previous picture is still current
            if self._last is None:
                raise SourceGap
            frame = self._last
        self._last = frame
        self._deliver(frame, out)
        return t_ns

    def _close(self) -> None:
        release = getattr(self.camera, "release", None)
        if release is not None:
            release()

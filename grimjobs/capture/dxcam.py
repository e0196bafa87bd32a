"""Windows Desktop Duplication (DXGI) through the `dxcam` package: the fastest way to read a
Windows monitor, and the one that sees full-screen Direct3D games. Windows only.

DXGI duplicates one *output* (monitor) at a time, in that output's own pixel coordinates, and
dxcam's `grab(region)` raises ValueError ("Invalid Region") for a region outside that output. So a
window is recorded from the output that holds it (MonitorFromWindow's monitor, matched to the DXGI
output by device name, `\\\\.\\DISPLAYn`), with the output's desktop origin subtracted and the
region clipped to it; the output is picked again when the window moves. DXGI output 0 need not be
the primary monitor nor sit at (0, 0), and outputs left of or above the primary have negative
origins. A grab that dxcam cannot do is never a traceback: a mode change re-reads the outputs,
anything else falls back to GDI (mss) or records a gap.

dxcam's `grab()` returns None when the desktop has not changed since the previous grab; we then
repeat the previous picture and count it as a duplicate (the game showed nothing new).

dxcam >= 0.3 rotates portrait monitors with OpenCV (`cv2`), which it does not install: a rotated
output without cv2 is refused in one line (capture=dxcam) or read through GDI (window capture).
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from pydantic import Field

from grimjobs.capture.base import SourceError, SourceGap
from grimjobs.capture.screen import Region, ScreenSettings, ScreenSource
from grimjobs.capture.x11 import Geometry
from grimjobs.clock import now_ns
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DxgiOutput:
    """One DXGI output as dxcam numbers it (device = GPU index, output = index on that GPU)."""

    device: int
    output: int
    name: str  # \\.\DISPLAYn: the same name GetMonitorInfoW gives the monitor
    left: int  # desktop coordinates (DXGI_OUTPUT_DESC.DesktopCoordinates)
    top: int
    width: int
    height: int
    rotation: int = 0  # degrees; 90/270 need OpenCV in dxcam >= 0.3
    primary: bool = False

    @property
    def label(self) -> str:
        primary = " primary" if self.primary else ""
        rotated = f" rotated {self.rotation}" if self.rotation else ""
        return (
            f"device {self.device} output {self.output + 1} {self.name} "
            f"{self.width}x{self.height}+{self.left}+{self.top}{primary}{rotated}"
        )


def import_dxcam() -> Any:
    if sys.platform != "win32":
        raise UserError(
            "capture=dxcam uses Windows Desktop Duplication and is Windows-only; "
            "on this system use capture=monitor, capture=window or capture=x11grab"
        )
    try:
        import dxcam
    except ImportError:
        raise UserError("capture=dxcam needs the dxcam package: pip install 'grimjobs[windows]'") from None
    return dxcam


def dxgi_outputs(dxcam: Any) -> list[DxgiOutput]:
    """Every output in dxcam's order (the order `create(device_idx, output_idx)` takes). dxcam
    (0.0.5 to 0.3) keeps them in its module factory: `outputs[device][output]` with `devicename`,
    `desc.DesktopCoordinates`, `rotation_angle`, `update_desc()`; `output_metadata[name][1]` is
    "primary"."""
    factory = getattr(dxcam, "__factory", None)
    if factory is None:
        return []
    metadata = getattr(factory, "output_metadata", {}) or {}
    found = []
    for device, outputs in enumerate(factory.outputs):
        for index, output in enumerate(outputs):
            output.update_desc()  # a mode change since dxcam was imported moves and resizes outputs
            rect = output.desc.DesktopCoordinates
            meta = metadata.get(output.devicename)
            found.append(
                DxgiOutput(
                    device,
                    index,
                    str(output.devicename),
                    int(rect.left),
                    int(rect.top),
                    int(rect.right - rect.left),
                    int(rect.bottom - rect.top),
                    int(getattr(output, "rotation_angle", 0) or 0),
                    bool(meta[1]) if meta else False,
                )
            )
    return found


def opencv_available() -> bool:
    return importlib.util.find_spec("cv2") is not None


def create_camera(device: int, output: int, dxcam: Any = None) -> Any:
    """A dxcam camera on one GPU output, in BGRA, or a one-line UserError naming the outputs."""
    dxcam = import_dxcam() if dxcam is None else dxcam
    outputs = dxgi_outputs(dxcam)
    known = [o for o in outputs if o.device == device and o.output == output]
    listed = "; ".join(o.label for o in outputs) or "none found"
    if outputs and not known:
        raise UserError(
            f"capture.device={device} capture.monitor={output + 1}: no such DXGI output "
            f"(outputs: {listed}; `python -m grimjobs list` shows them)"
        )
    if known and known[0].rotation in (90, 270) and not opencv_available():
        raise UserError(
            f"capture.monitor={output + 1} is rotated {known[0].rotation} degrees and dxcam rotates "
            "with OpenCV: pip install opencv-python, or use capture=monitor (GDI)"
        )
    try:
        camera = dxcam.create(device_idx=device, output_idx=output, output_color="BGRA")
    except IndexError:  # dxcam indexes its lists directly
        raise UserError(
            f"capture.device={device} capture.monitor={output + 1}: no such DXGI output (outputs: {listed})"
        ) from None
    if camera is None:
        raise UserError(f"capture.device={device} capture.monitor={output + 1}: dxcam found no such output")
    return camera


class DxcamSettings(ScreenSettings):
    monitor: int = Field(1, ge=1, description="DXGI output, 1 = first (as `grimjobs list` numbers them)")
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
        try:
            frame = self.camera.grab(region=self.region)
        except ValueError as exc:  # the monitor's mode changed under the region: a gap, not a crash
            log.debug("dxcam: %s", exc)
            raise SourceGap from None
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


# --- window capture through DXGI ------------------------------------------------------------


def on_output(rect: Geometry, output: DxgiOutput) -> tuple[int, int, int, int] | None:
    """`rect` (desktop coordinates) clipped to `output`, in the output's own coordinates as
    dxcam's region (left, top, right, bottom), with even size; None when nothing of it is there."""
    x0, y0 = max(rect.x, output.left), max(rect.y, output.top)
    x1 = min(rect.x + rect.width, output.left + output.width)
    y1 = min(rect.y + rect.height, output.top + output.height)
    width, height = (x1 - x0) // 2 * 2, (y1 - y0) // 2 * 2
    if width < 2 or height < 2:
        return None
    left, top = x0 - output.left, y0 - output.top
    return (left, top, left + width, top + height)


def pick_output(rect: Geometry, outputs: list[DxgiOutput], monitor_name: str | None) -> DxgiOutput | None:
    """The output MonitorFromWindow names (it is the one with most of the window), or failing
    that the output with the largest part of `rect`."""
    for output in outputs:
        if output.name == monitor_name and on_output(rect, output) is not None:
            return output

    def area(output: DxgiOutput) -> int:
        region = on_output(rect, output)
        return 0 if region is None else (region[2] - region[0]) * (region[3] - region[1])

    best = max(outputs, key=area, default=None)
    return best if best is not None and area(best) > 0 else None


class Fallback(Protocol):
    def grab(self, window_id: int, geo: Geometry, rect: Geometry) -> np.ndarray: ...
    def close(self) -> None: ...


class DxcamWindowGrabber:
    """Desktop Duplication of the output that holds the window, cropped to the window.

    `monitor_of(window_id)` is MonitorFromWindow's device name (win32.monitor_name); `fallback()`
    makes the GDI grabber used when dxcam cannot read an output (rotated without OpenCV, a DXGI
    error such as access lost on a secure desktop)."""

    def __init__(
        self,
        monitor_of: Callable[[int], str | None],
        fallback: Callable[[], Fallback],
        dxcam: Any = None,
    ) -> None:
        self.dxcam = import_dxcam() if dxcam is None else dxcam
        self.monitor_of = monitor_of
        self.make_fallback = fallback
        self.outputs = dxgi_outputs(self.dxcam)
        if not self.outputs:
            raise UserError("capture.backend=dxcam: dxcam found no DXGI output; use capture.backend=mss")
        self.cameras: dict[tuple[int, int], Any] = {}
        self.gdi: Fallback | None = None
        self.gdi_outputs: set[tuple[int, int]] = set()  # outputs dxcam cannot read: GDI there
        self.current: DxgiOutput | None = None
        self.switches = 0
        self._last: np.ndarray | None = None

    def _camera(self, output: DxgiOutput) -> Any:
        key = (output.device, output.output)
        camera = self.cameras.get(key)
        if camera is None:
            camera = self.dxcam.create(
                device_idx=output.device, output_idx=output.output, output_color="BGRA"
            )
            self.cameras[key] = camera
        return camera

    def _via_gdi(self, window_id: int, geo: Geometry, rect: Geometry) -> np.ndarray:
        if self.gdi is None:
            self.gdi = self.make_fallback()
        return self.gdi.grab(window_id, geo, rect)

    def _use_gdi(self, output: DxgiOutput, why: str) -> None:
        log.warning("dxcam cannot read %s (%s): reading it through GDI (mss) instead", output.label, why)
        self.gdi_outputs.add((output.device, output.output))

    def grab(self, window_id: int, geo: Geometry, rect: Geometry) -> np.ndarray:
        output = pick_output(rect, self.outputs, self.monitor_of(window_id))
        if output is None:  # the outputs changed (mode change, monitor unplugged): read them again
            self.outputs = dxgi_outputs(self.dxcam)
            output = pick_output(rect, self.outputs, self.monitor_of(window_id))
            if output is None:
                raise SourceError(f"window at {rect.width}x{rect.height}+{rect.x}+{rect.y} is on no output")
        if output != self.current:
            if self.current is not None:
                self.switches += 1
                log.info("window moved to %s", output.label)
            self.current = output
            self._last = None
        key = (output.device, output.output)
        if key not in self.gdi_outputs and output.rotation in (90, 270) and not opencv_available():
            self._use_gdi(output, f"rotated {output.rotation} degrees and OpenCV is not installed")
        if key in self.gdi_outputs:
            return self._via_gdi(window_id, geo, rect)
        region = on_output(rect, output)
        assert region is not None  # pick_output chose an output that holds part of rect
        # The part of the window on other outputs is not recorded: a window straddling two
        # monitors records the part on the monitor that holds most of it.
        try:
            frame = self._camera(output).grab(region=region)
        except ValueError as exc:  # "Invalid Region": the output's mode changed since we read it
            log.debug("dxcam: %s; reading the outputs again", exc)
            self.outputs = dxgi_outputs(self.dxcam)
            self._drop_camera(key)
            raise SourceError(f"dxcam: {exc}") from None
        except Exception as exc:  # COM/DXGI errors, cv2 missing for rotation: GDI from now on
            self._drop_camera(key)
            self._use_gdi(output, f"{type(exc).__name__}: {exc}")
            return self._via_gdi(window_id, geo, rect)
        want = (region[3] - region[1], region[2] - region[0])
        if frame is None:
            if self._last is None or self._last.shape[:2] != want:
                raise SourceGap
            return self._last
        self._last = frame
        return frame  # type: ignore[no-any-return]

    def _drop_camera(self, key: tuple[int, int]) -> None:
        camera = self.cameras.pop(key, None)
        release = getattr(camera, "release", None)
        if release is not None:
            try:
                release()
            except Exception as exc:  # releasing a camera whose output vanished may fail too
                log.debug("dxcam release: %s", exc)

    def close(self) -> None:
        for key in list(self.cameras):
            self._drop_camera(key)
        if self.gdi is not None:
            self.gdi.close()

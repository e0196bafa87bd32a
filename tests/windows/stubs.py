"""Stand-ins for what Linux cannot have (user32, dwmapi, DXGI through dxcam, GDI through mss),
each written to the real API's documented contract and the real source it was read from:

- user32: GetClientRect/ClientToScreen fill a RECT/POINT through the pointer; MonitorFromWindow
  returns the monitor with the largest intersection, else (MONITOR_DEFAULTTONEAREST) the nearest;
  GetMonitorInfoW fills MONITORINFOEXW (szDevice "\\\\.\\DISPLAYn", MONITORINFOF_PRIMARY);
  GetSystemMetrics(SM_*VIRTUALSCREEN) gives the bounding box of all monitors (negative origins).
- dwmapi: DwmGetWindowAttribute(DWMWA_CLOAKED) writes a nonzero DWORD for cloaked windows, S_OK.
- dxcam (0.0.5 .. 0.3.0, dxcam/__init__.py and dxcam/dxcam.py): `__factory.outputs[d][o]` with
  `devicename`, `desc.DesktopCoordinates`, `rotation_angle`, `update_desc()`; `output_metadata`
  (name -> (..., is_primary)); `create()` indexes its lists (IndexError for a missing output);
  `grab(region)` runs `_validate_region` (ValueError "Invalid Region" unless
  width >= right > left >= 0 and height >= bottom > top >= 0) and returns None when nothing changed;
  rotated outputs import cv2 on the first grab (ModuleNotFoundError without OpenCV).
- mss: monitors[0] is the virtual screen (left/top negative when a monitor is left of/above the
  primary); grab(box) takes desktop coordinates.

The desktop is one image: pixel (x, y) holds (x mod 251, y mod 241, monitor number, 255) in BGRA,
so a test can tell exactly which desktop pixels a frame shows.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grimjobs.capture.win32 import Libraries


@dataclass
class Monitor:
    name: str
    left: int
    top: int
    width: int
    height: int
    primary: bool = False
    rotation: int = 0


@dataclass
class Window:
    hwnd: int
    title: str
    x: int  # client area origin on the desktop
    y: int
    width: int
    height: int
    visible: bool = True
    minimized: bool = False
    cloaked: bool = False
    alive: bool = True


@dataclass
class Desktop:
    monitors: list[Monitor]
    windows: list[Window] = field(default_factory=list)
    changes: int = 0  # bumped when a picture changes (dxcam returns None otherwise)

    def bounds(self) -> tuple[int, int, int, int]:
        left = min(m.left for m in self.monitors)
        top = min(m.top for m in self.monitors)
        right = max(m.left + m.width for m in self.monitors)
        bottom = max(m.top + m.height for m in self.monitors)
        return left, top, right, bottom

    def pixels(self, left: int, top: int, width: int, height: int) -> np.ndarray:
        """Desktop pixels of a rectangle in desktop coordinates (black off every monitor)."""
        ys, xs = np.mgrid[top : top + height, left : left + width]
        out = np.zeros((height, width, 4), np.uint8)
        out[..., 0] = xs % 251
        out[..., 1] = ys % 241
        out[..., 3] = 255
        for number, m in enumerate(self.monitors, start=1):
            inside = (xs >= m.left) & (xs < m.left + m.width) & (ys >= m.top) & (ys < m.top + m.height)
            out[..., 2][inside] = number
        return out

    def window(self, hwnd: int) -> Window | None:
        return next((w for w in self.windows if w.hwnd == hwnd and w.alive), None)


def _overlap(m: Monitor, w: Window) -> int:
    dx = min(m.left + m.width, w.x + w.width) - max(m.left, w.x)
    dy = min(m.top + m.height, w.y + w.height) - max(m.top, w.y)
    return max(dx, 0) * max(dy, 0)


def _distance(m: Monitor, w: Window) -> int:
    dx = max(m.left - (w.x + w.width), w.x - (m.left + m.width), 0)
    dy = max(m.top - (w.y + w.height), w.y - (m.top + m.height), 0)
    return dx * dx + dy * dy


class StubUser32:
    def __init__(self, desktop: Desktop) -> None:
        self.desktop = desktop
        self.calls: list[str] = []

    def _w(self, hwnd: Any) -> Window | None:
        return self.desktop.window(int(hwnd or 0))

    def IsWindow(self, hwnd: int) -> int:
        self.calls.append("IsWindow")
        return int(self._w(hwnd) is not None)

    def IsWindowVisible(self, hwnd: int) -> int:
        w = self._w(hwnd)
        return int(w is not None and w.visible)

    def IsIconic(self, hwnd: int) -> int:
        w = self._w(hwnd)
        return int(w is not None and w.minimized)

    def GetClientRect(self, hwnd: int, rect: Any) -> int:
        w = self._w(hwnd)
        if w is None:
            return 0
        r = rect._obj
        r.left, r.top, r.right, r.bottom = 0, 0, w.width, w.height
        return 1

    def ClientToScreen(self, hwnd: int, point: Any) -> int:
        w = self._w(hwnd)
        if w is None:
            return 0
        p = point._obj
        p.x, p.y = p.x + w.x, p.y + w.y
        return 1

    def GetWindowTextLengthW(self, hwnd: int) -> int:
        w = self._w(hwnd)
        return 0 if w is None else len(w.title)

    def GetWindowTextW(self, hwnd: int, buffer: Any, size: int) -> int:
        w = self._w(hwnd)
        buffer.value = "" if w is None else w.title[: size - 1]
        return len(buffer.value)

    def GetWindowThreadProcessId(self, hwnd: int, pid: Any) -> int:
        pid._obj.value = 4242
        return 1

    def EnumWindows(self, callback: Any, param: int) -> int:
        for w in list(self.desktop.windows):
            if w.alive and not callback(w.hwnd, param):
                break
        return 1

    def EnumDisplayMonitors(self, hdc: Any, clip: Any, callback: Any, param: int) -> int:
        for number in range(1, len(self.desktop.monitors) + 1):
            if not callback(number, None, None, param):
                break
        return 1

    def MonitorFromWindow(self, hwnd: int, flags: int) -> int:
        w = self._w(hwnd)
        if w is None:
            return 0
        monitors = self.desktop.monitors
        best = max(range(len(monitors)), key=lambda i: _overlap(monitors[i], w))
        if _overlap(monitors[best], w) == 0:  # MONITOR_DEFAULTTONEAREST
            best = min(range(len(monitors)), key=lambda i: _distance(monitors[i], w))
        return best + 1

    def GetMonitorInfoW(self, hmonitor: int, info: Any) -> int:
        if not 1 <= int(hmonitor) <= len(self.desktop.monitors):
            return 0
        m = self.desktop.monitors[int(hmonitor) - 1]
        i = info._obj
        assert i.cbSize == ctypes.sizeof(i)  # the real call fails unless cbSize is set
        i.rcMonitor.left, i.rcMonitor.top = m.left, m.top
        i.rcMonitor.right, i.rcMonitor.bottom = m.left + m.width, m.top + m.height
        i.dwFlags = 1 if m.primary else 0
        i.szDevice = m.name
        return 1

    def GetSystemMetrics(self, index: int) -> int:
        left, top, right, bottom = self.desktop.bounds()
        return {76: left, 77: top, 78: right - left, 79: bottom - top}[index]


class StubDwmapi:
    def __init__(self, desktop: Desktop) -> None:
        self.desktop = desktop

    def DwmGetWindowAttribute(self, hwnd: int, attribute: int, value: Any, size: int) -> int:
        assert attribute == 14 and size == ctypes.sizeof(value._obj)  # a DWORD (4 bytes on Windows)
        w = self.desktop.window(int(hwnd))
        value._obj.value = 1 if (w is not None and w.cloaked) else 0
        return 0


class StubKernel32:
    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int:
        return 0  # access denied: the process name stays unknown, as for elevated games


def libraries(desktop: Desktop) -> Libraries:
    return Libraries(StubUser32(desktop), StubKernel32(), StubDwmapi(desktop))


# --- dxcam ---


class _Rect:
    def __init__(self, m: Monitor) -> None:
        self.left, self.top = m.left, m.top
        self.right, self.bottom = m.left + m.width, m.top + m.height


class StubOutput:
    def __init__(self, desktop: Desktop, index: int) -> None:
        self.desktop = desktop
        self.index = index  # into desktop.monitors
        self.update_desc()

    @property
    def monitor(self) -> Monitor:
        return self.desktop.monitors[self.index]

    def update_desc(self) -> None:
        self.desc = types.SimpleNamespace(DesktopCoordinates=_Rect(self.monitor))

    @property
    def devicename(self) -> str:
        return self.monitor.name

    @property
    def rotation_angle(self) -> int:
        return self.monitor.rotation

    @property
    def resolution(self) -> tuple[int, int]:
        r = self.desc.DesktopCoordinates
        return r.right - r.left, r.bottom - r.top


class StubCamera:
    def __init__(self, output: StubOutput, has_cv2: bool) -> None:
        self._output = output
        self.width, self.height = output.resolution  # read once, as DXCamera.__init__ does
        self.rotation_angle = output.rotation_angle
        self.has_cv2 = has_cv2
        self.seen = -1
        self.released = False
        self.grabs = 0

    def _validate_region(self, region: tuple[int, int, int, int]) -> None:
        left, top, right, bottom = region
        if not (self.width >= right > left >= 0 and self.height >= bottom > top >= 0):
            raise ValueError(f"Invalid Region: Region should be in {self.width}x{self.height}")

    def grab(self, region: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
        assert not self.released
        region = region or (0, 0, self.width, self.height)
        self._validate_region(region)
        if self.rotation_angle and not self.has_cv2:
            raise ModuleNotFoundError("No module named 'cv2'")
        # a mode change: the duplication is lost and the size is read again (dxcam rebuilds)
        if self._output.resolution != (self.width, self.height):
            self.width, self.height = self._output.resolution
            self._validate_region(region)
        self.grabs += 1
        if self.seen == self.desktop.changes:
            return None
        self.seen = self.desktop.changes
        m = self._output.monitor
        left, top, right, bottom = region
        return self.desktop.pixels(m.left + left, m.top + top, right - left, bottom - top)

    @property
    def desktop(self) -> Desktop:
        return self._output.desktop

    def release(self) -> None:
        self.released = True


def stub_dxcam(desktop: Desktop, order: list[int], has_cv2: bool = False) -> Any:
    """A `dxcam` module whose one GPU has the monitors at `order` (indices into desktop.monitors)
    as outputs 0, 1, ...: DXGI's order, not the desktop's."""
    module: Any = types.ModuleType("dxcam")
    module.__spec__ = importlib.machinery.ModuleSpec("dxcam", None)
    outputs = [StubOutput(desktop, i) for i in order]
    metadata = {o.devicename: (o.devicename, o.monitor.primary) for o in outputs}
    factory = types.SimpleNamespace(outputs=[outputs], output_metadata=metadata)
    setattr(module, "__factory", factory)
    module.cameras = []

    def create(
        device_idx: int = 0, output_idx: int | None = None, output_color: str = "RGB", **_: Any
    ) -> Any:
        assert output_color == "BGRA"
        output = factory.outputs[device_idx][output_idx]  # IndexError, as dxcam's own lists
        output.update_desc()
        camera = StubCamera(output, has_cv2)
        module.cameras.append(camera)
        return camera

    module.create = create
    return module


class StubMss:
    """GDI through mss: grab(box) of desktop coordinates."""

    def __init__(self, desktop: Desktop) -> None:
        self.desktop = desktop
        self.grabs = 0
        self.closed = False

    def grab(self, window_id: int, geo: Any, rect: Any) -> np.ndarray:
        self.grabs += 1
        return self.desktop.pixels(rect.x, rect.y, rect.width, rect.height)

    def close(self) -> None:
        self.closed = True

"""Windows (the OS) top-level windows and monitors through user32/dwmapi via ctypes: enumeration
for `list` and the window source, the live client rectangle of one window, the monitor it is on.

Every function is declared (argtypes/restype) before its first call: without that ctypes passes
Python ints as C int, which truncates HWNDs and handles on 64-bit Windows.

Per-monitor DPI awareness (V2) is set before the first user32 call: a DPI-unaware process gets
window rectangles scaled to 96 dpi on a 150 % monitor, and the crop would miss the game. (mss and
dxcam set it as a side effect of being imported, which used to happen after our first call.)
"""

from __future__ import annotations

import ctypes
import logging
import sys
from ctypes import wintypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grimjobs.capture.windows import WindowInfo
from grimjobs.capture.x11 import Geometry, WindowGone

log = logging.getLogger(__name__)

PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
MONITOR_DEFAULTTONEAREST = 2
MONITORINFOF_PRIMARY = 1
DWMWA_CLOAKED = 14
SM_XVIRTUALSCREEN, SM_YVIRTUALSCREEN, SM_CXVIRTUALSCREEN, SM_CYVIRTUALSCREEN = 76, 77, 78, 79
DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2 = -4
PROCESS_PER_MONITOR_DPI_AWARE = 2


class MONITORINFOEXW(ctypes.Structure):
    _fields_ = [
        ("cbSize", wintypes.DWORD),
        ("rcMonitor", wintypes.RECT),
        ("rcWork", wintypes.RECT),
        ("dwFlags", wintypes.DWORD),
        ("szDevice", wintypes.WCHAR * 32),
    ]


PRECT = ctypes.POINTER(wintypes.RECT)
PPOINT = ctypes.POINTER(wintypes.POINT)
PDWORD = ctypes.POINTER(wintypes.DWORD)
FUNCTYPE: Any = getattr(ctypes, "WINFUNCTYPE", ctypes.CFUNCTYPE)  # WINFUNCTYPE exists on Windows only
ENUM_WINDOWS_PROC = FUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)
ENUM_MONITORS_PROC = FUNCTYPE(wintypes.BOOL, wintypes.HMONITOR, wintypes.HDC, PRECT, wintypes.LPARAM)

# name: (restype, argtypes)
USER32: dict[str, tuple[Any, list[Any]]] = {
    "IsWindow": (wintypes.BOOL, [wintypes.HWND]),
    "IsWindowVisible": (wintypes.BOOL, [wintypes.HWND]),
    "IsIconic": (wintypes.BOOL, [wintypes.HWND]),
    "GetClientRect": (wintypes.BOOL, [wintypes.HWND, PRECT]),
    "ClientToScreen": (wintypes.BOOL, [wintypes.HWND, PPOINT]),
    "GetWindowTextLengthW": (ctypes.c_int, [wintypes.HWND]),
    "GetWindowTextW": (ctypes.c_int, [wintypes.HWND, wintypes.LPWSTR, ctypes.c_int]),
    "GetWindowThreadProcessId": (wintypes.DWORD, [wintypes.HWND, PDWORD]),
    "EnumWindows": (wintypes.BOOL, [ENUM_WINDOWS_PROC, wintypes.LPARAM]),
    "EnumDisplayMonitors": (wintypes.BOOL, [wintypes.HDC, PRECT, ENUM_MONITORS_PROC, wintypes.LPARAM]),
    "MonitorFromWindow": (wintypes.HMONITOR, [wintypes.HWND, wintypes.DWORD]),
    "GetMonitorInfoW": (wintypes.BOOL, [wintypes.HMONITOR, ctypes.POINTER(MONITORINFOEXW)]),
    "GetSystemMetrics": (ctypes.c_int, [ctypes.c_int]),
    "SetProcessDpiAwarenessContext": (wintypes.BOOL, [wintypes.HANDLE]),
    "SetProcessDPIAware": (wintypes.BOOL, []),
}
KERNEL32: dict[str, tuple[Any, list[Any]]] = {
    "OpenProcess": (wintypes.HANDLE, [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]),
    "QueryFullProcessImageNameW": (wintypes.BOOL, [wintypes.HANDLE, wintypes.DWORD, wintypes.LPWSTR, PDWORD]),
    "CloseHandle": (wintypes.BOOL, [wintypes.HANDLE]),
}
DWMAPI: dict[str, tuple[Any, list[Any]]] = {
    "DwmGetWindowAttribute": (
        ctypes.c_long,
        [wintypes.HWND, wintypes.DWORD, ctypes.c_void_p, wintypes.DWORD],
    ),
}


def declare(library: Any, functions: dict[str, tuple[Any, list[Any]]]) -> Any:
    """Set restype/argtypes of each function the library has (older Windows lack some)."""
    for name, (restype, argtypes) in functions.items():
        function = getattr(library, name, None)
        if function is None:
            continue
        function.restype = restype
        function.argtypes = argtypes
    return library


@dataclass
class Libraries:
    user32: Any
    kernel32: Any
    dwmapi: Any | None


_LIBS: Libraries | None = None


def set_dpi_awareness(user32: Any, shcore: Any | None) -> str:
    """Per-monitor V2 (Windows 10 1703+), else per-monitor (8.1), else system aware (Vista).
    An error (already set, e.g. by a manifest) leaves whatever the process has."""
    setter = getattr(user32, "SetProcessDpiAwarenessContext", None)
    if setter is not None and setter(wintypes.HANDLE(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2)):
        return "per-monitor v2"
    if shcore is not None and shcore.SetProcessDpiAwareness(PROCESS_PER_MONITOR_DPI_AWARE) == 0:
        return "per-monitor"
    if user32.SetProcessDPIAware():
        return "system"
    return "unchanged"


def libraries() -> Libraries:
    """user32/kernel32/dwmapi, declared, with DPI awareness set before anything else runs."""
    global _LIBS
    if _LIBS is None:
        if sys.platform != "win32":
            raise RuntimeError("grimjobs.capture.win32 is for Windows only")
        user32 = declare(ctypes.WinDLL("user32", use_last_error=True), USER32)
        try:
            shcore = ctypes.WinDLL("shcore")
            shcore.SetProcessDpiAwareness.restype = ctypes.c_long
            shcore.SetProcessDpiAwareness.argtypes = [ctypes.c_int]
        except OSError:
            shcore = None
        log.debug("DPI awareness: %s", set_dpi_awareness(user32, shcore))
        try:
            dwmapi = declare(ctypes.WinDLL("dwmapi"), DWMAPI)
        except OSError:
            dwmapi = None
        _LIBS = Libraries(user32, declare(ctypes.WinDLL("kernel32", use_last_error=True), KERNEL32), dwmapi)
    return _LIBS


def _process_name(kernel32: Any, pid: int) -> str:
    handle = kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return ""
    try:
        size = wintypes.DWORD(32768)
        buffer = ctypes.create_unicode_buffer(size.value)
        if not kernel32.QueryFullProcessImageNameW(handle, 0, buffer, ctypes.byref(size)):
            return ""
        return Path(buffer.value).name
    finally:
        kernel32.CloseHandle(handle)


def is_cloaked(dwmapi: Any | None, hwnd: int) -> bool:
    """DWM-cloaked windows (UWP apps suspended in the background, windows on another virtual
    desktop) are "visible" to user32 but not on screen."""
    if dwmapi is None:
        return False
    cloaked = wintypes.DWORD(0)
    result = dwmapi.DwmGetWindowAttribute(hwnd, DWMWA_CLOAKED, ctypes.byref(cloaked), ctypes.sizeof(cloaked))
    return result == 0 and cloaked.value != 0


def geometry(window_id: int, libs: Libraries | None = None) -> Geometry:
    """The client area (the game's picture, without title bar and borders) on the desktop."""
    libs = libs or libraries()
    user32 = libs.user32
    if not user32.IsWindow(window_id):
        raise WindowGone(f"window 0x{window_id:x} no longer exists")
    rect = wintypes.RECT()
    origin = wintypes.POINT(0, 0)
    if not user32.GetClientRect(window_id, ctypes.byref(rect)) or not user32.ClientToScreen(
        window_id, ctypes.byref(origin)
    ):
        raise WindowGone(f"window 0x{window_id:x} no longer exists")
    viewable = (
        bool(user32.IsWindowVisible(window_id))
        and not user32.IsIconic(window_id)
        and not is_cloaked(libs.dwmapi, window_id)
    )
    return Geometry(origin.x, origin.y, rect.right - rect.left, rect.bottom - rect.top, viewable)


def list_windows(visible_only: bool = False, libs: Libraries | None = None) -> list[WindowInfo]:
    """Titled, visible, not cloaked top-level windows (the ones a person can see and pick)."""
    libs = libs or libraries()
    user32 = libs.user32
    handles: list[int] = []

    def collect(hwnd: int, _param: int) -> bool:
        if (
            user32.GetWindowTextLengthW(hwnd) > 0
            and user32.IsWindowVisible(hwnd)
            and not is_cloaked(libs.dwmapi, hwnd)
        ):
            handles.append(int(hwnd))
        return True

    user32.EnumWindows(ENUM_WINDOWS_PROC(collect), 0)
    windows = []
    for hwnd in handles:
        length = user32.GetWindowTextLengthW(hwnd)
        title = ctypes.create_unicode_buffer(length + 1)
        user32.GetWindowTextW(hwnd, title, length + 1)
        pid = wintypes.DWORD()
        user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        try:
            geo = geometry(hwnd, libs)
        except WindowGone:
            continue
        if visible_only and not geo.viewable:
            continue
        windows.append(
            WindowInfo(
                hwnd,
                title.value,
                _process_name(libs.kernel32, pid.value),
                pid.value,
                geo.x,
                geo.y,
                geo.width,
                geo.height,
                geo.viewable,
            )
        )
    return windows


@dataclass(frozen=True, slots=True)
class MonitorInfo:
    name: str  # \\.\DISPLAYn, as DXGI names the output
    left: int
    top: int
    width: int
    height: int
    primary: bool


def _monitor_info(user32: Any, hmonitor: Any) -> MonitorInfo | None:
    info = MONITORINFOEXW()
    info.cbSize = ctypes.sizeof(MONITORINFOEXW)
    if not hmonitor or not user32.GetMonitorInfoW(hmonitor, ctypes.byref(info)):
        return None
    r = info.rcMonitor
    primary = bool(info.dwFlags & MONITORINFOF_PRIMARY)
    return MonitorInfo(info.szDevice, r.left, r.top, r.right - r.left, r.bottom - r.top, primary)


def monitors(libs: Libraries | None = None) -> list[MonitorInfo]:
    """Every monitor of the desktop, in EnumDisplayMonitors order (exactly one is primary)."""
    user32 = (libs or libraries()).user32
    handles: list[Any] = []

    def collect(hmonitor: Any, _hdc: Any, _rect: Any, _param: int) -> bool:
        handles.append(hmonitor)
        return True

    user32.EnumDisplayMonitors(None, None, ENUM_MONITORS_PROC(collect), 0)
    return [info for h in handles if (info := _monitor_info(user32, h)) is not None]


def monitor_name(window_id: int, libs: Libraries | None = None) -> str | None:
    """Device name of the monitor that holds most of the window (MonitorFromWindow)."""
    user32 = (libs or libraries()).user32
    info = _monitor_info(user32, user32.MonitorFromWindow(window_id, MONITOR_DEFAULTTONEAREST))
    return None if info is None else info.name


def virtual_screen(libs: Libraries | None = None) -> Geometry:
    """The bounding box of all monitors (its origin is negative with a monitor left of or above
    the primary). Read live: a mode change or a monitor plugged in changes it."""
    metric = (libs or libraries()).user32.GetSystemMetrics
    return Geometry(
        metric(SM_XVIRTUALSCREEN),
        metric(SM_YVIRTUALSCREEN),
        metric(SM_CXVIRTUALSCREEN),
        metric(SM_CYVIRTUALSCREEN),
        True,
    )


class Win32Tracker:
    """Where windows are on Windows (the window source's Tracker)."""

    live_screen = True  # screen() is cheap and changes with display modes: read it every frame

    def __init__(self, libs: Libraries | None = None) -> None:
        self.libs = libs or libraries()

    def list_windows(self) -> list[WindowInfo]:
        return list_windows(libs=self.libs)

    def geometry(self, window_id: int) -> Geometry:
        return geometry(window_id, self.libs)

    def screen(self) -> Geometry:
        return virtual_screen(self.libs)

    def monitor_name(self, window_id: int) -> str | None:
        return monitor_name(window_id, self.libs)

    def close(self) -> None:
        pass

"""Windows (the OS) top-level windows through user32/dwmapi via ctypes: enumeration for `list`
and the window source, and the live client rectangle of one window. Imported only on Windows."""

from __future__ import annotations

import ctypes
import sys
from ctypes import wintypes
from pathlib import Path
from typing import Any

from grimjobs.capture.windows import WindowInfo
from grimjobs.capture.x11 import Geometry, WindowGone

PROCESS_QUERY_LIMITED_INFORMATION = 0x1000


def _libs() -> tuple[Any, Any]:
    if sys.platform != "win32":
        raise RuntimeError("grimjobs.capture.win32 is for Windows only")
    return ctypes.WinDLL("user32", use_last_error=True), ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]


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


def geometry(window_id: int) -> Geometry:
    """The client area (the game's picture, without title bar and borders) on the desktop."""
    user32, _ = _libs()
    hwnd = wintypes.HWND(window_id)
    if not user32.IsWindow(hwnd):
        raise WindowGone(f"window 0x{window_id:x} no longer exists")
    rect = wintypes.RECT()
    origin = wintypes.POINT(0, 0)
    if not user32.GetClientRect(hwnd, ctypes.byref(rect)) or not user32.ClientToScreen(
        hwnd, ctypes.byref(origin)
    ):
        raise WindowGone(f"window 0x{window_id:x} no longer exists")
    viewable = bool(user32.IsWindowVisible(hwnd)) and not user32.IsIconic(hwnd)
    return Geometry(origin.x, origin.y, rect.right - rect.left, rect.bottom - rect.top, viewable)


def list_windows(visible_only: bool = False) -> list[WindowInfo]:
    user32, kernel32 = _libs()
    handles: list[int] = []
    callback_type = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)  # type: ignore[attr-defined]

    def collect(hwnd: int, _param: int) -> bool:
        if user32.GetWindowTextLengthW(hwnd) > 0 and user32.IsWindowVisible(hwnd):
            handles.append(hwnd)
        return True

    user32.EnumWindows(callback_type(collect), 0)
    windows = []
    for hwnd in handles:
        length = user32.GetWindowTextLengthW(hwnd)
        title = ctypes.create_unicode_buffer(length + 1)
        user32.GetWindowTextW(hwnd, title, length + 1)
        pid = wintypes.DWORD()
        user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        try:
            geo = geometry(int(hwnd))
        except WindowGone:
            continue
        if visible_only and not geo.viewable:
            continue
        windows.append(
            WindowInfo(
                int(hwnd),
                title.value,
                _process_name(kernel32, pid.value),
                pid.value,
                geo.x,
                geo.y,
                geo.width,
                geo.height,
                geo.viewable,
            )
        )
    return windows

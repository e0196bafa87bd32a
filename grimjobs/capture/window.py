"""One application window, found by title, id or process, followed while it moves and resizes.

Backends: `mss` grabs the window's current rectangle on the desktop each frame (X11 and Windows;
whatever covers the window is recorded too, as on screen); `x11grab` reads the window itself by id
(X11; reopened when the window changes size); `dxcam` reads the rectangle through Desktop
Duplication (Windows). `auto` is dxcam when it is installed on Windows, else mss.

The window can vanish mid-recording. `on_lost: continue` records a gap (no frames, logged with its
time, listed in summary.json) and keeps looking for the window; `stop` ends the recording cleanly.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, Protocol

import numpy as np
from pydantic import Field

from grimjobs.capture.base import SourceEnded, SourceError, SourceGap
from grimjobs.capture.screen import ScreenSettings, ScreenSource
from grimjobs.capture.windows import WindowInfo, WindowSelector, parse_window_id, resolve_window
from grimjobs.capture.x11 import Geometry, GeometryWatch, WindowGone
from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat

log = logging.getLogger(__name__)


class WindowSettings(ScreenSettings):
    title: str | None = Field(None, description="case-insensitive part of the window title")
    window_id: int | str | None = Field(None, description="window id as `grimjobs list` prints it (0x...)")
    process: str | None = Field(None, description="process name (or part of it), e.g. GrimFandango")
    backend: Literal["auto", "mss", "x11grab", "dxcam"] = Field("auto", description="how pixels are read")
    on_lost: Literal["continue", "stop"] = Field(
        "continue", description="window closed/minimized: gap or stop"
    )
    rescan_seconds: float = Field(0.5, gt=0, description="while lost, look for the window again this often")
    display: str | None = Field(None, description="X display (null: $DISPLAY); ignored on Windows")


class Tracker(Protocol):
    """Where windows are: X11 (python-xlib) or Windows (user32)."""

    def list_windows(self) -> list[WindowInfo]: ...
    def geometry(self, window_id: int) -> Geometry: ...
    def screen(self) -> Geometry: ...
    def close(self) -> None: ...


class X11Tracker:
    """Window lists on one connection; the recorded window's geometry from X events on another
    (`GeometryWatch`), so a steady window costs no X round trip per frame."""

    def __init__(self, display: str | None) -> None:
        from grimjobs.capture.x11 import X11Windows

        self.x11 = X11Windows(display)
        self.display_name: str = self.x11.display.get_display_name()
        self.watch: GeometryWatch | None = None

    def list_windows(self) -> list[WindowInfo]:
        return self.x11.list_windows()

    def geometry(self, window_id: int) -> Geometry:
        watch = self.watch
        if watch is None or watch.window_id != window_id:
            if watch is not None:
                watch.close()
            self.watch = watch = GeometryWatch(self.display_name, window_id)
        return watch.geometry()

    def watch_stats(self) -> dict[str, int]:
        watch = self.watch
        return {"geometry_queries": watch.queries, "geometry_events": watch.events} if watch else {}

    def screen(self) -> Geometry:
        width, height = self.x11.screen_size
        return Geometry(0, 0, width, height, True)

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()
        self.x11.close()


class Grabber(Protocol):
    def grab(self, window_id: int, geo: Geometry, rect: Geometry) -> np.ndarray: ...
    def close(self) -> None: ...


class MssGrabber:
    """The window's visible rectangle on the desktop (`rect`: the window clipped to the screen)."""

    def __init__(self, display: str | None) -> None:
        from grimjobs.capture.monitor import open_mss

        self.sct = open_mss(display)

    def grab(self, window_id: int, geo: Geometry, rect: Geometry) -> np.ndarray:
        from grimjobs.capture.monitor import screen_view

        box = {"left": rect.x, "top": rect.y, "width": rect.width, "height": rect.height}
        return screen_view(self.sct.grab(box))

    def close(self) -> None:
        self.sct.close()


class X11WindowGrabber:
    """x11grab on the window id: reads the window's own contents wherever it is; reopened with
    the new size when the window is resized."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.device: Any = None
        self._size: tuple[int, int] = (0, 0)

    def grab(self, window_id: int, geo: Geometry, rect: Geometry) -> np.ndarray:
        from grimjobs.capture.x11grab import X11GrabDevice

        if self.device is None or self._size != (geo.width, geo.height):
            self.close()
            self.device = X11GrabDevice(self.display, 0, 0, geo.width, geo.height, window_id=window_id)
            self.device.open()
            self._size = (geo.width, geo.height)
        try:
            view: np.ndarray = self.device.read()
        except SourceError:
            self.close()  # the window changed under the device: reopen on the next grab
            raise
        return view

    def close(self) -> None:
        if self.device is not None:
            self.device.close()
            self.device = None


@dataclass
class Gap:
    start_ns: int
    reason: str
    end_ns: int | None = None
    slots: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"start_ns": self.start_ns, "end_ns": self.end_ns, "reason": self.reason, "slots": self.slots}


def clip(geo: Geometry, screen: Geometry) -> Geometry | None:
    """The part of the window on the screen, with even size (None when nothing is visible)."""
    x0, y0 = max(geo.x, screen.x), max(geo.y, screen.y)
    x1 = min(geo.x + geo.width, screen.x + screen.width)
    y1 = min(geo.y + geo.height, screen.y + screen.height)
    width, height = (x1 - x0) // 2 * 2, (y1 - y0) // 2 * 2
    if width < 2 or height < 2:
        return None
    return Geometry(x0, y0, width, height, geo.viewable)


class WindowSource(ScreenSource):
    Settings = WindowSettings
    settings: WindowSettings

    def _open(self) -> FrameFormat:
        s = self.settings
        window_id = parse_window_id(s.window_id)
        # An id names one window exactly; the game's title preset must not veto it.
        self.selector = (
            WindowSelector(window_id=window_id)
            if window_id is not None
            else WindowSelector(s.title, None, s.process)
        )
        if sys.platform == "win32":
            from grimjobs.capture.win32 import Win32Tracker

            self.tracker: Tracker = Win32Tracker()
        else:
            self.tracker = X11Tracker(s.display)
        try:
            self.window = resolve_window(self.tracker.list_windows(), self.selector)
            self.screen_rect = self.tracker.screen()
            self.grabber = self._make_grabber()
        except BaseException:
            self.tracker.close()
            raise
        log.info("recording window %s", self.window.label)
        self.gaps: list[Gap] = []
        self._lost: Gap | None = None
        self._next_rescan_ns = 0
        self._first_ns: int | None = None
        return self._output_format()

    def _make_grabber(self) -> Grabber:
        s = self.settings
        backend = s.backend
        if backend == "auto":
            backend = "mss"
            if sys.platform == "win32":
                import importlib.util

                backend = "dxcam" if importlib.util.find_spec("dxcam") else "mss"
        if backend == "x11grab":
            if not isinstance(self.tracker, X11Tracker):
                raise UserError(
                    "capture.backend=x11grab needs X11; use capture.backend=mss or dxcam on Windows"
                )
            return X11WindowGrabber(self.tracker.display_name)
        if backend == "dxcam":  # the DXGI output that holds the window, GDI where dxcam cannot
            from grimjobs.capture.dxcam import DxcamWindowGrabber

            monitor_of = getattr(self.tracker, "monitor_name", lambda window_id: None)
            return DxcamWindowGrabber(monitor_of, lambda: MssGrabber(s.display))
        return MssGrabber(s.display)

    def _grab(self, out: np.ndarray, slot: int) -> int:
        # Where the window is comes from X events (no round trip unless it changed); the stamp is
        # taken right after the pixel read returns: the picture was on screen by then, so no frame
        # can show something painted after its own timestamp (docs/CAPTURE.md, "Timestamps").
        t_ns = now_ns()  # for gap bookkeeping only
        if self._first_ns is None:
            self._first_ns = t_ns
        if self._lost is not None and not self._find_again(t_ns):
            self._lost.slots += 1
            raise SourceGap
        try:
            geo = self.tracker.geometry(self.window.id)
        except WindowGone:
            self._lose(t_ns, "closed")
        if not geo.viewable:
            self._lose(t_ns, "minimized")
        if getattr(self.tracker, "live_screen", False):  # Windows: a mode change resizes the desktop
            self.screen_rect = self.tracker.screen()
        rect = clip(geo, self.screen_rect)
        if rect is None:
            self._lose(t_ns, "off screen")
        try:
            view = self.grabber.grab(self.window.id, geo, rect)
        except SourceError as exc:
            log.debug("window grab failed: %s", exc)
            self._lose(t_ns, "unreadable")
        t_ns = now_ns()  # the moment of capture: the pixel read has just returned
        if self._lost is not None:
            self._found(t_ns)
        self._deliver(view, out)
        return t_ns

    def _lose(self, t_ns: int, reason: str) -> NoReturn:
        """The window cannot be recorded now: stop, or start (or continue) a gap."""
        since = (t_ns - (self._first_ns or t_ns)) / NS_PER_S
        if self.settings.on_lost == "stop":
            raise SourceEnded(f"window {self.window.label} {reason} at {since:.3f} s")
        if self._lost is None:
            log.warning(
                "window %s %s at %.3f s (monotonic_ns %d): recording a gap",
                self.window.label,
                reason,
                since,
                t_ns,
            )
            self._lost = Gap(t_ns, reason)
            self.gaps.append(self._lost)
            self.stale.reset()
            self._next_rescan_ns = t_ns + round(self.settings.rescan_seconds * NS_PER_S)
        self._lost.slots += 1
        raise SourceGap

    def _find_again(self, t_ns: int) -> bool:
        """While lost: cheap check of the same window; every rescan_seconds, look for a window
        the selector matches (a restarted game gets a new id)."""
        assert self._lost is not None
        try:
            geo = self.tracker.geometry(self.window.id)
            if geo.viewable and clip(geo, self.screen_rect) is not None:
                return True
        except WindowGone:
            pass
        if t_ns < self._next_rescan_ns:
            return False
        self._next_rescan_ns = t_ns + round(self.settings.rescan_seconds * NS_PER_S)
        candidates = [w for w in self.tracker.list_windows() if w.visible and self.selector.matches(w)]
        if len(candidates) == 1 and self.selector.window_id is None:
            self.window = candidates[0]
            return True
        return False

    def _found(self, t_ns: int) -> None:
        assert self._lost is not None
        self._lost.end_ns = t_ns
        log.warning("window %s back after %.3f s", self.window.label, (t_ns - self._lost.start_ns) / NS_PER_S)
        self._lost = None

    def stats(self) -> dict[str, Any]:
        stats = super().stats()
        if hasattr(self, "gaps"):
            stats["window"] = self.window.label
            stats["gaps"] = [gap.as_dict() for gap in self.gaps]
            stats["gap_slots"] = sum(gap.slots for gap in self.gaps)
            if isinstance(self.tracker, X11Tracker):
                stats.update(self.tracker.watch_stats())
        return stats

    def _close(self) -> None:
        try:
            self.grabber.close()
        finally:
            self.tracker.close()

"""X11 windows through python-xlib: enumeration for `list` and the window source, and the live
geometry of one window (it moves, resizes, unmaps or disappears while we record it)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grimjobs.capture.windows import WindowInfo
from grimjobs.errors import UserError


@dataclass(frozen=True, slots=True)
class Geometry:
    x: int  # on the root window (the desktop)
    y: int
    width: int
    height: int
    viewable: bool


class WindowGone(Exception):
    """The window was destroyed."""


def open_display(display: str | None = None) -> Any:
    """A python-xlib connection, or a one-line UserError naming DISPLAY."""
    from Xlib import display as xdisplay
    from Xlib import error as xerror

    name = display or os.environ.get("DISPLAY")
    if not name:
        raise UserError("no X display: DISPLAY is not set (set DISPLAY=:0 or capture.display=:0)")
    try:
        return xdisplay.Display(name)
    except (xerror.DisplayError, OSError, ValueError) as exc:
        raise UserError(f"cannot open X display {name!r}: {exc}; check DISPLAY / capture.display") from None


class X11Windows:
    """One connection to the X server, for listing windows and following one of them."""

    def __init__(self, display: str | None = None) -> None:
        self.display = open_display(display)
        self.root = self.display.screen().root
        self._atoms: dict[str, int] = {}

    def close(self) -> None:
        self.display.close()

    def atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self.display.intern_atom(name)
        return self._atoms[name]

    @property
    def screen_size(self) -> tuple[int, int]:
        screen = self.display.screen()
        return int(screen.width_in_pixels), int(screen.height_in_pixels)

    def _client_windows(self) -> list[Any]:
        """Top-level client windows: the window manager's list if there is one (its frames are
        not what the user means), else the titled children of the root (no window manager,
        e.g. Xvfb) and their titled children (frames of a manager without EWMH)."""
        prop = self.root.get_full_property(self.atom("_NET_CLIENT_LIST"), 0)
        if prop is not None and len(prop.value):
            return [self.display.create_resource_object("window", int(wid)) for wid in prop.value]
        found = []
        for child in self.root.query_tree().children:
            if self._title(child):
                found.append(child)
                continue
            try:
                found.extend(grand for grand in child.query_tree().children if self._title(grand))
            except Exception:  # the window vanished while we walked the tree
                continue
        return found

    def _title(self, window: Any) -> str:
        from Xlib import error as xerror

        try:
            prop = window.get_full_property(self.atom("_NET_WM_NAME"), self.atom("UTF8_STRING"))
            if prop is not None and prop.value:
                value = prop.value
                return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            name = window.get_wm_name()
        except xerror.XError:
            return ""
        if isinstance(name, bytes):
            return name.decode("latin-1")
        return name or ""

    def _pid(self, window: Any) -> int | None:
        prop = window.get_full_property(self.atom("_NET_WM_PID"), 0)
        return int(prop.value[0]) if prop is not None and len(prop.value) else None

    def describe(self, window: Any) -> WindowInfo | None:
        from Xlib import error as xerror

        try:
            title = self._title(window)
            pid = self._pid(window)
            wm_class = window.get_wm_class() or ()
            geometry = self.geometry(window.id)
        except (xerror.XError, WindowGone):
            return None
        process, aliases = _process_names(pid)
        return WindowInfo(
            id=int(window.id),
            title=title,
            process=process,
            pid=pid,
            x=geometry.x,
            y=geometry.y,
            width=geometry.width,
            height=geometry.height,
            visible=geometry.viewable,
            aliases=(*aliases, *(str(c) for c in wm_class)),
        )

    def list_windows(self, visible_only: bool = False) -> list[WindowInfo]:
        windows = [info for w in self._client_windows() if (info := self.describe(w)) is not None]
        return [w for w in windows if w.visible] if visible_only else windows

    def geometry(self, window_id: int) -> Geometry:
        """Where the window's contents are on the desktop right now. Raises WindowGone."""
        from Xlib import X
        from Xlib import error as xerror

        window = self.display.create_resource_object("window", window_id)
        try:
            geo = window.get_geometry()
            attrs = window.get_attributes()
            origin = self.root.translate_coords(window, 0, 0)
        except (xerror.BadWindow, xerror.BadDrawable, xerror.BadMatch) as exc:
            raise WindowGone(str(exc)) from None
        return Geometry(
            int(origin.x), int(origin.y), int(geo.width), int(geo.height), attrs.map_state == X.IsViewable
        )


def _process_names(pid: int | None) -> tuple[str, tuple[str, ...]]:
    """The process name (/proc/<pid>/comm) and the executable's file name, when readable.
    Wine games show up as wine processes whose command line names the .exe."""
    if pid is None:
        return "", ()
    proc = Path("/proc") / str(pid)
    try:
        comm = (proc / "comm").read_text().strip()
    except OSError:
        return "", ()
    aliases: tuple[str, ...] = ()
    try:
        argv0 = (proc / "cmdline").read_bytes().split(b"\0", 1)[0].decode("utf-8", "replace")
        aliases = (argv0.replace("\\", "/").rsplit("/", 1)[-1],)
    except OSError:
        pass
    return comm, aliases


class GeometryWatch:
    """The geometry of one window, kept current by X events instead of queried every frame.

    On a connection of its own, StructureNotify is selected on the window and on every ancestor
    up to the root (a window manager moves the frame it reparented the window into, and the
    client window itself then gets no real ConfigureNotify). Any Configure/Map/Unmap/Reparent/
    Destroy event on them marks the cached geometry stale; `geometry()` drains the events already
    received (a non-blocking read of the socket, no round trip) and queries the server (three
    round trips) only when something changed. A frame then costs one pixel read, not four
    requests. Raises WindowGone once the window is destroyed.
    """

    def __init__(self, display: str | None, window_id: int) -> None:
        self.display = open_display(display)
        self.window_id = window_id
        self.root = self.display.screen().root
        self._x11 = X11Windows.__new__(X11Windows)  # geometry queries on this connection
        self._x11.display, self._x11.root, self._x11._atoms = self.display, self.root, {}
        self._cached: Geometry | None = None
        self._gone = False
        self.queries = 0  # geometry round trips made (one per change, plus the first)
        self.events = 0
        self._watch()

    def _watch(self) -> None:
        """Select StructureNotify on the window and its ancestors (again after a reparent)."""
        from Xlib import X
        from Xlib import error as xerror

        window = self.display.create_resource_object("window", self.window_id)
        try:
            while window is not None and window.id != self.root.id:
                window.change_attributes(event_mask=X.StructureNotifyMask)
                window = window.query_tree().parent
            self.display.sync()
        except (xerror.BadWindow, xerror.BadDrawable):
            self._gone = True

    def _drain(self) -> None:
        from Xlib import X

        rewatch = False
        while self.display.pending_events():
            event = self.display.next_event()
            self.events += 1
            self._cached = None
            if event.type == X.DestroyNotify and event.window.id == self.window_id:
                self._gone = True
            elif event.type == X.ReparentNotify:
                rewatch = True
        if rewatch and not self._gone:
            self._watch()

    def geometry(self) -> Geometry:
        self._drain()
        if self._gone:
            raise WindowGone(f"window 0x{self.window_id:x} was destroyed")
        if self._cached is None:
            self.queries += 1
            self._cached = self._x11.geometry(self.window_id)  # WindowGone passes through
        return self._cached

    def close(self) -> None:
        self.display.close()

"""Global keyboard and mouse capture for `input.keyboard` / `input.mouse`.

SDL only sees keys for its own windows, and a recorder behind a game has none, so keys are
captured globally and translated to SDL scancodes:

- Linux/X11: the X RECORD extension through python-xlib (what pynput uses underneath), reading
  the raw hardware keycode so the scancode is the physical key whatever the layout.
- Windows / macOS: pynput's hooks, translated by key name or US-layout character.

The hook runs on its own thread (it blocks in the OS) and only appends `(t_ns, kind, code, down,
x, y)` to a deque; `drain` on the main thread applies them to the shared `InputState` in order.

Stamps. On X11 every event carries the X server's time (milliseconds; the Linux X server reads
CLOCK_MONOTONIC): it is mapped to the recording clock by `grimjobs.input.eventtime.EventClock`,
whose offset is learned at start from a property-change round trip on a connection of its own
(and re-checked every `RECHECK_NS`), so a key is stamped when the server saw it, not when our
thread got to it (tens of ms later under load). pynput hooks have no such time: their events are
stamped when the hook receives them.
"""

from __future__ import annotations

import collections
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from grimjobs.clock import now_ns
from grimjobs.errors import UserError
from grimjobs.input.controls import InputState
from grimjobs.input.eventtime import EventClock
from grimjobs.input.scancodes import (
    BUTTON_NAME_TO_SDL,
    X11_BUTTON_TO_SDL,
    key_name_to_sdl,
    x11_keycode_to_sdl,
)

log = logging.getLogger("grimjobs.input")

KEY = 0
MOUSE_BUTTON = 1
MOUSE_MOVE = 2
RECHECK_NS = 5_000_000_000  # re-measure the X server's clock offset this often (drift, jumps)


class XServerClock:
    """The X server's time, measured against the recording clock on a connection of its own: a
    property change on a private window makes the server stamp a PropertyNotify with its time."""

    def __init__(self, connection: Any) -> None:
        from Xlib import X

        self.connection = connection
        root = connection.screen().root
        self.window = root.create_window(
            -10, -10, 1, 1, 0, 0, X.InputOnly, X.CopyFromParent, event_mask=X.PropertyChangeMask
        )
        self.atom = connection.intern_atom("_GRIMJOBS_CLOCK")
        self.clock = EventClock()
        self.next_check_ns = 0

    def observe(self) -> None:
        from Xlib import X, Xatom

        before = now_ns()
        self.window.change_property(self.atom, Xatom.STRING, 8, b"t")
        self.connection.flush()
        while True:
            event = self.connection.next_event()
            if event.type == X.PropertyNotify:
                break
        after = now_ns()
        self.clock.observe(int(event.time), before, after)
        self.next_check_ns = after + RECHECK_NS

    def map(self, server_ms: int, received_ns: int) -> int:
        if received_ns >= self.next_check_ns:
            self.observe()
        return self.clock.map(server_ms, received_ns)

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception as exc:
            log.debug("closing X clock connection: %s", exc)


class HookEvent(NamedTuple):
    t_ns: int
    kind: int  # KEY, MOUSE_BUTTON, MOUSE_MOVE
    code: int  # SDL scancode or SDL_BUTTON id
    down: bool
    x: int = 0
    y: int = 0


Sink = Callable[[HookEvent], None]


class HookBackend:
    """A global hook that calls `sink` (on its own thread) for each translated event."""

    unknown = 0  # keys without an SDL scancode, skipped

    def start(self, sink: Sink, keyboard: bool, mouse: bool) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class XRecordHooks(HookBackend):
    """X11 RECORD: a context over all clients' device events, read on a daemon thread."""

    def __init__(self, display_name: str | None = None) -> None:
        self.display_name = display_name
        self._record_display: Any = None
        self._control_display: Any = None
        self.server_clock: XServerClock | None = None
        self._context: Any = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def start(self, sink: Sink, keyboard: bool, mouse: bool) -> None:
        try:
            from Xlib import X, display
            from Xlib.error import DisplayError
            from Xlib.ext import record
            from Xlib.protocol import rq
        except ImportError as exc:
            raise UserError(
                f"input.keyboard/mouse on Linux needs python-xlib ({exc}); pip install python-xlib"
            ) from None
        try:
            self._control_display = _connect(display.Display, self.display_name)
            self._record_display = _connect(display.Display, self.display_name)
            self.server_clock = XServerClock(_connect(display.Display, self.display_name))
            self.server_clock.observe()  # learned before the first key, checked again as it runs
        except (DisplayError, OSError) as exc:
            self.stop()
            shown = self.display_name or os.environ.get("DISPLAY")
            raise UserError(
                f"input.keyboard/mouse: cannot open the X display {shown!r} ({exc}); "
                "run inside the game's X session or set DISPLAY"
            ) from None
        if not self._control_display.has_extension("RECORD"):
            self.stop()
            raise UserError(
                "input.keyboard/mouse: the X server has no RECORD extension; enable it "
                '(Xorg: Section "Module" Load "record") or set input.keyboard=false'
            )
        first = X.KeyPress if keyboard else X.ButtonPress
        last = X.MotionNotify if mouse else X.KeyRelease
        self._context = self._control_display.record_create_context(
            0,
            [record.AllClients],
            [
                {
                    "core_requests": (0, 0),
                    "core_replies": (0, 0),
                    "ext_requests": (0, 0, 0, 0),
                    "ext_replies": (0, 0, 0, 0),
                    "delivered_events": (0, 0),
                    "device_events": (first, last),
                    "errors": (0, 0),
                    "client_started": False,
                    "client_died": False,
                }
            ],
        )
        # The context lives on the server only once the control connection has flushed it.
        self._control_display.sync()
        event_field = rq.EventField(None)
        record_display = self._record_display
        want_keys, want_mouse = keyboard, mouse
        server_clock = self.server_clock
        assert server_clock is not None

        def on_reply(reply: Any) -> None:
            if reply.category == record.StartOfData:
                self._started.set()
                return
            if reply.category != record.FromServer or reply.client_swapped or not reply.data:
                return
            received_ns = now_ns()  # the moment the hook read this batch: an upper bound
            data = reply.data
            while data:
                event, data = event_field.parse_binary_value(data, record_display.display, None, None)
                kind = event.type
                t_ns = server_clock.map(int(event.time), received_ns)
                if want_keys and kind in (X.KeyPress, X.KeyRelease):
                    scancode = x11_keycode_to_sdl(event.detail)
                    if scancode is None:
                        self.unknown += 1
                        continue
                    sink(HookEvent(t_ns, KEY, scancode, kind == X.KeyPress))
                elif want_mouse and kind in (X.ButtonPress, X.ButtonRelease):
                    button = X11_BUTTON_TO_SDL.get(event.detail)
                    if button is not None:
                        sink(
                            HookEvent(
                                t_ns, MOUSE_BUTTON, button, kind == X.ButtonPress, event.root_x, event.root_y
                            )
                        )
                elif want_mouse and kind == X.MotionNotify:
                    sink(HookEvent(t_ns, MOUSE_MOVE, 0, False, event.root_x, event.root_y))

        def run() -> None:
            try:
                record_display.record_enable_context(self._context, on_reply)
            except BaseException as exc:  # reported by start(), or logged if it dies later
                self._error = exc
                self._started.set()
                log.error("keyboard/mouse hook stopped: %s", exc)

        self._thread = threading.Thread(target=run, name="x11-record", daemon=True)
        self._thread.start()
        # Keys pressed before RECORD delivers StartOfData would be missed: wait for it.
        if not self._started.wait(5.0) or self._error is not None:
            self.stop()
            raise UserError(f"input.keyboard/mouse: X RECORD did not start ({self._error or 'timeout'})")

    def stop(self) -> None:
        control = self._control_display
        if control is None:
            return
        if self._context is not None:
            try:
                control.record_disable_context(self._context)
                control.sync()
            except Exception as exc:  # the X server may be gone already
                log.debug("record_disable_context: %s", exc)
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._context is not None:
            try:
                control.record_free_context(self._context)
                control.sync()
            except Exception as exc:
                log.debug("record_free_context: %s", exc)
            self._context = None
        for connection in (self._record_display, control):
            if connection is None:
                continue
            try:
                connection.close()
            except Exception as exc:
                log.debug("closing X connection: %s", exc)
        self._record_display = self._control_display = None
        if self.server_clock is not None:
            self.server_clock.close()  # its stats stay readable for summary.json

    def clock_stats(self) -> dict[str, int | float]:
        return self.server_clock.clock.stats() if self.server_clock is not None else {}


def _connect(factory: Callable[[str | None], Any], name: str | None) -> Any:
    """Open an X connection; retried briefly because an X server that just lost its last client
    resets itself and refuses connections for a moment (Xvfb without -noreset)."""
    from Xlib.error import ConnectionClosedError

    for attempt in range(10):
        try:
            return factory(name)
        except ConnectionClosedError:
            if attempt == 9:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


class PynputHooks(HookBackend):
    """pynput listeners (Windows low-level hooks, macOS event taps), translated by key name."""

    def __init__(self) -> None:
        self._listeners: list[Any] = []

    def start(self, sink: Sink, keyboard: bool, mouse: bool) -> None:
        try:
            from pynput import keyboard as pkeyboard
            from pynput import mouse as pmouse
        except ImportError as exc:
            raise UserError(f"input.keyboard/mouse: pynput cannot hook input here ({exc})") from None

        def key_event(key: Any, down: bool) -> None:
            t_ns = now_ns()
            name = getattr(key, "name", None) if isinstance(key, pkeyboard.Key) else None
            char = getattr(key, "char", None)
            scancode = key_name_to_sdl(name, char)
            if scancode is None:
                self.unknown += 1
                return
            sink(HookEvent(t_ns, KEY, scancode, down))

        if keyboard:
            listener = pkeyboard.Listener(
                on_press=lambda key: key_event(key, True), on_release=lambda key: key_event(key, False)
            )
            self._listeners.append(listener)
        if mouse:

            def click(x: int, y: int, button: Any, down: bool) -> None:
                code = BUTTON_NAME_TO_SDL.get(getattr(button, "name", ""))
                if code is not None:
                    sink(HookEvent(now_ns(), MOUSE_BUTTON, code, down, int(x), int(y)))

            def move(x: int, y: int) -> None:
                sink(HookEvent(now_ns(), MOUSE_MOVE, 0, False, int(x), int(y)))

            self._listeners.append(pmouse.Listener(on_click=click, on_move=move))
        for listener in self._listeners:
            listener.start()
            listener.wait()

    def stop(self) -> None:
        for listener in self._listeners:
            listener.stop()
        self._listeners.clear()


def default_backend() -> HookBackend:
    if sys.platform.startswith("linux"):
        if not os.environ.get("DISPLAY"):
            raise UserError(
                "input.keyboard/mouse on Linux reads keys from the X server, but DISPLAY is not set; "
                "set DISPLAY to the game's display or set input.keyboard=false input.mouse=false"
            )
        return XRecordHooks()
    if sys.platform == "win32":  # scan codes from the low-level hook, not pynput's characters
        from grimjobs.input.keyboard_win32 import Win32Hooks

        return Win32Hooks()
    return PynputHooks()


class GlobalHooks:
    """Keyboard and/or mouse from a global hook, applied to the input state on the main thread."""

    def __init__(self, keyboard: bool, mouse: bool, backend: HookBackend | None = None) -> None:
        self.keyboard = keyboard
        self.mouse = mouse
        self.backend = backend
        self.key_events = 0
        self.mouse_events = 0
        # deque.append/popleft are atomic: the hook thread appends, the main thread pops.
        self._queue: collections.deque[HookEvent] = collections.deque()
        self._open = False

    def open(self) -> None:
        if self.backend is None:
            self.backend = default_backend()
        self.backend.start(self._queue.append, self.keyboard, self.mouse)
        self._open = True

    def drain(self, state: InputState, changed: Callable[[int], None]) -> int:
        """Apply queued events in order; `changed(t_ns)` after each one that changed the state.
        Pointer moves queued back to back collapse into the last position."""
        queue = self._queue
        count = 0
        while queue:
            event = queue.popleft()
            count += 1
            if event.kind == KEY:
                self.key_events += 1
                if state.set_key(event.code, event.down):
                    changed(event.t_ns)
            elif event.kind == MOUSE_BUTTON:
                self.mouse_events += 1
                moved = state.set_mouse(event.x, event.y)
                if state.set_mouse_button(event.code, event.down) or moved:
                    changed(event.t_ns)
            else:
                self.mouse_events += 1
                while queue and queue[0].kind == MOUSE_MOVE:
                    event = queue.popleft()
                    count += 1
                    self.mouse_events += 1
                if state.set_mouse(event.x, event.y):
                    changed(event.t_ns)
        return count

    def close(self) -> None:
        if self._open and self.backend is not None:
            self.backend.stop()
        self._open = False

    def stats(self) -> dict[str, int | float | str]:
        stats: dict[str, int | float | str] = {
            "key_events": self.key_events,
            "mouse_events": self.mouse_events,
            "unknown_keys": self.backend.unknown if self.backend is not None else 0,
        }
        if isinstance(self.backend, XRecordHooks):
            # How the X server's event times were mapped (offset, drift rechecks, fallbacks).
            stats.update({f"xtime_{key}": value for key, value in self.backend.clock_stats().items()})
        return stats

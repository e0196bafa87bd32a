"""SDL2 game controllers: the one event path every pad (physical, scripted, replayed) goes through.

`PadHub` owns SDL's game-controller subsystem on the calling (main) thread: it pumps events, keeps
one pad (the first that matches a `PadSelector`), follows hot-plug, and turns controller events
into `InputState` changes. `VirtualPad` attaches an SDL virtual game controller
(SDL_JoystickAttachVirtualEx, type GAMECONTROLLER) whose axis/button changes come back through the
same SDL event path as a real pad's: the scripted device, replay and the tests drive it.

SDL runs without video: only the GAMECONTROLLER subsystem (plus the joystick and events
subsystems it implies) is initialised, so no display is needed.
"""

from __future__ import annotations

import ctypes
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from grimjobs.clock import now_ns
from grimjobs.errors import UserError
from grimjobs.input.controls import (
    AXIS_COUNT,
    BUTTON_COUNT,
    InputState,
    normalize_axis,
    virtual_axis_value,
)
from grimjobs.input.eventtime import EventClock
from grimjobs.session.actions import REASON_CONNECT, REASON_DISCONNECT, REASON_EVENT

log = logging.getLogger("grimjobs.input")

# Controller events live in SDL's 0x650.. block, raw joystick events in 0x600..0x64F. The raw
# joystick events must stay enabled (SDL derives controller events from them) but nobody reads
# them, so they are flushed after each pump instead of piling up in the queue.
_CONTROLLER_FIRST = 0x650
_CONTROLLER_LAST = 0x6FF
_JOYSTICK_FIRST = 0x600
_JOYSTICK_LAST = 0x64F
_BATCH = 64
TICKS_RECHECK_NS = 5_000_000_000  # re-measure the SDL_GetTicks offset this often

# Called for each pad change: (reason, monotonic_ns when the event was read).
PadChanged = Callable[[int, int], None]


def load_sdl() -> ModuleType:
    """Import pysdl2 (quietly: pysdl2-dll announces itself with a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import sdl2
        except ImportError as exc:  # pragma: no cover - pysdl2 is a dependency
            raise UserError(
                f"input: pysdl2 cannot be loaded ({exc}); run `pip install pysdl2 pysdl2-dll`"
            ) from None
    module: ModuleType = sdl2
    return module


def sdl_init() -> ModuleType:
    """Start SDL's game-controller subsystem (reference counted by SDL; pair with `sdl_quit`)."""
    sdl2 = load_sdl()
    # The game, not the recorder, has the focus: keep delivering pad events in the background.
    sdl2.SDL_SetHint(sdl2.SDL_HINT_JOYSTICK_ALLOW_BACKGROUND_EVENTS, b"1")
    # SDL would otherwise turn SIGINT/SIGTERM into SDL_QUIT events and the recorder's own handlers
    # (finish the files on Ctrl+C) would never run.
    sdl2.SDL_SetHint(sdl2.SDL_HINT_NO_SIGNAL_HANDLERS, b"1")
    if sdl2.SDL_InitSubSystem(sdl2.SDL_INIT_GAMECONTROLLER) != 0:
        error = sdl2.SDL_GetError().decode(errors="replace")
        raise UserError(f"input: SDL cannot start its game-controller subsystem: {error}")
    return sdl2


def sdl_quit(sdl2: ModuleType) -> None:
    sdl2.SDL_QuitSubSystem(sdl2.SDL_INIT_GAMECONTROLLER)


def guid_string(sdl2: ModuleType, guid: Any) -> str:
    buffer = ctypes.create_string_buffer(33)
    sdl2.SDL_JoystickGetGUIDString(guid, buffer, 33)
    return buffer.value.decode()


@dataclass(frozen=True, slots=True)
class PadInfo:
    index: int
    name: str
    guid: str


@dataclass(frozen=True, slots=True)
class PadSelector:
    """Which pad to record: the first game controller, or one by device index, GUID or name.

    `spec` is "first", an int index, a 32-hex-digit GUID, or a case-insensitive name substring.
    `instance_id` pins one SDL instance (the scripted device's own virtual pad).
    """

    spec: str | int = "first"
    instance_id: int | None = None

    def matches(self, info: PadInfo, instance_id: int) -> bool:
        if self.instance_id is not None:
            return instance_id == self.instance_id
        spec = self.spec
        if isinstance(spec, int):
            return info.index == spec
        if spec.lower() == "first":
            return True
        if is_guid(spec):
            return info.guid.lower() == spec.lower()
        return spec.lower() in info.name.lower()

    def describe(self) -> str:
        if self.instance_id is not None:
            return f"SDL instance {self.instance_id}"
        if isinstance(self.spec, int):
            return f"device index {self.spec}"
        return "the first game controller" if self.spec.lower() == "first" else repr(self.spec)


def is_guid(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdefABCDEF" for c in text)


def parse_pad_spec(value: str | int) -> str | int:
    """Config value -> selector spec: digits become an index."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


class PadHub:
    """Pumps SDL events and keeps `state` equal to the tracked pad; calls `changed` per change."""

    def __init__(self, selector: PadSelector, state: InputState, changed: PadChanged) -> None:
        self.selector = selector
        self.state = state
        self.changed = changed
        self.sdl: ModuleType | None = None
        self.controller: Any = None
        self.instance_id: int | None = None
        self.pad: PadInfo | None = None
        self.last_pad: PadInfo | None = None
        self.connects = 0
        self.disconnects = 0
        # Largest gap between SDL queueing an event (its SDL_GetTicks timestamp) and us reading it.
        self.max_queue_ms = 0
        self._events: Any = None
        self._scan_pending = False
        # SDL stamps each event with SDL_GetTicks (32-bit ms, CLOCK_MONOTONIC underneath, its own
        # origin) when it queues it: mapped to the recording clock, a pad event is stamped when
        # SDL saw it, not when this loop got round to reading it.
        self.clock = EventClock()
        self._next_clock_check_ns = 0

    def open(self) -> None:
        self.sdl = sdl_init()
        self._events = (self.sdl.SDL_Event * _BATCH)()
        # Pads already present are looked for on the first pump (their CONTROLLERDEVICEADDED may
        # have been consumed by another SDL user in this process before we opened).
        self._scan_pending = True

    @property
    def connected(self) -> bool:
        return self.controller is not None

    def pump(self) -> int:
        """Read every queued controller event; returns how many concerned the tracked pad."""
        sdl2 = self.sdl
        if sdl2 is None:
            return 0
        sdl2.SDL_PumpEvents()
        handled = 0
        if self._scan_pending:
            self._scan_pending = False
            if self.controller is None:
                self._open_any(now_ns())
        buffer = self._events
        while True:
            count = sdl2.SDL_PeepEvents(
                buffer, _BATCH, sdl2.SDL_GETEVENT, _CONTROLLER_FIRST, _CONTROLLER_LAST
            )
            if count <= 0:
                break
            t_ns = now_ns()  # the moment these events were read: an upper bound of their stamps
            if t_ns >= self._next_clock_check_ns:
                self._observe_ticks()
            ticks = sdl2.SDL_GetTicks()
            for i in range(count):
                handled += self._handle(buffer[i], t_ns, ticks)
            if count < _BATCH:
                break
        sdl2.SDL_FlushEvents(_JOYSTICK_FIRST, _JOYSTICK_LAST)
        return handled

    def _handle(self, event: Any, t_ns: int, ticks: int) -> int:
        sdl2 = self.sdl
        assert sdl2 is not None
        kind = event.type
        if kind == sdl2.SDL_CONTROLLERAXISMOTION:
            axis = event.caxis
            if axis.which != self.instance_id:
                return 0
            self._note_delay(ticks, axis.timestamp)
            if self.state.set_axis(axis.axis, normalize_axis(axis.axis, axis.value)):
                self.changed(REASON_EVENT, self.clock.map(axis.timestamp, t_ns))
            return 1
        if kind == sdl2.SDL_CONTROLLERBUTTONDOWN or kind == sdl2.SDL_CONTROLLERBUTTONUP:
            button = event.cbutton
            if button.which != self.instance_id:
                return 0
            self._note_delay(ticks, button.timestamp)
            if self.state.set_button(button.button, button.state == sdl2.SDL_PRESSED):
                self.changed(REASON_EVENT, self.clock.map(button.timestamp, t_ns))
            return 1
        if kind == sdl2.SDL_CONTROLLERDEVICEADDED:
            if self.controller is None:
                self._try_open(event.cdevice.which, t_ns)
            return 1 if self.controller is not None else 0
        if kind == sdl2.SDL_CONTROLLERDEVICEREMOVED and event.cdevice.which == self.instance_id:
            self._lost(t_ns)
            self._open_any(t_ns)
            return 1
        return 0

    def _observe_ticks(self) -> None:
        """Bracket SDL_GetTicks between two readings of the recording clock (offset, drift)."""
        sdl2 = self.sdl
        assert sdl2 is not None
        before = now_ns()
        ticks = sdl2.SDL_GetTicks()
        after = now_ns()
        self.clock.observe(int(ticks), before, after)
        self._next_clock_check_ns = after + TICKS_RECHECK_NS

    def _note_delay(self, ticks: int, timestamp: int) -> None:
        delay = (ticks - timestamp) & 0xFFFFFFFF  # SDL2 ticks are 32-bit milliseconds
        if delay > self.max_queue_ms and delay < 0x7FFFFFFF:
            self.max_queue_ms = delay

    def _info(self, index: int) -> PadInfo:
        sdl2 = self.sdl
        assert sdl2 is not None
        name = sdl2.SDL_GameControllerNameForIndex(index)
        guid = guid_string(sdl2, sdl2.SDL_JoystickGetDeviceGUID(index))
        return PadInfo(index, name.decode(errors="replace") if name else "", guid)

    def _try_open(self, index: int, t_ns: int) -> bool:
        sdl2 = self.sdl
        assert sdl2 is not None
        if not sdl2.SDL_IsGameController(index):
            return False
        info = self._info(index)
        instance_id = sdl2.SDL_JoystickGetDeviceInstanceID(index)
        if not self.selector.matches(info, instance_id):
            log.info("gamepad %r (%s) ignored: not %s", info.name, info.guid, self.selector.describe())
            return False
        controller = sdl2.SDL_GameControllerOpen(index)
        if not controller:
            log.warning(
                "gamepad %r cannot be opened: %s", info.name, sdl2.SDL_GetError().decode(errors="replace")
            )
            return False
        self.controller = controller
        self.instance_id = sdl2.SDL_JoystickInstanceID(sdl2.SDL_GameControllerGetJoystick(controller))
        self.pad = self.last_pad = info
        self.connects += 1
        # The pad may already be held in some position: start from its real state.
        self.state.set_pad(
            (
                normalize_axis(slot, sdl2.SDL_GameControllerGetAxis(controller, slot))
                for slot in range(AXIS_COUNT)
            ),
            (b for b in range(BUTTON_COUNT) if sdl2.SDL_GameControllerGetButton(controller, b)),
        )
        log.info("gamepad connected: %r guid %s (device %d)", info.name, info.guid, index)
        self.changed(REASON_CONNECT, t_ns)
        return True

    def _open_any(self, t_ns: int) -> None:
        sdl2 = self.sdl
        assert sdl2 is not None
        for index in range(sdl2.SDL_NumJoysticks()):
            if self._try_open(index, t_ns):
                return

    def _lost(self, t_ns: int, unplugged: bool = True) -> None:
        sdl2 = self.sdl
        assert sdl2 is not None
        name = self.pad.name if self.pad else "?"
        sdl2.SDL_GameControllerClose(self.controller)
        self.controller = None
        self.instance_id = None
        self.pad = None
        self.disconnects += 1
        self.state.neutral_pad()  # no stale state is carried past a disconnect
        if unplugged:
            log.warning("gamepad disconnected: %r (a neutral snapshot was written)", name)
        else:
            log.info("gamepad %r released (final neutral snapshot written)", name)
        self.changed(REASON_DISCONNECT, t_ns)

    def close(self, emit_disconnect: bool) -> None:
        """Close the pad (optionally reporting a final neutral DISCONNECT) and SDL; idempotent."""
        sdl2 = self.sdl
        if sdl2 is None:
            return
        if self.controller is not None:
            if emit_disconnect:
                self._lost(now_ns(), unplugged=False)
            else:
                sdl2.SDL_GameControllerClose(self.controller)
                self.controller = None
        self.sdl = None
        sdl_quit(sdl2)


class VirtualPad:
    """An SDL virtual game controller (all 21 buttons, 6 axes) whose inputs we set.

    Its changes become real SDL controller events on the next SDL_PumpEvents, exactly like a
    physical pad's. Values are stored-state units: sticks [-1, 1], triggers [0, 1].
    """

    def __init__(self, name: str = "grimjobs virtual pad") -> None:
        self.name = name
        self.sdl: ModuleType | None = None
        self.joystick: Any = None
        self.instance_id: int | None = None
        self._desc: Any = None

    def attach(self) -> int:
        """Attach the virtual pad; returns its SDL instance id."""
        sdl2 = sdl_init()
        desc = sdl2.SDL_VirtualJoystickDesc()
        desc.version = sdl2.SDL_VIRTUAL_JOYSTICK_DESC_VERSION
        desc.type = sdl2.SDL_JOYSTICK_TYPE_GAMECONTROLLER
        desc.naxes = AXIS_COUNT
        desc.nbuttons = BUTTON_COUNT
        desc.name = self.name.encode()
        index = sdl2.SDL_JoystickAttachVirtualEx(ctypes.byref(desc))
        if index < 0:
            error = sdl2.SDL_GetError().decode(errors="replace")
            sdl_quit(sdl2)
            raise UserError(f"input: SDL cannot attach a virtual game controller: {error}")
        joystick = sdl2.SDL_JoystickOpen(index)
        if not joystick:
            error = sdl2.SDL_GetError().decode(errors="replace")
            sdl2.SDL_JoystickDetachVirtual(index)
            sdl_quit(sdl2)
            raise UserError(f"input: SDL cannot open its virtual game controller: {error}")
        self.sdl, self.joystick, self._desc = sdl2, joystick, desc
        self.instance_id = sdl2.SDL_JoystickInstanceID(joystick)
        return int(self.instance_id)

    @property
    def attached(self) -> bool:
        return self.joystick is not None

    def set_axis(self, slot: int, value: float) -> None:
        assert self.sdl is not None, "VirtualPad is not attached"
        self.sdl.SDL_JoystickSetVirtualAxis(self.joystick, slot, virtual_axis_value(slot, value))

    def set_button(self, button: int, down: bool) -> None:
        assert self.sdl is not None, "VirtualPad is not attached"
        self.sdl.SDL_JoystickSetVirtualButton(self.joystick, button, 1 if down else 0)

    def update(self) -> None:
        """Turn pending changes into SDL events now (SDL_PumpEvents also does this)."""
        if self.sdl is not None:
            self.sdl.SDL_JoystickUpdate()

    def detach(self) -> None:
        """Unplug the virtual pad (idempotent); SDL sends CONTROLLERDEVICEREMOVED."""
        sdl2 = self.sdl
        if sdl2 is None:
            return
        index = next(
            (
                i
                for i in range(sdl2.SDL_NumJoysticks())
                if sdl2.SDL_JoystickGetDeviceInstanceID(i) == self.instance_id
            ),
            None,
        )
        sdl2.SDL_JoystickClose(self.joystick)
        if index is not None:
            sdl2.SDL_JoystickDetachVirtual(index)
        self.sdl = None
        self.joystick = None
        sdl_quit(sdl2)

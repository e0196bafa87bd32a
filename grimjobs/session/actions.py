"""actions.bin: repeated (u32 little-endian length, serialized `trajectory.GamepadState`).

The same framing the C++ recorder wrote; the schema is protos/gamepad.proto. One record is the
full input state after an event (or a periodic sample), not the event itself.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from grimjobs.clock import now_ns
from grimjobs.session.gamepad_pb2 import GamepadState

FLUSH_INTERVAL_NS = 250_000_000
_LENGTH = struct.Struct("<I")
# A record larger than this is not a GamepadState: the file is corrupt at that point.
MAX_RECORD_BYTES = 1 << 20

# GamepadState.reason values.
REASON_EVENT = 0
REASON_SAMPLE = 1
REASON_CONNECT = 2
REASON_DISCONNECT = 3


class ActionsFormatError(ValueError):
    pass


@dataclass(slots=True)
class InputSnapshot:
    """The full input state at one moment, as stored in one actions.bin record."""

    monotonic_ns: int
    axes: Sequence[float] = ()
    pressed_buttons: Sequence[int] = ()
    pressed_keys: Sequence[int] = ()
    pressed_mouse_buttons: Sequence[int] = ()
    mouse: tuple[int, int] | None = None
    reason: int = REASON_EVENT


class ActionsWriter:
    """Appends length-prefixed snapshots; flushes to the OS at least every 250 ms."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = open(path, "wb")  # noqa: SIM115
        self._message = GamepadState()  # reused: no per-event allocation of the message object
        self._last_flush = now_ns()
        self.records = 0

    def write(self, snapshot: InputSnapshot) -> None:
        assert self._file is not None, "ActionsWriter is closed"
        message = self._message
        message.Clear()
        message.monotonic_ns = snapshot.monotonic_ns
        message.axes.extend(snapshot.axes)
        message.pressed_buttons.extend(snapshot.pressed_buttons)
        message.pressed_keys.extend(snapshot.pressed_keys)
        message.pressed_mouse_buttons.extend(snapshot.pressed_mouse_buttons)
        if snapshot.mouse is not None:
            message.mouse_x, message.mouse_y = snapshot.mouse
        message.reason = snapshot.reason
        payload = message.SerializeToString()
        self._file.write(_LENGTH.pack(len(payload)))
        self._file.write(payload)
        self.records += 1
        if snapshot.monotonic_ns - self._last_flush >= FLUSH_INTERVAL_NS:
            self.flush()

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
            self._last_flush = now_ns()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def encode_record(snapshot: InputSnapshot) -> bytes:
    """One framed record (length prefix + payload), as ActionsWriter writes it."""
    message = GamepadState(
        monotonic_ns=snapshot.monotonic_ns,
        axes=list(snapshot.axes),
        pressed_buttons=list(snapshot.pressed_buttons),
        pressed_keys=list(snapshot.pressed_keys),
        pressed_mouse_buttons=list(snapshot.pressed_mouse_buttons),
        reason=snapshot.reason,
    )
    if snapshot.mouse is not None:
        message.mouse_x, message.mouse_y = snapshot.mouse
    payload = message.SerializeToString()
    return _LENGTH.pack(len(payload)) + payload


@dataclass(slots=True)
class ActionsLog:
    """All records of an actions.bin. `torn_bytes` counts a cut-off tail that was left out."""

    records: list[InputSnapshot] = field(default_factory=list)
    torn_bytes: int = 0
    valid_bytes: int = 0


def iter_frames(data: bytes | memoryview) -> Iterator[tuple[int, memoryview]]:
    """(offset, payload) for each complete record; stops before a torn tail."""
    view = memoryview(data)
    offset, end = 0, len(view)
    while offset + 4 <= end:
        (length,) = _LENGTH.unpack_from(view, offset)
        if length > MAX_RECORD_BYTES or offset + 4 + length > end:
            return
        yield offset, view[offset + 4 : offset + 4 + length]
        offset += 4 + length


def read_actions(path: Path) -> ActionsLog:
    """Parse actions.bin. A torn tail (partial length or payload: a crash mid-write) is reported in
    `torn_bytes`; a payload that is not a GamepadState raises ActionsFormatError with its offset."""
    data = path.read_bytes()
    log = ActionsLog()
    message = GamepadState()
    end = 0
    for offset, payload in iter_frames(data):
        try:
            message.ParseFromString(payload)
        except Exception as exc:  # protobuf raises DecodeError, a plain Exception subclass
            raise ActionsFormatError(f"{path}: record at byte {offset} is not a GamepadState: {exc}") from None
        log.records.append(
            InputSnapshot(
                monotonic_ns=message.monotonic_ns,
                axes=tuple(message.axes),
                pressed_buttons=tuple(message.pressed_buttons),
                pressed_keys=tuple(message.pressed_keys),
                pressed_mouse_buttons=tuple(message.pressed_mouse_buttons),
                mouse=(message.mouse_x, message.mouse_y) if message.HasField("mouse_x") else None,
                reason=message.reason,
            )
        )
        end = offset + 4 + len(payload)
    log.valid_bytes = end
    log.torn_bytes = len(data) - end
    return log

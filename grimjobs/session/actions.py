"""actions.bin: repeated (u32 little-endian length, serialized `trajectory.GamepadState`).

The same framing the C++ recorder wrote; the schema is protos/gamepad.proto. One record is the
full input state after an event (or a periodic sample), not the event itself.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from grimjobs.session.flushing import FLUSH_INTERVAL_NS, FlushTimer
from grimjobs.session.gamepad_pb2 import GamepadState

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
    """Appends length-prefixed snapshots; a timer thread flushes them to the OS every 200 ms
    (docs: at most 250 ms), so input that stops changing is on disk within that bound too."""

    def __init__(self, path: Path, flush_interval_ns: int = FLUSH_INTERVAL_NS) -> None:
        self.path = path
        self._file: BinaryIO | None = open(path, "wb")  # noqa: SIM115
        self._message = GamepadState()  # reused: no per-event allocation of the message object
        self._lock = threading.Lock()  # a flush never lands between a length prefix and its payload
        self.records = 0
        self._timer = FlushTimer(self.flush, "actions", flush_interval_ns)

    def write(self, snapshot: InputSnapshot) -> None:
        message = self._message
        message.Clear()
        _fill(message, snapshot)
        payload = message.SerializeToString()
        with self._lock:
            assert self._file is not None, "ActionsWriter is closed"
            self._file.write(_LENGTH.pack(len(payload)))
            self._file.write(payload)
            self.records += 1

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        self._timer.stop()
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _fill(message: GamepadState, snapshot: InputSnapshot) -> None:
    """Set an empty message's fields from a snapshot."""
    message.monotonic_ns = snapshot.monotonic_ns
    message.axes.extend(snapshot.axes)
    message.pressed_buttons.extend(snapshot.pressed_buttons)
    message.pressed_keys.extend(snapshot.pressed_keys)
    message.pressed_mouse_buttons.extend(snapshot.pressed_mouse_buttons)
    if snapshot.mouse is not None:
        message.mouse_x, message.mouse_y = snapshot.mouse
    message.reason = snapshot.reason


def encode_record(snapshot: InputSnapshot) -> bytes:
    """One framed record (length prefix + payload), as ActionsWriter writes it."""
    message = GamepadState()
    _fill(message, snapshot)
    payload: bytes = message.SerializeToString()
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
    """Parse actions.bin into snapshots. A torn tail (partial length or payload: a crash mid-write)
    is reported in `torn_bytes`; a payload that is not a GamepadState raises ActionsFormatError with
    its offset. For long sessions prefer `read_actions_table` (columns, no per-record objects)."""
    table = read_actions_table(path)
    return ActionsLog(table.snapshots(), table.torn_bytes, table.valid_bytes)


def read_actions_table(path: Path) -> ActionsTable:
    """Parse actions.bin into numpy columns (vectorized; see `decode_actions`)."""
    return decode_actions(path.read_bytes(), str(path))


# ---------------------------------------------------------------------------------------------
# Columnar reader. A one-hour session holds about a million records, so the reader never builds a
# Python object per record: it finds record boundaries and decodes GamepadState fields with numpy,
# field by field across all records at once. Records in a layout the fast path does not expect
# (fields out of order, unpacked repeated fields, unknown fields, monotonic_ns == 0) are decoded
# one by one with the protobuf library, so the result always equals what protobuf would parse.
# ---------------------------------------------------------------------------------------------

# Wire tags (field number << 3 | wire type) in the order protobuf serializes them.
_TAG_TIME = 0x08  # 1: uint64 varint
_TAG_AXES = 0x12  # 2: packed float
_TAG_BUTTONS = 0x1A  # 3: packed uint32
_TAG_KEYS = 0x22  # 4: packed uint32
_TAG_MOUSE_BUTTONS = 0x2A  # 5: packed uint32
_TAG_MOUSE_X = 0x30  # 6: int32 varint
_TAG_MOUSE_Y = 0x38  # 7: int32 varint
_TAG_REASON = 0x40  # 8: uint32 varint
_PAD = 16  # zero bytes after the data, so gathers a few bytes past a record never go out of range


@dataclass(frozen=True, slots=True)
class Ragged:
    """A repeated field for every record: record i holds values[offsets[i]:offsets[i + 1]]."""

    values: np.ndarray
    offsets: np.ndarray  # int64, len(records) + 1

    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def row(self, index: int) -> np.ndarray:
        return self.values[self.offsets[index] : self.offsets[index + 1]]

    def record_ids(self) -> np.ndarray:
        """The record index of every value."""
        return np.repeat(np.arange(len(self.offsets) - 1), self.counts())


@dataclass(frozen=True, slots=True)
class ActionsTable:
    """actions.bin as columns, one row per complete record, in file order."""

    monotonic_ns: np.ndarray  # int64 (uint64 on the wire; real clocks stay far below 2**63)
    reason: np.ndarray  # uint32
    axes: Ragged  # float32
    pressed_buttons: Ragged  # uint32
    pressed_keys: Ragged  # uint32
    pressed_mouse_buttons: Ragged  # uint32
    mouse_x: np.ndarray  # int32 (0 when absent)
    mouse_y: np.ndarray  # int32
    has_mouse: np.ndarray  # bool
    record_offsets: np.ndarray  # int64 byte offset of each record's length prefix
    torn_bytes: int = 0
    valid_bytes: int = 0
    slow_records: int = 0  # records decoded by the protobuf fallback
    # Byte ranges [start, end) skipped in the middle of the file: a length prefix that cannot be
    # true (corruption, not a crash), after which reading resumed at the next valid record.
    corrupt_ranges: tuple[tuple[int, int], ...] = ()

    def __len__(self) -> int:
        return len(self.monotonic_ns)

    def snapshot(self, index: int) -> InputSnapshot:
        return InputSnapshot(
            monotonic_ns=int(self.monotonic_ns.view(np.uint64)[index]),  # the wire type is uint64
            axes=tuple(float(v) for v in self.axes.row(index)),
            pressed_buttons=tuple(int(v) for v in self.pressed_buttons.row(index)),
            pressed_keys=tuple(int(v) for v in self.pressed_keys.row(index)),
            pressed_mouse_buttons=tuple(int(v) for v in self.pressed_mouse_buttons.row(index)),
            mouse=(int(self.mouse_x[index]), int(self.mouse_y[index])) if self.has_mouse[index] else None,
            reason=int(self.reason[index]),
        )

    def snapshots(self) -> list[InputSnapshot]:
        return [self.snapshot(i) for i in range(len(self))]


def _record_starts(buf: np.ndarray, size: int) -> tuple[np.ndarray, int, list[tuple[int, int]]]:
    """Byte offsets of every complete record, the end of the last one, and corrupt ranges skipped.

    The length prefixes form a chain that only a sequential walk can follow, so walk it in runs:
    a position is a *candidate* start when it looks like `<u16 length> 00 00 08` (a length below
    64 KiB, then the tag of monotonic_ns). From a true record start, whenever the next candidate
    is exactly where the length says the next record begins, that candidate is the next record
    too, so a whole run of consecutive candidates is accepted in one numpy slice. The Python loop
    only runs once per break in the chain (a false candidate inside a payload, or a record that
    does not look like a candidate), which is rare.

    A length prefix that runs past the end of the file (or above MAX_RECORD_BYTES) is a torn tail
    only when nothing valid follows it. When a chain of valid records resumes later in the file,
    the bytes in between are corruption in the middle: they are skipped and reported, and every
    record after them is kept (a crash never leaves whole records after its torn write).
    """
    tags = np.flatnonzero(buf[4:size] == _TAG_TIME)
    cand = tags[(buf[tags + 2] == 0) & (buf[tags + 3] == 0)]
    lengths = buf[cand].astype(np.int64) | (buf[cand + 1].astype(np.int64) << 8)
    keep = lengths > 0
    cand, lengths = cand[keep], lengths[keep]
    nxt = cand + 4 + lengths
    count = len(cand)
    breaks = np.flatnonzero(nxt[:-1] != cand[1:]) if count else np.zeros(0, np.int64)
    breaks = np.append(breaks, count - 1)
    parts: list[np.ndarray] = []
    skipped: list[tuple[int, int]] = []
    pos = 0
    while pos + 4 <= size:
        i = int(np.searchsorted(cand, pos)) if count else 0
        if i < count and cand[i] == pos:
            j = int(breaks[np.searchsorted(breaks, i)])
            if nxt[j] <= size:
                parts.append(cand[i : j + 1])
                pos = int(nxt[j])
                continue
            parts.append(cand[i:j])  # the run's last record is cut off: check it the slow way
            pos = int(cand[j])
        (length,) = _LENGTH.unpack(buf[pos : pos + 4].tobytes())
        if length > MAX_RECORD_BYTES or pos + 4 + length > size:
            resume = _resume_at(pos, cand, nxt, breaks, size)
            if resume is None:
                break  # a torn tail
            skipped.append((pos, resume))
            pos = resume
            continue
        parts.append(np.array([pos], np.int64))
        pos += 4 + length
    starts = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return starts, pos if pos <= size else size, skipped


def _resume_at(pos: int, cand: np.ndarray, nxt: np.ndarray, breaks: np.ndarray, size: int) -> int | None:
    """The first candidate after `pos` that starts a believable chain: at least two consecutive
    records, or one that ends exactly at the end of the file. None when there is none (a torn tail)."""
    for i in range(int(np.searchsorted(cand, pos + 1)), len(cand)):
        if nxt[i] > size:
            continue
        j = int(breaks[np.searchsorted(breaks, i)])
        if j > i or nxt[i] == size:
            return int(cand[i])
    return None


def _varints(buf: np.ndarray, pos: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one varint at each position: (value as uint64, byte length, ok = ended within width).

    One pass per byte place (not per record), stopping as soon as every varint has ended.
    """
    value = np.zeros(len(pos), np.uint64)
    length = np.zeros(len(pos), np.int64)
    open_ = np.ones(len(pos), bool)
    for place in range(width):
        byte = buf[pos + place]
        digits = (byte & 0x7F).astype(np.uint64) << np.uint64(7 * place)
        value |= np.where(open_, digits, np.uint64(0))
        length += open_
        open_ &= (byte & 0x80) != 0
        if not open_.any():
            break
    return value, length, ~open_


class _Cursor:
    """Per-record read position while the fields are decoded in order."""

    def __init__(self, buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        self.buf, self.pos, self.end = buf, start.copy(), end
        self.bad = np.zeros(len(start), bool)

    def at(self, tag: int) -> np.ndarray:
        """Indices of records whose next field has this tag."""
        return np.flatnonzero((self.pos < self.end) & (self.buf[self.pos] == tag) & ~self.bad)

    def scalar(self, tag: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.at(tag)
        value, length, ok = _varints(self.buf, self.pos[rows] + 1, width)
        self.bad[rows[~ok]] = True
        self.pos[rows] += 1 + length
        return rows, value

    def region(self, tag: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A length-delimited field: (rows, payload start, payload length)."""
        rows = self.at(tag)
        size, length, ok = _varints(self.buf, self.pos[rows] + 1, 3)
        size = size.astype(np.int64)
        start = self.pos[rows] + 1 + length
        ok &= start + size <= self.end[rows]
        self.bad[rows[~ok]] = True
        size[~ok] = 0
        self.pos[rows] = start + size
        return rows, start, size


def _gather_regions(buf: np.ndarray, start: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The bytes of many (start, size) regions, concatenated."""
    total = int(size.sum())
    first = np.cumsum(size) - size
    return buf[np.repeat(start - first, size) + np.arange(total)]


def _packed_uint32(
    buf: np.ndarray, rows: np.ndarray, start: np.ndarray, size: np.ndarray, records: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode packed uint32 varint regions: (values, count per record, records to redo slowly)."""
    data = _gather_regions(buf, start, size)
    counts = np.zeros(records, np.int64)
    if len(data) == 0:
        return np.zeros(0, np.uint32), counts, np.zeros(0, np.int64)
    if not (data & 0x80).any():  # the common case: every value below 128 is one byte
        counts[rows] = size
        return data.astype(np.uint32), counts, np.zeros(0, np.int64)
    final = (data & 0x80) == 0
    region_last = np.cumsum(size) - 1
    nonempty = size > 0
    bad = rows[nonempty][~final[region_last[nonempty]]]  # a region must end on a varint's last byte
    firsts = np.concatenate(([0], np.flatnonzero(final)[:-1] + 1))
    varint_of_byte = np.cumsum(final) - final
    place = np.arange(len(data)) - firsts[np.minimum(varint_of_byte, len(firsts) - 1)]
    too_long = place >= 5
    if too_long.any() or len(bad):
        return np.zeros(0, np.uint32), counts, np.union1d(bad, rows)  # rare: redo all of them slowly
    digits = (data & 0x7F).astype(np.uint64) << (place.astype(np.uint64) * np.uint64(7))
    values = np.add.reduceat(digits, firsts).astype(np.uint32)
    region_first = (np.cumsum(size) - size)[nonempty]
    counts[rows[nonempty]] = np.add.reduceat(final.astype(np.int64), region_first)
    return values, counts, np.zeros(0, np.int64)


def decode_actions(data: bytes, name: str = "actions.bin") -> ActionsTable:
    """Parse the bytes of an actions.bin into an ActionsTable (see read_actions_table)."""
    size = len(data)
    buf = np.zeros(size + _PAD, np.uint8)
    buf[:size] = np.frombuffer(data, np.uint8)
    starts, valid, skipped = _record_starts(buf, size)
    n = len(starts)
    lengths = (
        buf[starts].astype(np.int64)
        | (buf[starts + 1].astype(np.int64) << 8)
        | (buf[starts + 2].astype(np.int64) << 16)
        | (buf[starts + 3].astype(np.int64) << 24)
    )
    cursor = _Cursor(buf, starts + 4, starts + 4 + lengths)

    monotonic = np.zeros(n, np.uint64)
    rows, value = cursor.scalar(_TAG_TIME, 10)
    monotonic[rows] = value

    rows, start, nbytes = cursor.region(_TAG_AXES)
    odd = nbytes % 4 != 0
    cursor.bad[rows[odd]] = True
    nbytes[odd] = 0
    # A float32 view at every byte offset (stride 1): gather whole floats, not their bytes.
    floats_at = np.ndarray(shape=(size + _PAD - 3,), dtype="<f4", buffer=buf, strides=(1,))
    float_counts = nbytes // 4
    first = np.cumsum(float_counts) - float_counts
    axes_values = floats_at[
        np.repeat(start - 4 * first, float_counts) + 4 * np.arange(int(float_counts.sum()))
    ].astype(np.float32)
    axes_counts = np.zeros(n, np.int64)
    axes_counts[rows] = nbytes // 4

    packed: list[tuple[np.ndarray, np.ndarray]] = []
    for tag in (_TAG_BUTTONS, _TAG_KEYS, _TAG_MOUSE_BUTTONS):
        rows, start, nbytes = cursor.region(tag)
        values, counts, redo = _packed_uint32(buf, rows, start, nbytes, n)
        cursor.bad[redo] = True
        packed.append((values, counts))

    has_mouse = np.zeros(n, bool)
    mouse = []
    for tag in (_TAG_MOUSE_X, _TAG_MOUSE_Y):
        column = np.zeros(n, np.int32)
        rows, value = cursor.scalar(tag, 10)
        column[rows] = value.view(np.int64).astype(np.int32)  # int32 varints are sign-extended to 64 bits
        has_mouse[rows] = True
        mouse.append(column)
    reason = np.zeros(n, np.uint32)
    rows, value = cursor.scalar(_TAG_REASON, 10)
    reason[rows] = value.astype(np.uint32)

    # Anything not consumed exactly (other layouts, unknown fields, bad varints) is redone by protobuf.
    slow = np.flatnonzero(cursor.bad | (cursor.pos != cursor.end) | (monotonic == 0))
    ragged_parts = [(axes_values, axes_counts), *packed]
    if len(slow):
        ragged_parts = _decode_slowly(
            data, name, starts, lengths, slow, monotonic, reason, mouse, has_mouse, ragged_parts
        )
    ragged = [Ragged(values, np.concatenate(([0], np.cumsum(counts)))) for values, counts in ragged_parts]
    return ActionsTable(
        monotonic_ns=monotonic.view(np.int64),
        reason=reason,
        axes=ragged[0],
        pressed_buttons=ragged[1],
        pressed_keys=ragged[2],
        pressed_mouse_buttons=ragged[3],
        mouse_x=mouse[0],
        mouse_y=mouse[1],
        has_mouse=has_mouse,
        record_offsets=starts,
        torn_bytes=size - valid,
        valid_bytes=valid,
        slow_records=len(slow),
        corrupt_ranges=tuple(skipped),
    )


def _decode_slowly(
    data: bytes,
    name: str,
    starts: np.ndarray,
    lengths: np.ndarray,
    slow: np.ndarray,
    monotonic: np.ndarray,
    reason: np.ndarray,
    mouse: list[np.ndarray],
    has_mouse: np.ndarray,
    ragged_parts: list[tuple[np.ndarray, np.ndarray]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Decode the `slow` records with protobuf and splice them into the columns."""
    message = GamepadState()
    view = memoryview(data)
    lists: list[list[list[float] | list[int]]] = [[], [], [], []]
    for index in slow:
        offset, length = int(starts[index]), int(lengths[index])
        try:
            message.ParseFromString(view[offset + 4 : offset + 4 + length])  # type: ignore[arg-type]  # upb parses any buffer, no copy
        except Exception as exc:  # protobuf raises DecodeError, a plain Exception subclass
            message_text = f"{name}: record at byte {offset} is not a GamepadState: {exc}"
            raise ActionsFormatError(message_text) from None
        monotonic[index] = message.monotonic_ns
        reason[index] = message.reason
        present = message.HasField("mouse_x")
        has_mouse[index] = present
        mouse[0][index] = message.mouse_x if present else 0
        mouse[1][index] = message.mouse_y if message.HasField("mouse_y") else 0
        lists[0].append(list(message.axes))
        lists[1].append(list(message.pressed_buttons))
        lists[2].append(list(message.pressed_keys))
        lists[3].append(list(message.pressed_mouse_buttons))
    spliced = []
    for (values, counts), slow_lists in zip(ragged_parts, lists, strict=True):
        keep = ~np.isin(np.repeat(np.arange(len(counts)), counts), slow)
        new_counts = counts.copy()
        new_counts[slow] = [len(row) for row in slow_lists]
        out = np.zeros(int(new_counts.sum()), values.dtype)
        offsets = np.concatenate(([0], np.cumsum(new_counts)))
        fast_rows = np.ones(len(counts), bool)
        fast_rows[slow] = False
        fast_positions = np.repeat(offsets[:-1][fast_rows], counts[fast_rows]) + (
            np.arange(int(counts[fast_rows].sum()))
            - np.repeat(np.cumsum(counts[fast_rows]) - counts[fast_rows], counts[fast_rows])
        )
        out[fast_positions] = values[keep]
        for index, row in zip(slow, slow_lists, strict=True):
            out[offsets[index] : offsets[index + 1]] = row
        spliced.append((out, new_counts))
    return spliced

"""sync.csv: one row per encoded video frame, `frame_index,monotonic_ns,pts`.

`frame_index` counts frames in the video from 0; `monotonic_ns` is the recording clock at the
moment the frame was captured; `pts` is the frame's presentation timestamp in the video stream's
time base (grimjobs writes 1/90000). See docs/FORMATS.md.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grimjobs.session.flushing import FLUSH_INTERVAL_NS, FlushTimer

HEADER = "frame_index,monotonic_ns,pts"


class SyncFormatError(ValueError):
    pass


class SyncWriter:
    """Appends rows; a timer thread flushes them to the OS every 200 ms (crash safety: at most
    250 ms of rows in user space, even while no frames come, e.g. during a window gap)."""

    def __init__(self, path: Path, flush_interval_ns: int = FLUSH_INTERVAL_NS) -> None:
        self.path = path
        self._file: io.TextIOWrapper | None = open(path, "w", encoding="ascii", newline="\n")  # noqa: SIM115
        self._file.write(HEADER + "\n")
        self._file.flush()
        self._lock = threading.Lock()  # a flush never lands inside a row
        self.rows = 0
        self._timer = FlushTimer(self.flush, "sync", flush_interval_ns)

    def write(self, frame_index: int, monotonic_ns: int, pts: int) -> None:
        row = f"{frame_index},{monotonic_ns},{pts}\n"
        with self._lock:
            assert self._file is not None, "SyncWriter is closed"
            self._file.write(row)
            self.rows += 1

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


def write_sync_table(path: Path, monotonic_ns: np.ndarray, pts: np.ndarray) -> None:
    """Write a whole sync.csv at once (frame_index = row number), e.g. a repaired or generated one."""
    with open(path, "w", encoding="ascii", newline="\n") as file:
        file.write(HEADER + "\n")
        if len(monotonic_ns):
            rows = np.column_stack((np.arange(len(monotonic_ns)), monotonic_ns, pts))
            np.savetxt(file, rows, fmt="%d", delimiter=",")


@dataclass(frozen=True, slots=True)
class SyncTable:
    """sync.csv as columns. `torn` is True when the last line was cut off (a crash) and dropped."""

    frame_index: np.ndarray  # int64
    monotonic_ns: np.ndarray  # int64
    pts: np.ndarray  # int64
    torn: bool = False

    def __len__(self) -> int:
        return len(self.frame_index)


def read_sync(path: Path) -> SyncTable:
    """Parse sync.csv. A cut-off last line is dropped and reported as `torn`; anything else malformed
    raises SyncFormatError naming the line."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    if not lines or lines[0].strip() != HEADER.encode():
        raise SyncFormatError(f"{path}: first line must be {HEADER!r}")
    torn = False
    body = lines[1:]
    if body and body[-1] == b"":
        body.pop()  # the file ends with a newline
    elif body:
        torn = True  # no newline after the last row: it was being written when the recorder died
        body.pop()
    if not body:
        empty = np.zeros(0, dtype=np.int64)
        return SyncTable(empty, empty.copy(), empty.copy(), torn)
    fast = _parse_digits(data, len(lines[0]) + 1, len(body))
    if fast is not None:
        return SyncTable(fast[:, 0].copy(), fast[:, 1].copy(), fast[:, 2].copy(), torn)
    try:
        table = np.array([row.split(b",") for row in body], dtype=np.int64)
    except ValueError:
        table = None
    if table is None or table.ndim != 2 or table.shape[1] != 3:
        for number, row in enumerate(body, start=2):
            parts = row.split(b",")
            if len(parts) != 3 or not all(p.strip().lstrip(b"-").isdigit() for p in parts):
                raise SyncFormatError(f"{path}:{number}: expected three integers, got {row[:80]!r}")
        raise SyncFormatError(f"{path}: malformed rows")
    return SyncTable(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy(), torn)


_DIGIT_WIDTH = 19  # int64 holds every 18-digit number; longer fields take the checked slow path


def _parse_digits(data: bytes, body_start: int, rows: int) -> np.ndarray | None:
    """Vectorized parse of `rows` lines of three unsigned decimal fields, or None when the body is
    anything else (signs, spaces, CRLF, wrong field count), which the checked slow path handles.

    Works on the bytes directly: field boundaries are the separator positions, and each field's
    value is the sum of its digits times powers of ten by place from the field's end.
    """
    raw = np.frombuffer(data, np.uint8, offset=body_start)
    newlines = np.flatnonzero(raw == 0x0A)
    if len(newlines) < rows:
        return None
    raw = raw[: newlines[rows - 1] + 1]  # the complete rows (a torn tail is left out)
    separators = (raw == 0x2C) | (raw == 0x0A)
    ends = np.flatnonzero(separators)
    if len(ends) != 3 * rows or not np.array_equal(ends[2::3], newlines[:rows]):
        return None
    if not (((raw >= 0x30) & (raw <= 0x39)) | separators).all():
        return None
    starts = np.concatenate(([0], ends[:-1] + 1))
    widths = ends - starts
    if widths.min() < 1 or widths.max() > 18:
        return None
    digits = (raw - 0x30).astype(np.int64)
    digits[separators] = 0
    place = np.repeat(ends, widths + 1) - np.arange(len(raw)) - 1  # 0 at the last digit
    place[separators] = 0
    values = np.add.reduceat(digits * (10 ** place.clip(0, 18)), starts)
    return values.reshape(rows, 3)

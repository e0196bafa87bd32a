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


COLUMNS = tuple(HEADER.split(","))
MAX_FIELD_DIGITS = 18  # every 18-digit number fits int64; longer fields are malformed, not parsed


def read_sync(path: Path) -> SyncTable:
    """Parse sync.csv with pyarrow's CSV reader. A cut-off last line (no newline after it: the
    recorder died while writing it) is dropped and reported as `torn`; anything else malformed
    (a wrong header, field count, non-integer or over-long field, an empty line) raises
    SyncFormatError naming the line."""
    data = path.read_bytes()
    header_end = data.find(b"\n")
    header = data if header_end < 0 else data[:header_end]
    if header.strip() != HEADER.encode():
        raise SyncFormatError(f"{path}: first line must be {HEADER!r}")
    body_start = len(data) if header_end < 0 else header_end + 1
    body_end = max(data.rfind(b"\n") + 1, body_start)
    torn = body_end < len(data)  # bytes after the last newline: a row cut off mid-write
    if body_end == body_start:
        empty = np.zeros(0, dtype=np.int64)
        return SyncTable(empty, empty.copy(), empty.copy(), torn)
    import pyarrow as pa
    import pyarrow.csv as pacsv

    body = pa.py_buffer(memoryview(data)[body_start:body_end])
    try:
        table = pacsv.read_csv(
            body,
            read_options=pacsv.ReadOptions(column_names=list(COLUMNS), block_size=1 << 24),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.int64() for name in COLUMNS}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise SyncFormatError(_locate(path, data[body_start:body_end], exc)) from None
    columns = []
    for name in COLUMNS:
        column = table.column(name)
        if column.null_count:
            raise SyncFormatError(_locate(path, data[body_start:body_end], f"an empty {name}"))
        columns.append(column.to_numpy().astype(np.int64, copy=True))
    return SyncTable(columns[0], columns[1], columns[2], torn)


def _locate(path: Path, body: bytes, problem: object) -> str:
    """Name the first malformed line (only on the error path, so a Python loop is fine)."""
    for number, row in enumerate(body.split(b"\n")[:-1], start=2):
        parts = row.rstrip(b"\r").split(b",")
        fields_ok = len(parts) == 3 and all(
            p.strip().lstrip(b"-").isdigit() and len(p.strip().lstrip(b"-")) <= MAX_FIELD_DIGITS
            for p in parts
        )
        if not fields_ok:
            expected = f"three integers of at most {MAX_FIELD_DIGITS} digits"
            return f"{path}:{number}: expected {expected}, got {row[:80]!r}"
    return f"{path}: malformed rows ({str(problem).splitlines()[0][:200]})"

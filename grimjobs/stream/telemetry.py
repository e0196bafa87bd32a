"""Telemetry: incremental tail of a JSONL file (the retail Lua shim's `telemetry_events.jsonl`).

Non-blocking reads, no inotify: `poll()` returns the complete new lines since the last call. The
file may appear later, be truncated (read again from the start) or rotated (a new inode at the
same path: the rest of the old file is drained first). Malformed lines are logged and skipped;
a torn last line waits for its newline. Memory is bounded: a line longer than `max_line` is
dropped with a warning.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from grimjobs.clock import now_ns
from grimjobs.stream import protocol as p

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TelemetryEvent:
    seq: int | None
    label: str
    timestamp: int | None
    data: Any


def parse_event(record: Any) -> TelemetryEvent | None:
    """A telemetry record {seq, label|event, timestamp, data}; None when it is not one."""
    if not isinstance(record, dict):
        return None
    label = record.get("label", record.get("event"))
    if not isinstance(label, str):
        return None
    seq = record.get("seq")
    ts = record.get("timestamp")
    data = record.get("data")
    if data is None:
        data = {k: v for k, v in record.items() if k not in ("seq", "label", "timestamp")} or None
    return TelemetryEvent(
        seq=seq if type(seq) is int and seq >= 0 else None,
        label=label,
        timestamp=ts if type(ts) is int and ts >= 0 else None,
        data=data,
    )


def _int_or_float(text: str) -> int | float:
    """An integer MessagePack can carry (i64..u64), else a float: what serde_json does for the
    reference, and one such line must not stop the stream."""
    value = int(text)
    return value if -(1 << 63) <= value < (1 << 64) else float(value)


class JsonlTailer:
    def __init__(self, path: Path, max_line: int = 1 << 20, chunk: int = 1 << 16) -> None:
        self.path = Path(path)
        self.max_line = max_line
        self.chunk = chunk
        self._file: BinaryIO | None = None
        self._inode: tuple[int, int] | None = None
        self._pos = 0
        self._partial = bytearray()
        self._skipping_long = False
        self.malformed = 0
        self.truncations = 0
        self.rotations = 0

    def _open(self) -> bool:
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - kept open across polls
        except FileNotFoundError:
            return False
        st = os.fstat(f.fileno())
        self._file, self._inode, self._pos = f, (st.st_dev, st.st_ino), 0
        self._partial.clear()
        return True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def poll(self, max_bytes: int = 4 << 20) -> list[Any]:
        """Parsed JSON values of the complete lines appended since the last poll."""
        out: list[Any] = []
        if self._file is None and not self._open():
            return out
        assert self._file is not None
        try:
            st = os.stat(self.path)
            current = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            current = None
        out += self._read(max_bytes)
        if current is not None and current != self._inode:
            self.rotations += 1
            log.info("telemetry %s was rotated; following the new file", self.path)
            self.close()
            if self._open():
                out += self._read(max_bytes)
        elif current is not None and st.st_size < self._pos:
            self.truncations += 1
            log.info("telemetry %s was truncated; reading it from the start", self.path)
            self._file.seek(0)
            self._pos = 0
            self._partial.clear()
            out += self._read(max_bytes)
        return out

    def _read(self, max_bytes: int) -> list[Any]:
        assert self._file is not None
        out: list[Any] = []
        budget = max_bytes
        while budget > 0:
            data = self._file.read(min(self.chunk, budget))
            if not data:
                break
            self._pos += len(data)
            budget -= len(data)
            start = 0
            while True:
                nl = data.find(b"\n", start)
                if nl < 0:
                    if not self._skipping_long:
                        self._partial += data[start:]
                        if len(self._partial) > self.max_line:
                            log.warning(
                                "telemetry %s: line longer than %d bytes skipped", self.path, self.max_line
                            )
                            self.malformed += 1
                            self._partial.clear()
                            self._skipping_long = True
                    break
                if self._skipping_long:
                    self._skipping_long = False
                else:
                    self._partial += data[start:nl]
                    self._emit(bytes(self._partial), out)
                self._partial.clear()
                start = nl + 1
        return out

    def _emit(self, line: bytes, out: list[Any]) -> None:
        line = line.strip()
        if not line:
            return
        try:
            out.append(json.loads(line, parse_int=_int_or_float))
        except (ValueError, UnicodeDecodeError) as exc:
            self.malformed += 1
            log.warning("telemetry %s: malformed line skipped (%s): %.80r", self.path, exc, line)


class TelemetryForwarder:
    """Tailed telemetry lines -> TELEMETRY (seq kept), labelled ones also -> TIMELINE_MARK."""

    def __init__(self, tailer: JsonlTailer, send: Any, marks: list[str], coalesce_above: int) -> None:
        self.tailer = tailer
        self.send = send
        self.marks = tuple(marks)
        self.coalesce_above = coalesce_above
        self._next_seq = 0
        self._mark_seq = 0
        self.events = 0
        self.coalesced = 0

    def poll(self) -> None:
        values = self.tailer.poll()
        events = []
        for value in values:
            event = parse_event(value)
            if event is None:
                self.tailer.malformed += 1
                log.warning("telemetry %s: line is not a telemetry event, skipped", self.tailer.path)
                continue
            seq = event.seq if event.seq is not None else self._next_seq
            self._next_seq = seq + 1
            events.append((seq, event))
        if not events:
            return
        self.events += len(events)
        if len(events) > self.coalesce_above:
            # Under load: one message carrying every event, each with its own seq.
            self.coalesced += 1
            self.send(
                p.Telemetry(
                    seq=events[-1][0],
                    label="telemetry.batch",
                    timestamp=events[-1][1].timestamp,
                    data=[
                        {"seq": s, "label": e.label, "timestamp": e.timestamp, "data": e.data}
                        for s, e in events
                    ],
                )
            )
        else:
            for seq, e in events:
                self.send(p.Telemetry(seq=seq, label=e.label, timestamp=e.timestamp, data=e.data))
        t = now_ns()
        for _, e in events:
            if self.marks and e.label.startswith(self.marks):
                self.send(p.TimelineMark(self._mark_seq, t, e.label, e.data))
                self._mark_seq += 1

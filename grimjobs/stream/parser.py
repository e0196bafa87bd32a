"""GrimStream v1 parsing: header checks, payload decoding, and the incremental FrameParser.

Pure: no sockets, no threads. Decoding never raises anything but ProtocolError for any byte
string; FRAMEs are decoded without copying their pixels.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import msgpack

from grimjobs.stream.messages import (
    HEADER_LEN,
    MAGIC,
    MESSAGE_TYPES,
    VERSION,
    Buffer,
    Frame,
    Message,
    MessageKind,
)
from grimjobs.stream.packing import FatalStreamError, ProtocolError

DEFAULT_MAX_PAYLOAD: Final = 64 * 1024 * 1024

_HEADER = struct.Struct(">4sHHI")
# MessagePack type byte -> width of what follows, for the FRAME fast path (uint8..64; bin8..32)
_UINT_WIDTH: Final = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
_BIN_WIDTH: Final = {0xC4: 1, 0xC5: 2, 0xC6: 4}


@dataclass(frozen=True, slots=True)
class Header:
    version: int
    kind: int
    length: int


def decode_header(data: Buffer, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Header:
    """Parse and check a 12-byte header. Raises FatalStreamError for bad magic, an unsupported
    version or a length above `max_payload` (checked before anything is allocated)."""
    if len(data) < HEADER_LEN:
        raise ProtocolError(f"header needs {HEADER_LEN} bytes, got {len(data)}")
    magic, version, kind, length = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise FatalStreamError(f"bad magic {bytes(magic)!r} (expected b'GRIM')")
    if version != VERSION:
        raise FatalStreamError(f"unsupported protocol version {version} (this side speaks {VERSION})")
    if length > max_payload:
        raise FatalStreamError(f"payload of {length} bytes exceeds stream.max_payload={max_payload}")
    return Header(version, kind, length)


def _unpack_map(payload: Buffer, kind_name: str) -> dict[str, Any]:
    try:
        value = msgpack.unpackb(payload, raw=False, strict_map_key=False, use_list=True)
    except Exception as exc:  # msgpack raises several types (ExtraData, FormatError, ValueError...)
        raise ProtocolError(f"{kind_name}: malformed MessagePack payload: {exc}") from exc
    if not isinstance(value, dict):
        raise ProtocolError(f"{kind_name}: payload is {type(value).__name__}, expected a map")
    return value


def _read_uint_at(buf: memoryview, pos: int) -> tuple[int | None, int] | None:
    """Fast path for the FRAME scanner: an unsigned int or nil at pos -> (value, next pos)."""
    b = buf[pos]
    if b <= 0x7F:
        return b, pos + 1
    if b == 0xC0:
        return None, pos + 1
    n = _UINT_WIDTH.get(b)
    if n is None or pos + 1 + n > len(buf):
        return None
    return int.from_bytes(buf[pos + 1 : pos + 1 + n], "big"), pos + 1 + n


def _read_str_at(buf: memoryview, pos: int) -> tuple[str, int] | None:
    b = buf[pos]
    if 0xA0 <= b <= 0xBF:
        n, start = b & 0x1F, pos + 1
    elif b == 0xD9 and pos + 1 < len(buf):
        n, start = buf[pos + 1], pos + 2
    else:
        return None
    if start + n > len(buf):
        return None
    try:
        return str(buf[start : start + n], "utf-8"), start + n
    except UnicodeDecodeError:
        return None


def _decode_frame_fast(payload: memoryview) -> Frame | None:
    """Decode a FRAME without copying its pixels (`data` is a view of `payload`). Returns None
    for any layout it does not handle, so the generic decoder can decide."""
    n = len(payload)
    if n == 0:
        return None
    b = payload[0]
    if 0x80 <= b <= 0x8F:
        count, pos = b & 0x0F, 1
    else:
        return None
    values: dict[str, Any] = {}
    try:
        for _ in range(count):
            if pos >= n:
                return None
            key = _read_str_at(payload, pos)
            if key is None:
                return None
            name, pos = key
            if pos >= n:
                return None
            if name == "data":
                tag = payload[pos]
                width = _BIN_WIDTH.get(tag)
                if width is None or pos + 1 + width > n:
                    return None
                size = int.from_bytes(payload[pos + 1 : pos + 1 + width], "big")
                start = pos + 1 + width
                if start + size > n:
                    return None
                values["data"] = payload[start : start + size]
                pos = start + size
            elif name in ("frame_id", "host_time_ns", "telemetry_time_ns"):
                parsed = _read_uint_at(payload, pos)
                if parsed is None:
                    return None
                values[name], pos = parsed
            else:
                return None  # extra keys: let the generic path skip them
        if pos != n:
            return None
        return Frame.from_value(values)
    except (IndexError, ProtocolError):
        return None


def decode_payload(kind: int, payload: Buffer) -> Message:
    """Decode one payload of a known kind. Raises ProtocolError (never anything else)."""
    try:
        mkind = MessageKind(kind)
    except ValueError:
        raise ProtocolError(f"unknown message kind {kind}") from None
    if mkind is MessageKind.FRAME:
        fast = _decode_frame_fast(memoryview(payload).cast("B"))
        if fast is not None:
            return fast
    m = _unpack_map(payload, mkind.name)
    cls = MESSAGE_TYPES[mkind]
    try:
        return cls.from_value(m)
    except ProtocolError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:  # defensive: a bad shape
        raise ProtocolError(f"{mkind.name}: {exc}") from exc


def decode_message(data: Buffer, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Message:
    """Decode exactly one complete message (header + payload)."""
    header = decode_header(data, max_payload)
    payload = memoryview(data)[HEADER_LEN:]
    if len(payload) != header.length:
        raise ProtocolError(f"header declares {header.length} payload bytes, got {len(payload)}")
    return decode_payload(header.kind, payload)


def message_from_value(kind: int, value: Mapping[str, Any]) -> Message:
    """Build a typed message from the JSON form of its payload (the vectors' `value`)."""
    try:
        return MESSAGE_TYPES[MessageKind(kind)].from_value(value)
    except ValueError as exc:
        raise ProtocolError(str(exc)) from exc


# --------------------------------------------------------------------------------------------
# Incremental parser


@dataclass(frozen=True, slots=True)
class Skipped:
    """A message of a kind this side does not know: its payload was consumed and dropped."""

    kind: int
    length: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message whose payload did not decode (the stream stays in sync)."""

    kind: int
    reason: str


Event: TypeAlias = Message | Skipped | Rejected


class FrameParser:
    """Turns a byte stream into messages, incrementally.

    Two ways to feed it: `feed(bytes)` (copies into the parser), or zero-copy from a socket:
    `view = parser.buffer()`, `n = sock.recv_into(view)`, `parser.advance(n)`. Payloads are read
    into buffers from a small recycled set (`payload_buffers`), so steady-state frames reuse
    memory; a decoded FRAME's `data` is a view into such a buffer, and a buffer is only reused
    once nothing holds a view of it any more.

    Errors: FatalStreamError (bad magic, version, oversized length) leaves the parser failed: the
    caller closes the connection. Unknown kinds yield `Skipped`; undecodable payloads yield
    `Rejected`. Memory is bounded by `max_payload` per buffer.
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD, payload_buffers: int = 4) -> None:
        self.max_payload = max_payload
        self._header = bytearray(HEADER_LEN)
        self._header_view = memoryview(self._header)
        self._have = 0  # bytes filled in the current header or payload
        self._current: Header | None = None
        self._payload: bytearray | None = None
        self._payload_view: memoryview | None = None
        self._pool: list[bytearray] = []
        self._pool_limit = max(1, payload_buffers)
        self._events: list[Event] = []
        self._discard = 0  # payload bytes of an unknown kind still to drop
        self._scratch = memoryview(bytearray(65536))
        self.failed: FatalStreamError | None = None
        self.messages = 0
        self.skipped = 0
        self.rejected = 0

    # -- buffer management
    def _take_buffer(self, n: int) -> bytearray:
        pool = self._pool
        # A buffer is free when only the pool list refers to it (getrefcount adds its argument);
        # a live view (memoryview of a decoded FRAME) adds a reference. Index, not enumerate():
        # enumerate's recycled result tuple keeps one more reference to the previous item.
        for i in range(len(pool)):
            if len(pool[i]) >= n and sys.getrefcount(pool[i]) <= 2:
                return pool[i]
        # Room for a few more bytes than this payload: FRAME lengths grow by a byte or two as
        # frame_id needs a wider integer, and an exact-size buffer would then never fit again
        # (a fresh, zero-filled 3.7 MB allocation per frame). Never above max_payload.
        size = min(self.max_payload, (n + 0xFFFF) & ~0xFFFF)  # n <= max_payload (header check)
        if len(pool) < self._pool_limit:
            pool.append(bytearray(size))
            return pool[-1]
        # Every pooled buffer that fits is still held by the consumer: replace a free one that
        # is too small, or allocate one-off (never more than the pool limit retained).
        for i in range(len(pool)):
            if sys.getrefcount(pool[i]) <= 2:
                pool[i] = bytearray(size)
                return pool[i]
        return bytearray(size)

    def buffer(self) -> memoryview:
        """Where the next received bytes go (never empty unless failed)."""
        if self.failed is not None:
            raise self.failed
        if self._discard:
            return self._scratch[: min(self._discard, len(self._scratch))]
        if self._current is None:
            return self._header_view[self._have :]
        assert self._payload_view is not None
        return self._payload_view[self._have :]

    def advance(self, n: int) -> list[Event]:
        """`n` bytes were written into `buffer()`; returns the messages now complete."""
        if self._discard:
            self._discard -= n
            if self._discard:
                return []
            n = 0
        self._have += n
        self._step()
        events, self._events = self._events, []
        return events

    def feed(self, data: Buffer) -> list[Event]:
        """Copy `data` in and return the complete messages (raises FatalStreamError)."""
        src = memoryview(data).cast("B")
        out: list[Event] = []
        while len(src):
            dst = self.buffer()
            k = min(len(dst), len(src))
            dst[:k] = src[:k]
            src = src[k:]
            out.extend(self.advance(k))
        return out

    def _step(self) -> None:
        while True:
            if self._current is None:
                if self._have < HEADER_LEN:
                    return
                try:
                    header = decode_header(self._header, self.max_payload)
                except FatalStreamError as exc:
                    self.failed = exc
                    raise
                self._have = 0
                if header.kind not in MessageKind._value2member_map_:
                    # Unknown kind: consume its payload through a fixed scratch buffer.
                    self.skipped += 1
                    self._events.append(Skipped(header.kind, header.length))
                    self._discard = header.length
                    if self._discard:
                        return
                    continue
                self._current = header
                if header.length <= 4096:
                    self._payload = bytearray(header.length)
                else:
                    self._payload = self._take_buffer(header.length)
                self._payload_view = memoryview(self._payload)[: header.length]
            header = self._current
            if self._have < header.length:
                return
            assert self._payload_view is not None
            payload = self._payload_view
            self._current = None
            self._payload = None
            self._payload_view = None
            self._have = 0
            self._emit(header, payload)

    def _emit(self, header: Header, payload: memoryview) -> None:
        try:
            message = decode_payload(header.kind, payload)
        except ProtocolError as exc:
            self.rejected += 1
            self._events.append(Rejected(header.kind, str(exc)))
            return
        self.messages += 1
        self._events.append(message)

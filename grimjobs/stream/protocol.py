"""GrimStream v1 wire format: typed messages, encode/decode, and an incremental frame parser.

Pure: no sockets, no threads. Byte-compatible with the reference Rust `grim_stream` crate
(its serde structs, serialized by `rmp_serde::to_vec_named`):

- a 12-byte header: b"GRIM", version u16, kind u16, payload length u32, all big-endian;
- a MessagePack map payload keyed by field name, fields in declaration order;
- `f32` fields (`nominal_fps`, `position`, `yaw`) as float32 (0xca); JSON values (`data`) keep
  float64;
- integers in their smallest MessagePack form, strings as str, FRAME `data` as bin8/16/32;
- `Option` fields either written as nil or omitted when absent, per field (see each class);
- CONTROL is a map tagged by `kind` (`{"kind": "viewer_ready", "protocol": 1, ...}`).

The decoder is lenient where the reference is (float64 for float32 fields, integers for floats,
extra keys, any key order) and strict on types and ranges everywhere else. Decoding never
raises anything but `ProtocolError` for any byte string.
"""

from __future__ import annotations

import enum
import math
import struct
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, TypeAlias

import msgpack

MAGIC: Final = b"GRIM"
VERSION: Final = 1
HEADER_LEN: Final = 12
PROTOCOL_NAME: Final = "GrimStream"
DEFAULT_MAX_PAYLOAD: Final = 64 * 1024 * 1024
U16_MAX: Final = 0xFFFF
U32_MAX: Final = 0xFFFF_FFFF
U64_MAX: Final = 0xFFFF_FFFF_FFFF_FFFF

_HEADER = struct.Struct(">4sHHI")
_F32 = struct.Struct(">f")
# MessagePack type byte -> width of what follows, for the FRAME fast path (uint8..64; bin8..32)
_UINT_WIDTH: Final = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
_BIN_WIDTH: Final = {0xC4: 1, 0xC5: 2, 0xC6: 4}


class MessageKind(enum.IntEnum):
    HELLO = 1
    STREAM_CONFIG = 2
    FRAME = 3
    TELEMETRY = 4
    STATE_UPDATE = 5
    TIMELINE_MARK = 6
    CONTROL = 7
    HEARTBEAT = 8
    MOVIE_START = 9
    MOVIE_CONTROL = 10


class PixelFormat(enum.IntEnum):
    RGBA8 = 1


class ProtocolError(ValueError):
    """A message that does not follow GrimStream v1 (the connection may continue)."""


class FatalStreamError(ProtocolError):
    """The byte stream cannot be resynchronized (bad magic, unsupported version, oversized
    payload): the connection must be closed."""


JSONValue: TypeAlias = Any  # whatever MessagePack carries in a serde_json::Value field


# --------------------------------------------------------------------------------------------
# MessagePack writing with per-field control (float32 vs float64, nil vs omitted)


def _pack_f32(value: float) -> bytes:
    return b"\xca" + _F32.pack(value)


def _bin_header(n: int) -> bytes:
    if n < 0x100:
        return b"\xc4" + n.to_bytes(1, "big")
    if n < 0x10000:
        return b"\xc5" + n.to_bytes(2, "big")
    if n <= U32_MAX:
        return b"\xc6" + n.to_bytes(4, "big")
    raise ProtocolError(f"binary field of {n} bytes does not fit MessagePack bin32")


def _map_header(n: int) -> bytes:
    if n < 16:
        return bytes((0x80 | n,))
    return b"\xde" + n.to_bytes(2, "big")


def _array_header(n: int) -> bytes:
    if n < 16:
        return bytes((0x90 | n,))
    if n < 0x10000:
        return b"\xdc" + n.to_bytes(2, "big")
    return b"\xdd" + n.to_bytes(4, "big")


_packer = msgpack.Packer(use_bin_type=True, use_single_float=False, autoreset=True)


def _pack(value: Any) -> bytes:
    try:
        packed: bytes = _packer.pack(value)
        return packed
    except (TypeError, ValueError, OverflowError) as exc:
        raise ProtocolError(f"cannot encode {type(value).__name__} as MessagePack: {exc}") from exc


class _MapWriter:
    """Collects (key, packed value) pairs and emits a map in insertion order."""

    __slots__ = ("count", "parts")

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.count = 0

    def put(self, key: str, packed: bytes) -> None:
        self.parts.append(_pack(key))
        self.parts.append(packed)
        self.count += 1

    def value(self, key: str, value: Any) -> None:
        self.put(key, _pack(value))

    def f32(self, key: str, value: float | None) -> None:
        self.put(key, b"\xc0" if value is None else _pack_f32(value))

    def bytes(self) -> bytes:
        return _map_header(self.count) + b"".join(self.parts)


# --------------------------------------------------------------------------------------------
# Field readers for decoding (strict types, lenient floats)


def _field(m: Mapping[str, Any], key: str, kind: str) -> Any:
    if key not in m:
        raise ProtocolError(f"{kind}: missing field {key!r}")
    return m[key]


def _uint(v: Any, what: str, maximum: int = U64_MAX) -> int:
    if type(v) is not int or v < 0 or v > maximum:
        raise ProtocolError(f"{what}: expected an unsigned integer <= {maximum}, got {v!r:.60}")
    return v


def _opt_uint(v: Any, what: str, maximum: int = U64_MAX) -> int | None:
    return None if v is None else _uint(v, what, maximum)


def _str(v: Any, what: str) -> str:
    if type(v) is not str:
        raise ProtocolError(f"{what}: expected a string, got {type(v).__name__}")
    return v


def _opt_str(v: Any, what: str) -> str | None:
    return None if v is None else _str(v, what)


def _float(v: Any, what: str) -> float:
    if type(v) is float:
        return v
    if type(v) is int:
        return float(v)
    raise ProtocolError(f"{what}: expected a number, got {type(v).__name__}")


def _opt_float(v: Any, what: str) -> float | None:
    return None if v is None else _float(v, what)


def _check_f32(value: float, what: str) -> None:
    if math.isfinite(value) and abs(value) > 3.4028234663852886e38:
        raise ProtocolError(f"{what}: {value} does not fit float32")


# --------------------------------------------------------------------------------------------
# Messages


class Message:
    """Base of the typed messages: `KIND` is the header kind, `to_value()` the payload as plain
    Python values (bytes for FRAME data), `encode()` the complete wire bytes."""

    KIND: ClassVar[MessageKind]

    def payload(self) -> bytes:
        raise NotImplementedError

    def to_value(self) -> dict[str, Any]:
        raise NotImplementedError

    def encode(self) -> bytes:
        body = self.payload()
        return encode_header(self.KIND, len(body)) + body

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Message:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Hello(Message):
    """First message on a connection. `build` is written as nil when absent."""

    KIND: ClassVar[MessageKind] = MessageKind.HELLO
    producer: str
    build: str | None = None
    protocol: str = PROTOCOL_NAME

    def payload(self) -> bytes:
        w = _MapWriter()
        w.value("protocol", self.protocol)
        w.value("producer", self.producer)
        w.value("build", self.build)
        return w.bytes()

    def to_value(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "producer": self.producer, "build": self.build}

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> Hello:
        return cls(
            protocol=_str(_field(m, "protocol", "HELLO"), "HELLO.protocol"),
            producer=_str(_field(m, "producer", "HELLO"), "HELLO.producer"),
            build=_opt_str(m.get("build"), "HELLO.build"),
        )


@dataclass(frozen=True, slots=True)
class StreamConfig(Message):
    """The framebuffer format of the FRAMEs that follow. `nominal_fps` is float32, nil when
    unknown."""

    KIND: ClassVar[MessageKind] = MessageKind.STREAM_CONFIG
    width: int
    height: int
    stride_bytes: int
    pixel_format: int = PixelFormat.RGBA8
    nominal_fps: float | None = None

    def payload(self) -> bytes:
        if self.nominal_fps is not None:
            _check_f32(self.nominal_fps, "STREAM_CONFIG.nominal_fps")
        w = _MapWriter()
        w.value("width", _uint(self.width, "STREAM_CONFIG.width", U32_MAX))
        w.value("height", _uint(self.height, "STREAM_CONFIG.height", U32_MAX))
        w.value("pixel_format", _uint(int(self.pixel_format), "STREAM_CONFIG.pixel_format", U16_MAX))
        w.value("stride_bytes", _uint(self.stride_bytes, "STREAM_CONFIG.stride_bytes", U32_MAX))
        w.f32("nominal_fps", self.nominal_fps)
        return w.bytes()

    def to_value(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "pixel_format": int(self.pixel_format),
            "stride_bytes": self.stride_bytes,
            "nominal_fps": self.nominal_fps,
        }

    @property
    def frame_bytes(self) -> int:
        return self.stride_bytes * self.height

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> StreamConfig:
        pixel_format = _uint(
            _field(m, "pixel_format", "STREAM_CONFIG"), "STREAM_CONFIG.pixel_format", U16_MAX
        )
        if pixel_format not in PixelFormat._value2member_map_:
            raise ProtocolError(f"STREAM_CONFIG.pixel_format: unknown pixel format {pixel_format}")
        return cls(
            width=_uint(_field(m, "width", "STREAM_CONFIG"), "STREAM_CONFIG.width", U32_MAX),
            height=_uint(_field(m, "height", "STREAM_CONFIG"), "STREAM_CONFIG.height", U32_MAX),
            pixel_format=PixelFormat(pixel_format),
            stride_bytes=_uint(
                _field(m, "stride_bytes", "STREAM_CONFIG"), "STREAM_CONFIG.stride_bytes", U32_MAX
            ),
            nominal_fps=_opt_float(m.get("nominal_fps"), "STREAM_CONFIG.nominal_fps"),
        )


Buffer: TypeAlias = bytes | bytearray | memoryview


@dataclass(frozen=True, slots=True, eq=False)
class Frame(Message):
    """One framebuffer. `data` is any bytes-like object (a memoryview of a pooled buffer when
    received or sent zero-copy); `telemetry_time_ns` is omitted when absent."""

    KIND: ClassVar[MessageKind] = MessageKind.FRAME
    frame_id: int
    host_time_ns: int
    data: Buffer
    telemetry_time_ns: int | None = None

    def prefix(self, data_len: int | None = None) -> bytes:
        """Header + payload up to and including the bin header of `data`: sending
        `prefix() + data` is the whole message, so the pixels never need to be copied."""
        n = memoryview(self.data).nbytes if data_len is None else data_len
        fields: list[bytes] = [
            _pack("frame_id"),
            _pack(_uint(self.frame_id, "FRAME.frame_id")),
            _pack("host_time_ns"),
            _pack(_uint(self.host_time_ns, "FRAME.host_time_ns")),
        ]
        if self.telemetry_time_ns is not None:
            fields += [
                _pack("telemetry_time_ns"),
                _pack(_uint(self.telemetry_time_ns, "FRAME.telemetry_time_ns")),
            ]
        fields += [_pack("data"), _bin_header(n)]
        body_head = _map_header(len(fields) // 2) + b"".join(fields)
        total = len(body_head) + n
        if total > U32_MAX:
            raise ProtocolError(f"FRAME payload of {total} bytes does not fit the u32 length")
        return encode_header(MessageKind.FRAME, total) + body_head

    def buffers(self) -> list[Buffer]:
        """The wire bytes as a list for one gathered send (`socket.sendmsg`)."""
        view = memoryview(self.data).cast("B") if not isinstance(self.data, bytes) else self.data
        return [self.prefix(), view]

    def payload(self) -> bytes:
        return self.prefix()[HEADER_LEN:] + bytes(self.data)

    def encode(self) -> bytes:
        return self.prefix() + bytes(self.data)

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {"frame_id": self.frame_id, "host_time_ns": self.host_time_ns}
        if self.telemetry_time_ns is not None:
            value["telemetry_time_ns"] = self.telemetry_time_ns
        value["data"] = bytes(self.data)
        return value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return (
            self.frame_id == other.frame_id
            and self.host_time_ns == other.host_time_ns
            and self.telemetry_time_ns == other.telemetry_time_ns
            and memoryview(self.data).cast("B") == memoryview(other.data).cast("B")
        )

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> Frame:
        data = _field(m, "data", "FRAME")
        if isinstance(data, list):  # JSON form of the vectors: a list of byte values
            if not all(type(b) is int and 0 <= b <= 255 for b in data):
                raise ProtocolError("FRAME.data: list items must be byte values")
            data = bytes(data)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ProtocolError(f"FRAME.data: expected binary, got {type(data).__name__}")
        return cls(
            frame_id=_uint(_field(m, "frame_id", "FRAME"), "FRAME.frame_id"),
            host_time_ns=_uint(_field(m, "host_time_ns", "FRAME"), "FRAME.host_time_ns"),
            telemetry_time_ns=_opt_uint(m.get("telemetry_time_ns"), "FRAME.telemetry_time_ns"),
            data=data,
        )


@dataclass(frozen=True, slots=True)
class Telemetry(Message):
    """One (or a coalesced batch of) telemetry event(s). `timestamp` and `data` are written as nil
    when absent."""

    KIND: ClassVar[MessageKind] = MessageKind.TELEMETRY
    seq: int
    label: str
    timestamp: int | None = None
    data: JSONValue = None

    def payload(self) -> bytes:
        w = _MapWriter()
        w.value("seq", _uint(self.seq, "TELEMETRY.seq"))
        w.value("label", self.label)
        w.value("timestamp", _opt_uint(self.timestamp, "TELEMETRY.timestamp"))
        w.value("data", self.data)
        return w.bytes()

    def to_value(self) -> dict[str, Any]:
        return {"seq": self.seq, "label": self.label, "timestamp": self.timestamp, "data": self.data}

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> Telemetry:
        return cls(
            seq=_uint(_field(m, "seq", "TELEMETRY"), "TELEMETRY.seq"),
            label=_str(_field(m, "label", "TELEMETRY"), "TELEMETRY.label"),
            timestamp=_opt_uint(m.get("timestamp"), "TELEMETRY.timestamp"),
            data=m.get("data"),
        )


@dataclass(frozen=True, slots=True)
class CoverageCounter:
    key: str
    value: int

    def to_value(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}


@dataclass(frozen=True, slots=True)
class StateUpdate(Message):
    """Engine state delta. Every optional field is omitted when absent (None / empty);
    `position` (3 floats) and `yaw` are float32. `active_movie` is the reference engine's
    later addition, written last."""

    KIND: ClassVar[MessageKind] = MessageKind.STATE_UPDATE
    seq: int
    host_time_ns: int
    frame: int | None = None
    position: tuple[float, float, float] | None = None
    yaw: float | None = None
    active_setup: str | None = None
    active_hotspot: str | None = None
    coverage: tuple[CoverageCounter, ...] = ()
    events: tuple[str, ...] = ()
    active_movie: str | None = None

    def payload(self) -> bytes:
        w = _MapWriter()
        w.value("seq", _uint(self.seq, "STATE_UPDATE.seq"))
        w.value("host_time_ns", _uint(self.host_time_ns, "STATE_UPDATE.host_time_ns"))
        if self.frame is not None:
            w.value("frame", _uint(self.frame, "STATE_UPDATE.frame", U32_MAX))
        if self.position is not None:
            if len(self.position) != 3:
                raise ProtocolError("STATE_UPDATE.position: expected 3 numbers")
            for p in self.position:
                _check_f32(p, "STATE_UPDATE.position")
            w.put("position", _array_header(3) + b"".join(_pack_f32(p) for p in self.position))
        if self.yaw is not None:
            _check_f32(self.yaw, "STATE_UPDATE.yaw")
            w.f32("yaw", self.yaw)
        if self.active_setup is not None:
            w.value("active_setup", self.active_setup)
        if self.active_hotspot is not None:
            w.value("active_hotspot", self.active_hotspot)
        if self.coverage:
            w.value(
                "coverage", [{"key": c.key, "value": _uint(c.value, "coverage.value")} for c in self.coverage]
            )
        if self.events:
            w.value("events", list(self.events))
        if self.active_movie is not None:
            w.value("active_movie", self.active_movie)
        return w.bytes()

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {"seq": self.seq, "host_time_ns": self.host_time_ns}
        if self.frame is not None:
            value["frame"] = self.frame
        if self.position is not None:
            value["position"] = list(self.position)
        if self.yaw is not None:
            value["yaw"] = self.yaw
        if self.active_setup is not None:
            value["active_setup"] = self.active_setup
        if self.active_hotspot is not None:
            value["active_hotspot"] = self.active_hotspot
        if self.coverage:
            value["coverage"] = [c.to_value() for c in self.coverage]
        if self.events:
            value["events"] = list(self.events)
        if self.active_movie is not None:
            value["active_movie"] = self.active_movie
        return value

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> StateUpdate:
        position = m.get("position")
        if position is not None:
            if not isinstance(position, list | tuple) or len(position) != 3:
                raise ProtocolError("STATE_UPDATE.position: expected an array of 3 numbers")
            position = tuple(_float(p, "STATE_UPDATE.position") for p in position)
        coverage_raw = m.get("coverage")
        coverage: tuple[CoverageCounter, ...] = ()
        if coverage_raw is not None:
            if not isinstance(coverage_raw, list | tuple):
                raise ProtocolError("STATE_UPDATE.coverage: expected an array")
            items = []
            for c in coverage_raw:
                if not isinstance(c, Mapping):
                    raise ProtocolError("STATE_UPDATE.coverage: expected maps {key, value}")
                items.append(
                    CoverageCounter(
                        _str(_field(c, "key", "coverage"), "coverage.key"),
                        _uint(_field(c, "value", "coverage"), "coverage.value"),
                    )
                )
            coverage = tuple(items)
        events_raw = m.get("events")
        events: tuple[str, ...] = ()
        if events_raw is not None:
            if not isinstance(events_raw, list | tuple):
                raise ProtocolError("STATE_UPDATE.events: expected an array of strings")
            events = tuple(_str(e, "STATE_UPDATE.events") for e in events_raw)
        return cls(
            seq=_uint(_field(m, "seq", "STATE_UPDATE"), "STATE_UPDATE.seq"),
            host_time_ns=_uint(_field(m, "host_time_ns", "STATE_UPDATE"), "STATE_UPDATE.host_time_ns"),
            frame=_opt_uint(m.get("frame"), "STATE_UPDATE.frame", U32_MAX),
            position=position,  # type: ignore[arg-type]
            yaw=_opt_float(m.get("yaw"), "STATE_UPDATE.yaw"),
            active_setup=_opt_str(m.get("active_setup"), "STATE_UPDATE.active_setup"),
            active_hotspot=_opt_str(m.get("active_hotspot"), "STATE_UPDATE.active_hotspot"),
            coverage=coverage,
            events=events,
            active_movie=_opt_str(m.get("active_movie"), "STATE_UPDATE.active_movie"),
        )


@dataclass(frozen=True, slots=True)
class TimelineMark(Message):
    """A discrete labelled event (hook invocation, telemetry marker). `data` nil when absent."""

    KIND: ClassVar[MessageKind] = MessageKind.TIMELINE_MARK
    seq: int
    host_time_ns: int
    label: str
    data: JSONValue = None

    def payload(self) -> bytes:
        w = _MapWriter()
        w.value("seq", _uint(self.seq, "TIMELINE_MARK.seq"))
        w.value("host_time_ns", _uint(self.host_time_ns, "TIMELINE_MARK.host_time_ns"))
        w.value("label", self.label)
        w.value("data", self.data)
        return w.bytes()

    def to_value(self) -> dict[str, Any]:
        return {"seq": self.seq, "host_time_ns": self.host_time_ns, "label": self.label, "data": self.data}

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> TimelineMark:
        return cls(
            seq=_uint(_field(m, "seq", "TIMELINE_MARK"), "TIMELINE_MARK.seq"),
            host_time_ns=_uint(_field(m, "host_time_ns", "TIMELINE_MARK"), "TIMELINE_MARK.host_time_ns"),
            label=_str(_field(m, "label", "TIMELINE_MARK"), "TIMELINE_MARK.label"),
            data=m.get("data"),
        )


# CONTROL: a map tagged by "kind". The reference defines viewer_ready; pause/resume/step/seek
# are grimjobs extensions (the reference engine logs and ignores CONTROL kinds it does not know).
class ControlKind(enum.StrEnum):
    VIEWER_READY = "viewer_ready"
    PAUSE = "pause"
    RESUME = "resume"
    STEP = "step"
    SEEK = "seek"


@dataclass(frozen=True, slots=True)
class Control(Message):
    """A viewer -> producer command. `features` is omitted when empty; `protocol` is only written
    for viewer_ready; `frames` only for step; `frame_id` only for seek."""

    KIND: ClassVar[MessageKind] = MessageKind.CONTROL
    kind: str
    protocol: int | None = None
    features: tuple[str, ...] = ()
    frames: int | None = None
    frame_id: int | None = None

    @classmethod
    def viewer_ready(cls, features: Sequence[str] = ()) -> Control:
        return cls(ControlKind.VIEWER_READY.value, protocol=VERSION, features=tuple(features))

    @classmethod
    def pause(cls) -> Control:
        return cls(ControlKind.PAUSE.value)

    @classmethod
    def resume(cls) -> Control:
        return cls(ControlKind.RESUME.value)

    @classmethod
    def step(cls, frames: int = 1) -> Control:
        return cls(ControlKind.STEP.value, frames=frames)

    @classmethod
    def seek(cls, frame_id: int) -> Control:
        return cls(ControlKind.SEEK.value, frame_id=frame_id)

    def payload(self) -> bytes:
        w = _MapWriter()
        for k, v in self.to_value().items():
            w.value(k, v)
        return w.bytes()

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {"kind": self.kind}
        if self.protocol is not None:
            value["protocol"] = _uint(self.protocol, "CONTROL.protocol", U16_MAX)
        if self.features:
            value["features"] = list(self.features)
        if self.frames is not None:
            value["frames"] = _uint(self.frames, "CONTROL.frames", U32_MAX)
        if self.frame_id is not None:
            value["frame_id"] = _uint(self.frame_id, "CONTROL.frame_id")
        return value

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> Control:
        kind = _str(_field(m, "kind", "CONTROL"), "CONTROL.kind")
        features_raw = m.get("features")
        features: tuple[str, ...] = ()
        if features_raw is not None:
            if not isinstance(features_raw, list | tuple):
                raise ProtocolError("CONTROL.features: expected an array of strings")
            features = tuple(_str(f, "CONTROL.features") for f in features_raw)
        protocol = _opt_uint(m.get("protocol"), "CONTROL.protocol", U16_MAX)
        if kind == ControlKind.VIEWER_READY and protocol is None:
            raise ProtocolError("CONTROL viewer_ready: missing field 'protocol'")
        frames = _opt_uint(m.get("frames"), "CONTROL.frames", U32_MAX)
        frame_id = _opt_uint(m.get("frame_id"), "CONTROL.frame_id")
        if kind == ControlKind.SEEK and frame_id is None:
            raise ProtocolError("CONTROL seek: missing field 'frame_id'")
        return cls(kind=kind, protocol=protocol, features=features, frames=frames, frame_id=frame_id)


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    KIND: ClassVar[MessageKind] = MessageKind.HEARTBEAT
    host_time_ns: int

    def payload(self) -> bytes:
        w = _MapWriter()
        w.value("host_time_ns", _uint(self.host_time_ns, "HEARTBEAT.host_time_ns"))
        return w.bytes()

    def to_value(self) -> dict[str, Any]:
        return {"host_time_ns": self.host_time_ns}

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> Heartbeat:
        return cls(_uint(_field(m, "host_time_ns", "HEARTBEAT"), "HEARTBEAT.host_time_ns"))


@dataclass(frozen=True, slots=True)
class MovieStart(Message):
    KIND: ClassVar[MessageKind] = MessageKind.MOVIE_START
    name: str
    relative_path: str

    def payload(self) -> bytes:
        w = _MapWriter()
        w.value("name", self.name)
        w.value("relative_path", self.relative_path)
        return w.bytes()

    def to_value(self) -> dict[str, Any]:
        return {"name": self.name, "relative_path": self.relative_path}

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> MovieStart:
        return cls(
            name=_str(_field(m, "name", "MOVIE_START"), "MOVIE_START.name"),
            relative_path=_str(_field(m, "relative_path", "MOVIE_START"), "MOVIE_START.relative_path"),
        )


@dataclass(frozen=True, slots=True)
class MovieControl(Message):
    """Viewer -> engine: what became of a movie (`action`, e.g. "finished")."""

    KIND: ClassVar[MessageKind] = MessageKind.MOVIE_CONTROL
    name: str
    action: str

    def payload(self) -> bytes:
        w = _MapWriter()
        w.value("name", self.name)
        w.value("action", self.action)
        return w.bytes()

    def to_value(self) -> dict[str, Any]:
        return {"name": self.name, "action": self.action}

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> MovieControl:
        return cls(
            name=_str(_field(m, "name", "MOVIE_CONTROL"), "MOVIE_CONTROL.name"),
            action=_str(_field(m, "action", "MOVIE_CONTROL"), "MOVIE_CONTROL.action"),
        )


MESSAGE_TYPES: Final[dict[MessageKind, type[Message]]] = {
    MessageKind.HELLO: Hello,
    MessageKind.STREAM_CONFIG: StreamConfig,
    MessageKind.FRAME: Frame,
    MessageKind.TELEMETRY: Telemetry,
    MessageKind.STATE_UPDATE: StateUpdate,
    MessageKind.TIMELINE_MARK: TimelineMark,
    MessageKind.CONTROL: Control,
    MessageKind.HEARTBEAT: Heartbeat,
    MessageKind.MOVIE_START: MovieStart,
    MessageKind.MOVIE_CONTROL: MovieControl,
}


# --------------------------------------------------------------------------------------------
# Header and payload


@dataclass(frozen=True, slots=True)
class Header:
    version: int
    kind: int
    length: int


def encode_header(kind: int, length: int, version: int = VERSION) -> bytes:
    return _HEADER.pack(MAGIC, version, kind, length)


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


__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "HEADER_LEN",
    "MAGIC",
    "VERSION",
    "Control",
    "ControlKind",
    "CoverageCounter",
    "FatalStreamError",
    "Frame",
    "FrameParser",
    "Header",
    "Heartbeat",
    "Hello",
    "Message",
    "MessageKind",
    "MovieControl",
    "MovieStart",
    "PixelFormat",
    "ProtocolError",
    "Rejected",
    "Skipped",
    "StateUpdate",
    "StreamConfig",
    "Telemetry",
    "TimelineMark",
    "decode_header",
    "decode_message",
    "decode_payload",
    "encode_header",
    "message_from_value",
]

"""GrimStream v1 messages as declarations: one field table per message, one registry of kinds.

Each message is a frozen dataclass with `KIND` (the header kind) and `FIELDS`, its field table
in wire order: name, wire type, and what an absent value is on the wire (required, written as
nil, or omitted) -- the reference `grim_stream` serde structs, where `Option` without
`skip_serializing_if` is nil and with it is omitted. `payload()`, `to_value()` and
`from_value()` are derived from the table (`Message` below); `@register` checks the table
against the dataclass fields and records the kind once.

Adding a message kind: a `MessageKind` member and a `@register`ed class here, plus its test.

Decoding is lenient where the reference is (float64 or integers for float32 fields, extra keys,
any key order) and strict on types and ranges everywhere else; it raises only ProtocolError.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Final, Self, TypeAlias, TypeVar

from grimjobs.stream.packing import (
    F32_MAX,
    NIL,
    U16_MAX,
    U32_MAX,
    U64_MAX,
    ProtocolError,
    array_header,
    bin_header,
    map_header,
    pack,
    pack_f32,
)

MAGIC: Final = b"GRIM"
VERSION: Final = 1
HEADER_LEN: Final = 12
PROTOCOL_NAME: Final = "GrimStream"

JSONValue: TypeAlias = Any  # whatever MessagePack carries in a serde_json::Value field
Buffer: TypeAlias = bytes | bytearray | memoryview


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


class Wire(enum.Enum):
    """How a field's value is written (and read back)."""

    UINT = "uint"  # smallest MessagePack unsigned form, bounded by Field.max
    STR = "str"  # str, optionally one of Field.choices
    F32 = "f32"  # Rust f32: float32 (0xca); read back from any number
    F32X3 = "f32x3"  # [f32; 3]
    JSON = "json"  # serde_json::Value: any MessagePack value, floats as float64
    STR_LIST = "str_list"  # Vec<String>, a tuple here
    COVERAGE = "coverage"  # Vec<{key, value}>, a tuple of CoverageCounter here
    BIN = "bin"  # bin8/16/32 (FRAME data); the vectors' JSON form is a list of byte values
    PIXEL_FORMAT = "pixel_format"  # u16 naming a PixelFormat


class Absent(enum.Enum):
    """What an absent (None / empty) value is on the wire."""

    REQUIRED = "required"  # never absent: missing on decode is an error
    NIL = "nil"  # Option<T>: written as nil
    OMIT = "omit"  # skip_serializing_if: not written


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    wire: Wire
    absent: Absent = Absent.REQUIRED
    max: int = U64_MAX
    choices: tuple[str, ...] = ()


def _uint(v: Any, what: str, maximum: int = U64_MAX) -> int:
    if type(v) is not int or v < 0 or v > maximum:
        raise ProtocolError(f"{what}: expected an unsigned integer <= {maximum}, got {v!r:.60}")
    return v


def _str(v: Any, what: str, choices: tuple[str, ...] = ()) -> str:
    if type(v) is not str:
        raise ProtocolError(f"{what}: expected a string, got {type(v).__name__}")
    if choices and v not in choices:
        raise ProtocolError(f"{what}: {v!r:.40} is not one of {', '.join(choices)}")
    return v


def _float(v: Any, what: str) -> float:
    if type(v) is float:
        return v
    if type(v) is int:
        return float(v)
    raise ProtocolError(f"{what}: expected a number, got {type(v).__name__}")


def _f32(v: Any, what: str) -> bytes:
    value = _float(v, what)
    if math.isfinite(value) and abs(value) > F32_MAX:
        raise ProtocolError(f"{what}: {value} does not fit float32")
    return pack_f32(value)


def _array(v: Any, what: str) -> Sequence[Any]:
    if not isinstance(v, list | tuple):
        raise ProtocolError(f"{what}: expected an array")
    return v


@dataclass(frozen=True, slots=True)
class CoverageCounter:
    key: str
    value: int

    def to_value(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}


def _encode(f: Field, v: Any, what: str) -> bytes:
    w = f.wire
    if w is Wire.UINT:
        return pack(_uint(v, what, f.max))
    if w is Wire.STR:
        return pack(_str(v, what, f.choices))
    if w is Wire.F32:
        return _f32(v, what)
    if w is Wire.JSON:
        return pack(v)
    if w is Wire.F32X3:
        if len(v) != 3:
            raise ProtocolError(f"{what}: expected 3 numbers")
        return array_header(3) + b"".join(_f32(x, what) for x in v)
    if w is Wire.STR_LIST:
        return pack([_str(x, what) for x in v])
    if w is Wire.COVERAGE:
        return pack([{"key": _str(c.key, what), "value": _uint(c.value, what)} for c in v])
    if w is Wire.PIXEL_FORMAT:
        return pack(_uint(int(v), what, U16_MAX))
    n = memoryview(v).nbytes  # Wire.BIN
    return bin_header(n) + bytes(v)


def _plain(f: Field, v: Any) -> Any:
    w = f.wire
    if w is Wire.F32X3 or w is Wire.STR_LIST:
        return list(v)
    if w is Wire.COVERAGE:
        return [c.to_value() for c in v]
    if w is Wire.PIXEL_FORMAT:
        return int(v)
    if w is Wire.BIN:
        return bytes(v)
    return v


def _decode(f: Field, v: Any, what: str) -> Any:
    w = f.wire
    if w is Wire.UINT:
        return _uint(v, what, f.max)
    if w is Wire.STR:
        return _str(v, what, f.choices)
    if w is Wire.F32:
        return _float(v, what)
    if w is Wire.JSON:
        return v
    if w is Wire.F32X3:
        items = _array(v, what)
        if len(items) != 3:
            raise ProtocolError(f"{what}: expected an array of 3 numbers")
        return tuple(_float(x, what) for x in items)
    if w is Wire.STR_LIST:
        return tuple(_str(x, what) for x in _array(v, what))
    if w is Wire.COVERAGE:
        out = []
        for c in _array(v, what):
            if not isinstance(c, Mapping) or "key" not in c or "value" not in c:
                raise ProtocolError(f"{what}: expected maps {{key, value}}")
            out.append(CoverageCounter(_str(c["key"], f"{what}.key"), _uint(c["value"], f"{what}.value")))
        return tuple(out)
    if w is Wire.PIXEL_FORMAT:
        code = _uint(v, what, U16_MAX)
        if code not in PixelFormat._value2member_map_:
            raise ProtocolError(f"{what}: unknown pixel format {code}")
        return PixelFormat(code)
    if isinstance(v, list):  # Wire.BIN in the vectors' JSON form: a list of byte values
        if not all(type(b) is int and 0 <= b <= 255 for b in v):
            raise ProtocolError(f"{what}: list items must be byte values")
        return bytes(v)
    if not isinstance(v, bytes | bytearray | memoryview):
        raise ProtocolError(f"{what}: expected binary, got {type(v).__name__}")
    return v


def _absent(v: Any) -> bool:
    return v is None or v == ()


def encode_header(kind: int, length: int, version: int = VERSION) -> bytes:
    return MAGIC + version.to_bytes(2, "big") + kind.to_bytes(2, "big") + length.to_bytes(4, "big")


class Message:
    """Base of the typed messages; everything is derived from `KIND` and `FIELDS`."""

    __slots__ = ()
    KIND: ClassVar[MessageKind]
    FIELDS: ClassVar[tuple[Field, ...]]

    def payload(self) -> bytes:
        parts: list[bytes] = []
        for f in self.FIELDS:
            v = getattr(self, f.name)
            if _absent(v) and f.absent is not Absent.REQUIRED:
                if f.absent is Absent.OMIT:
                    continue
                parts += (pack(f.name), NIL)
            else:
                parts += (pack(f.name), _encode(f, v, f"{self.KIND.name}.{f.name}"))
        return map_header(len(parts) // 2) + b"".join(parts)

    def encode(self) -> bytes:
        body = self.payload()
        return encode_header(self.KIND, len(body)) + body

    def to_value(self) -> dict[str, Any]:
        """The payload as plain Python values (bytes for binary), in wire order."""
        value: dict[str, Any] = {}
        for f in self.FIELDS:
            v = getattr(self, f.name)
            if _absent(v) and f.absent is not Absent.REQUIRED:
                if f.absent is Absent.NIL:
                    value[f.name] = None
            else:
                value[f.name] = _plain(f, v)
        return value

    @classmethod
    def from_value(cls, m: Mapping[str, Any]) -> Self:
        kwargs: dict[str, Any] = {}
        for f in cls.FIELDS:
            what = f"{cls.KIND.name}.{f.name}"
            if f.absent is Absent.REQUIRED:
                if f.name not in m:
                    raise ProtocolError(f"{cls.KIND.name}: missing field {f.name!r}")
                kwargs[f.name] = _decode(f, m[f.name], what)
            else:
                v = m.get(f.name)
                if v is not None:
                    kwargs[f.name] = _decode(f, v, what)
        message = cls(**kwargs)
        message.check()
        return message

    def check(self) -> None:
        """Rules across fields, applied after decoding (none by default)."""


MESSAGE_TYPES: Final[dict[MessageKind, type[Message]]] = {}
M = TypeVar("M", bound=type[Message])


def register(cls: M) -> M:
    """Record `cls` as the message of its KIND; its table must name exactly its fields."""
    declared = [f.name for f in cls.FIELDS]
    attributes = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    if sorted(declared) != sorted(attributes) or len(set(declared)) != len(declared):
        raise TypeError(f"{cls.__name__}.FIELDS {declared} does not match its fields {attributes}")
    if cls.KIND in MESSAGE_TYPES:
        raise TypeError(f"{cls.KIND.name} registered twice ({MESSAGE_TYPES[cls.KIND].__name__})")
    MESSAGE_TYPES[cls.KIND] = cls
    return cls


REQ, NIL_, OMIT = Absent.REQUIRED, Absent.NIL, Absent.OMIT


@register
@dataclass(frozen=True, slots=True)
class Hello(Message):
    """First message on a connection."""

    KIND: ClassVar[MessageKind] = MessageKind.HELLO
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("protocol", Wire.STR),
        Field("producer", Wire.STR),
        Field("build", Wire.STR, NIL_),
    )
    producer: str
    build: str | None = None
    protocol: str = PROTOCOL_NAME


@register
@dataclass(frozen=True, slots=True)
class StreamConfig(Message):
    """The framebuffer format of the FRAMEs that follow."""

    KIND: ClassVar[MessageKind] = MessageKind.STREAM_CONFIG
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("width", Wire.UINT, max=U32_MAX),
        Field("height", Wire.UINT, max=U32_MAX),
        Field("pixel_format", Wire.PIXEL_FORMAT),
        Field("stride_bytes", Wire.UINT, max=U32_MAX),
        Field("nominal_fps", Wire.F32, NIL_),
    )
    width: int
    height: int
    stride_bytes: int
    pixel_format: int = PixelFormat.RGBA8
    nominal_fps: float | None = None

    @property
    def frame_bytes(self) -> int:
        return self.stride_bytes * self.height


@register
@dataclass(frozen=True, slots=True, eq=False)
class Frame(Message):
    """One framebuffer. `data` is any bytes-like object (a memoryview of a pooled buffer when
    received or sent zero-copy). `data` is the table's last field, so the pixels can follow
    `prefix()` without being copied."""

    KIND: ClassVar[MessageKind] = MessageKind.FRAME
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("frame_id", Wire.UINT),
        Field("host_time_ns", Wire.UINT),
        Field("telemetry_time_ns", Wire.UINT, OMIT),
        Field("data", Wire.BIN),
    )
    frame_id: int
    host_time_ns: int
    data: Buffer
    telemetry_time_ns: int | None = None

    def prefix(self, data_len: int | None = None) -> bytes:
        """Header + payload up to and including the bin header of `data`."""
        n = memoryview(self.data).nbytes if data_len is None else data_len
        parts = [pack("frame_id"), pack(_uint(self.frame_id, "FRAME.frame_id"))]
        parts += (pack("host_time_ns"), pack(_uint(self.host_time_ns, "FRAME.host_time_ns")))
        if self.telemetry_time_ns is not None:
            parts += (
                pack("telemetry_time_ns"),
                pack(_uint(self.telemetry_time_ns, "FRAME.telemetry_time_ns")),
            )
        parts += (pack("data"), bin_header(n))
        body_head = map_header(len(parts) // 2) + b"".join(parts)
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

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return (
            self.frame_id == other.frame_id
            and self.host_time_ns == other.host_time_ns
            and self.telemetry_time_ns == other.telemetry_time_ns
            and memoryview(self.data).cast("B") == memoryview(other.data).cast("B")
        )


@register
@dataclass(frozen=True, slots=True)
class Telemetry(Message):
    """One (or a coalesced batch of) telemetry event(s)."""

    KIND: ClassVar[MessageKind] = MessageKind.TELEMETRY
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("seq", Wire.UINT),
        Field("label", Wire.STR),
        Field("timestamp", Wire.UINT, NIL_),
        Field("data", Wire.JSON, NIL_),
    )
    seq: int
    label: str
    timestamp: int | None = None
    data: JSONValue = None


@register
@dataclass(frozen=True, slots=True)
class StateUpdate(Message):
    """Engine state delta; every optional field is omitted when absent. `active_movie` is the
    reference engine's later addition, written last."""

    KIND: ClassVar[MessageKind] = MessageKind.STATE_UPDATE
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("seq", Wire.UINT),
        Field("host_time_ns", Wire.UINT),
        Field("frame", Wire.UINT, OMIT, max=U32_MAX),
        Field("position", Wire.F32X3, OMIT),
        Field("yaw", Wire.F32, OMIT),
        Field("active_setup", Wire.STR, OMIT),
        Field("active_hotspot", Wire.STR, OMIT),
        Field("coverage", Wire.COVERAGE, OMIT),
        Field("events", Wire.STR_LIST, OMIT),
        Field("active_movie", Wire.STR, OMIT),
    )
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


@register
@dataclass(frozen=True, slots=True)
class TimelineMark(Message):
    """A discrete labelled event (the reference: `intro.timeline` telemetry events)."""

    KIND: ClassVar[MessageKind] = MessageKind.TIMELINE_MARK
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("seq", Wire.UINT),
        Field("host_time_ns", Wire.UINT),
        Field("label", Wire.STR),
        Field("data", Wire.JSON, NIL_),
    )
    seq: int
    host_time_ns: int
    label: str
    data: JSONValue = None


# CONTROL: a map tagged by "kind". The reference defines viewer_ready; pause/resume/step/seek
# are grimjobs extensions (the reference engine logs and ignores CONTROL kinds it does not know).
class ControlKind(enum.StrEnum):
    VIEWER_READY = "viewer_ready"
    PAUSE = "pause"
    RESUME = "resume"
    STEP = "step"
    SEEK = "seek"


# Bounds a producer accepts (`Control.refusal()`; the wire types are u32 / u64): a step of more
# frames than ten minutes at 60 fps is a mistake or an attack; seek targets stay far from u64
# overflow (frame ids count up from the target).
MAX_STEP_FRAMES: Final = 36_000
MAX_SEEK_FRAME: Final = (1 << 48) - 1
MAX_FEATURES: Final = 32
MAX_FEATURE_LEN: Final = 64


@register
@dataclass(frozen=True, slots=True)
class Control(Message):
    """A viewer -> producer command. `protocol` only for viewer_ready, `frames` only for step,
    `frame_id` only for seek, `token` (grimjobs) when the producer requires one to control."""

    KIND: ClassVar[MessageKind] = MessageKind.CONTROL
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("kind", Wire.STR),
        Field("protocol", Wire.UINT, OMIT, max=U16_MAX),
        Field("features", Wire.STR_LIST, OMIT),
        Field("frames", Wire.UINT, OMIT, max=U32_MAX),
        Field("frame_id", Wire.UINT, OMIT),
        Field("token", Wire.STR, OMIT),
    )
    kind: str
    protocol: int | None = None
    features: tuple[str, ...] = ()
    frames: int | None = None
    frame_id: int | None = None
    token: str | None = None

    @classmethod
    def viewer_ready(cls, features: Sequence[str] = (), token: str | None = None) -> Control:
        return cls(ControlKind.VIEWER_READY.value, protocol=VERSION, features=tuple(features), token=token)

    @classmethod
    def pause(cls, token: str | None = None) -> Control:
        return cls(ControlKind.PAUSE.value, token=token)

    @classmethod
    def resume(cls, token: str | None = None) -> Control:
        return cls(ControlKind.RESUME.value, token=token)

    @classmethod
    def step(cls, frames: int = 1, token: str | None = None) -> Control:
        return cls(ControlKind.STEP.value, frames=frames, token=token)

    @classmethod
    def seek(cls, frame_id: int, token: str | None = None) -> Control:
        return cls(ControlKind.SEEK.value, frame_id=frame_id, token=token)

    def check(self) -> None:
        if self.kind == ControlKind.VIEWER_READY and self.protocol is None:
            raise ProtocolError("CONTROL viewer_ready: missing field 'protocol'")
        if self.kind == ControlKind.SEEK and self.frame_id is None:
            raise ProtocolError("CONTROL seek: missing field 'frame_id'")
        if len(self.features) > MAX_FEATURES or any(len(f) > MAX_FEATURE_LEN for f in self.features):
            raise ProtocolError(
                f"CONTROL.features: more than {MAX_FEATURES} or longer than {MAX_FEATURE_LEN}"
            )
        if self.token is not None and len(self.token) > 256:
            raise ProtocolError("CONTROL.token: longer than 256 characters")


@register
@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """grimjobs extension (the reference has no HEARTBEAT): sent only to peers announcing it."""

    KIND: ClassVar[MessageKind] = MessageKind.HEARTBEAT
    FIELDS: ClassVar[tuple[Field, ...]] = (Field("host_time_ns", Wire.UINT),)
    host_time_ns: int


@register
@dataclass(frozen=True, slots=True)
class MovieStart(Message):
    """Engine -> viewer: a fullscreen movie starts; the engine waits for a MOVIE_CONTROL."""

    KIND: ClassVar[MessageKind] = MessageKind.MOVIE_START
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("name", Wire.STR),
        Field("relative_path", Wire.STR, OMIT),
    )
    name: str
    relative_path: str | None = None


class MovieAction(enum.StrEnum):
    """The reference's MovieAction (serde snake_case)."""

    FINISHED = "finished"
    SKIPPED = "skipped"
    ERROR = "error"
    ACK = "ack"


@register
@dataclass(frozen=True, slots=True)
class MovieControl(Message):
    """Viewer -> engine: what became of a movie; `message` is a human-readable detail."""

    KIND: ClassVar[MessageKind] = MessageKind.MOVIE_CONTROL
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("name", Wire.STR),
        Field("action", Wire.STR, choices=tuple(a.value for a in MovieAction)),
        Field("message", Wire.STR, OMIT),
    )
    name: str
    action: str
    message: str | None = None


if set(MESSAGE_TYPES) != set(MessageKind):  # a kind without its class (or the reverse)
    raise TypeError(
        f"MessageKind and the registered messages differ: {set(MessageKind) ^ set(MESSAGE_TYPES)}"
    )

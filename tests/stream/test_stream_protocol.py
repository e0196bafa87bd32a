"""GrimStream v1 wire format: the reference vectors, byte for byte, and the parser's edge cases."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import msgpack
import pytest

from grimjobs.stream import protocol as p

VECTORS = Path(__file__).resolve().parents[1] / "data" / "grim_stream_vectors.jsonl"


def load_vectors() -> list[dict[str, Any]]:
    return [json.loads(line) for line in VECTORS.read_text().splitlines() if line.strip()]


def json_form(message: p.Message) -> dict[str, Any]:
    value = message.to_value()
    if isinstance(message, p.Frame):
        value["data"] = list(bytes(message.data))
    return value


VECTOR_CASES = load_vectors()


def test_vectors_cover_every_kind() -> None:
    assert len(VECTOR_CASES) == 18
    assert {case["kind"] for case in VECTOR_CASES} == set(range(1, 11)) - {0}


@pytest.mark.parametrize("case", VECTOR_CASES, ids=[c["name"] for c in VECTOR_CASES])
def test_vector_encode_gives_exact_bytes(case: dict[str, Any]) -> None:
    message = p.message_from_value(case["kind"], case["value"])
    assert case["kind"] == message.KIND
    assert message.encode().hex() == case["hex"]


@pytest.mark.parametrize("case", VECTOR_CASES, ids=[c["name"] for c in VECTOR_CASES])
def test_vector_decode_gives_value(case: dict[str, Any]) -> None:
    message = p.decode_message(bytes.fromhex(case["hex"]))
    assert case["kind"] == message.KIND
    assert json_form(message) == case["value"]


@pytest.mark.parametrize("case", VECTOR_CASES, ids=[c["name"] for c in VECTOR_CASES])
def test_vector_through_incremental_parser_byte_by_byte(case: dict[str, Any]) -> None:
    wire = bytes.fromhex(case["hex"])
    parser = p.FrameParser()
    events: list[p.Event] = []
    step = 1 if len(wire) < 200 else 997
    for i in range(0, len(wire), step):
        events += parser.feed(wire[i : i + step])
    assert len(events) == 1 and json_form(events[0]) == case["value"]  # type: ignore[arg-type]


def test_frame_gathered_buffers_equal_encoding_without_copying_pixels() -> None:
    pixels = bytearray(range(256)) * 300
    frame = p.Frame(frame_id=5, host_time_ns=10, data=memoryview(pixels), telemetry_time_ns=3)
    parts = frame.buffers()
    assert isinstance(parts[1], memoryview) and parts[1].obj is pixels  # a view, not a copy
    assert b"".join(parts) == frame.encode()
    assert p.decode_message(frame.encode()) == frame


def test_frame_decode_is_a_view_into_the_received_buffer() -> None:
    wire = p.Frame(1, 2, bytes(100_000)).encode()
    parser = p.FrameParser()
    (frame,) = parser.feed(wire)
    assert isinstance(frame, p.Frame) and isinstance(frame.data, memoryview)
    assert frame.data.nbytes == 100_000


def test_decoder_accepts_float64_extra_keys_any_order() -> None:
    payload = msgpack.packb(
        {
            "nominal_fps": 29.97,
            "extra": [1, 2],
            "stride_bytes": 16,
            "pixel_format": 1,
            "height": 2,
            "width": 4,
        },
        use_single_float=False,
    )
    msg = p.decode_message(p.encode_header(2, len(payload)) + payload)
    assert msg == p.StreamConfig(width=4, height=2, stride_bytes=16, nominal_fps=29.97)


def test_frame_with_extra_key_uses_the_generic_path() -> None:
    payload = msgpack.packb({"x": 1, "data": b"abc", "host_time_ns": 9, "frame_id": 1}, use_bin_type=True)
    msg = p.decode_message(p.encode_header(3, len(payload)) + payload)
    assert msg == p.Frame(frame_id=1, host_time_ns=9, data=b"abc")


def test_float_fields_are_float32_and_json_data_stays_float64() -> None:
    upd = p.StateUpdate(seq=1, host_time_ns=2, yaw=0.5).payload()
    assert b"\xca\x3f\x00\x00\x00" in upd
    tel = p.Telemetry(seq=1, label="x", data={"f": 0.5}).payload()
    assert b"\xcb\x3f\xe0\x00\x00\x00\x00\x00\x00" in tel


@pytest.mark.parametrize(
    "control",
    [
        p.Control.pause(),
        p.Control.resume(),
        p.Control.step(3),
        p.Control.seek(120),
        p.Control.viewer_ready(["frames"]),
    ],
)
def test_control_extensions_round_trip(control: p.Control) -> None:
    assert p.decode_message(control.encode()) == control
    assert msgpack.unpackb(control.payload())["kind"] == control.kind


def test_state_update_active_movie_round_trips_and_is_last() -> None:
    upd = p.StateUpdate(seq=1, host_time_ns=2, frame=3, events=("a",), active_movie="intro")
    assert list(msgpack.unpackb(upd.payload()))[-1] == "active_movie"
    assert p.decode_message(upd.encode()) == upd


def test_bad_magic_and_version_are_fatal() -> None:
    good = p.Heartbeat(1).encode()
    for bad in (b"GRIN" + good[4:], good[:4] + b"\x00\x02" + good[6:]):
        parser = p.FrameParser()
        with pytest.raises(p.FatalStreamError):
            parser.feed(bad)
        with pytest.raises(p.FatalStreamError):
            parser.buffer()


def test_oversized_length_is_refused_before_allocating() -> None:
    parser = p.FrameParser(max_payload=1024)
    with pytest.raises(p.FatalStreamError, match="max_payload"):
        parser.feed(p.encode_header(3, 0xFFFFFFFF))
    assert parser._pool == []  # nothing was allocated for the payload


def test_unknown_kind_is_skipped_and_stream_stays_in_sync() -> None:
    unknown = p.encode_header(77, 200_000) + bytes(200_000)
    wire = unknown + p.Heartbeat(5).encode()
    parser = p.FrameParser()
    events = []
    for i in range(0, len(wire), 4096):
        events += parser.feed(wire[i : i + 4096])
    assert events == [p.Skipped(77, 200_000), p.Heartbeat(5)]
    assert parser._pool == []  # the unknown payload went through the scratch buffer


@pytest.mark.parametrize(
    "kind,payload",
    [
        (1, b"\xc1"),  # never-used MessagePack byte
        (1, msgpack.packb([1, 2])),  # not a map
        (2, msgpack.packb({"width": -1, "height": 1, "pixel_format": 1, "stride_bytes": 4})),
        (2, msgpack.packb({"width": 1, "height": 1, "pixel_format": 9, "stride_bytes": 4})),
        (3, msgpack.packb({"frame_id": 1, "host_time_ns": 1, "data": [1, 300]})),
        (3, msgpack.packb({"frame_id": 1, "host_time_ns": 1, "data": "text"})),
        (5, msgpack.packb({"seq": True, "host_time_ns": 1})),
        (5, msgpack.packb({"seq": 1, "host_time_ns": 1, "position": [1, 2]})),
        (7, msgpack.packb({"kind": "viewer_ready"})),
        (8, msgpack.packb({"host_time_ns": 2**63})[:-2]),  # truncated
        (8, msgpack.packb({"host_time_ns": 1}) + b"\x00"),  # trailing bytes
    ],
)
def test_malformed_payload_is_rejected_per_message(kind: int, payload: bytes) -> None:
    wire = p.encode_header(kind, len(payload)) + payload + p.Heartbeat(9).encode()
    events = p.FrameParser().feed(wire)
    assert isinstance(events[0], p.Rejected) and events[0].kind == kind
    assert events[1] == p.Heartbeat(9)


def test_header_is_big_endian() -> None:
    assert p.encode_header(3, 0x01020304) == b"GRIM" + struct.pack(">HHI", 1, 3, 0x01020304)


def test_payload_buffers_are_recycled_only_when_released() -> None:
    wire = p.Frame(1, 2, bytes(10_000)).encode()
    parser = p.FrameParser(payload_buffers=2)
    (a,) = parser.feed(wire)
    (b,) = parser.feed(wire)
    assert isinstance(a, p.Frame) and isinstance(b, p.Frame)
    assert a.data.obj is not b.data.obj  # type: ignore[union-attr]
    first_buffer = id(a.data.obj)  # type: ignore[union-attr]
    del a
    (c,) = parser.feed(wire)
    assert id(c.data.obj) == first_buffer  # type: ignore[union-attr]
    assert id(c.data.obj) != id(b.data.obj)  # type: ignore[union-attr]

"""Property-based fuzzing of the GrimStream decoder: any bytes give messages or clean errors."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grimjobs.stream import protocol as p

VECTORS = [
    json.loads(line)
    for line in (Path(__file__).resolve().parents[1] / "data" / "grim_stream_vectors.jsonl")
    .read_text()
    .splitlines()
]
SMALL_WIRES = [bytes.fromhex(v["hex"]) for v in VECTORS if len(v["hex"]) < 2000]

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run_parser(wire: bytes, chunk: int, max_payload: int = 1 << 20) -> list[p.Event]:
    parser = p.FrameParser(max_payload=max_payload)
    events: list[p.Event] = []
    try:
        for i in range(0, len(wire), chunk):
            events += parser.feed(wire[i : i + chunk])
    except p.FatalStreamError:
        pass
    return events


@FAST
@given(st.binary(max_size=512), st.integers(1, 64))
def test_random_bytes_never_escape_as_other_errors(data: bytes, chunk: int) -> None:
    run_parser(data, chunk)


@FAST
@given(st.integers(0, 20), st.binary(max_size=256))
def test_random_payload_of_each_kind_decodes_or_is_rejected(kind: int, payload: bytes) -> None:
    try:
        message = p.decode_payload(kind, payload)
    except p.ProtocolError:
        return
    # Whatever decoded must encode again and decode to the same message.
    assert p.decode_message(message.encode()) == message


@FAST
@given(st.sampled_from(SMALL_WIRES), st.data())
def test_mutated_vectors_keep_the_parser_sane(wire: bytes, data: st.DataObject) -> None:
    buf = bytearray(wire)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(12, len(buf) - 1))  # payload bytes: header stays valid
        buf[pos] = data.draw(st.integers(0, 255))
    tail = p.Heartbeat(123).encode()
    events = run_parser(bytes(buf) + tail, data.draw(st.integers(1, 50)))
    # The payload length is intact, so the stream stays in sync and the next message arrives.
    assert events[-1] == p.Heartbeat(123)
    assert len(events) == 2


@FAST
@given(st.sampled_from(SMALL_WIRES), st.integers(0, 11), st.integers(0, 255))
def test_mutated_headers_fail_cleanly(wire: bytes, pos: int, value: int) -> None:
    buf = bytearray(wire)
    buf[pos] = value
    run_parser(bytes(buf), 7, max_payload=4096)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)
u64 = st.integers(0, 2**64 - 1)
f32s = st.floats(width=32, allow_nan=False)

messages = st.one_of(
    st.builds(p.Hello, producer=st.text(max_size=10), build=st.none() | st.text(max_size=10)),
    st.builds(
        p.StreamConfig,
        width=st.integers(0, 2**32 - 1),
        height=st.integers(0, 2**32 - 1),
        stride_bytes=st.integers(0, 2**32 - 1),
        nominal_fps=st.none() | f32s,
    ),
    st.builds(
        p.Frame,
        frame_id=u64,
        host_time_ns=u64,
        data=st.binary(max_size=300),
        telemetry_time_ns=st.none() | u64,
    ),
    st.builds(p.Telemetry, seq=u64, label=st.text(max_size=10), timestamp=st.none() | u64, data=json_values),
    st.builds(
        p.StateUpdate,
        seq=u64,
        host_time_ns=u64,
        frame=st.none() | st.integers(0, 2**32 - 1),
        position=st.none() | st.tuples(f32s, f32s, f32s),
        yaw=st.none() | f32s,
        active_setup=st.none() | st.text(max_size=5),
        active_hotspot=st.none() | st.text(max_size=5),
        coverage=st.lists(st.builds(p.CoverageCounter, key=st.text(max_size=5), value=u64), max_size=3).map(
            tuple
        ),
        events=st.lists(st.text(max_size=5), max_size=3).map(tuple),
        active_movie=st.none() | st.text(max_size=5),
    ),
    st.builds(p.TimelineMark, seq=u64, host_time_ns=u64, label=st.text(max_size=10), data=json_values),
    st.sampled_from(
        [p.Control.pause(), p.Control.resume(), p.Control.viewer_ready(), p.Control.viewer_ready(["a"])]
    ),
    st.builds(p.Control.step, st.integers(0, 2**32 - 1)),
    st.builds(p.Control.seek, u64),
    st.builds(p.Heartbeat, u64),
    st.builds(p.MovieStart, name=st.text(max_size=8), relative_path=st.none() | st.text(max_size=8)),
    st.builds(
        p.MovieControl,
        name=st.text(max_size=8),
        action=st.sampled_from([a.value for a in p.MovieAction]),
        message=st.none() | st.text(max_size=8),
    ),
)


@FAST
@given(st.lists(messages, min_size=1, max_size=6), st.integers(1, 200))
def test_any_message_sequence_round_trips_through_the_parser(msgs: list[p.Message], chunk: int) -> None:
    wire = b"".join(m.encode() for m in msgs)
    events = run_parser(wire, chunk)
    assert events == msgs

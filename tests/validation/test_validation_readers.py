"""The vectorized readers against the protobuf library and the text format, on random records."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grimjobs.session.actions import (
    InputSnapshot,
    decode_actions,
    encode_record,
    iter_frames,
    read_actions,
)
from grimjobs.session.gamepad_pb2 import GamepadState
from grimjobs.session.sync import HEADER, read_sync

u32 = st.integers(0, 2**32 - 1)
snapshots = st.builds(
    InputSnapshot,
    monotonic_ns=st.one_of(st.just(0), st.integers(1, 2**64 - 1), st.integers(10**12, 10**16)),
    axes=st.lists(st.floats(width=32, allow_nan=False), max_size=8).map(tuple),
    pressed_buttons=st.lists(st.one_of(st.integers(0, 40), u32), max_size=5).map(tuple),
    pressed_keys=st.lists(st.one_of(st.integers(0, 600), u32), max_size=5).map(tuple),
    pressed_mouse_buttons=st.lists(st.integers(0, 6), max_size=3).map(tuple),
    mouse=st.one_of(st.none(), st.tuples(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**31), 2**31 - 1))),
    reason=st.one_of(st.integers(0, 3), u32),
)


def protobuf_reference(data: bytes) -> list[GamepadState]:
    out = []
    for _offset, payload in iter_frames(data):
        message = GamepadState()
        message.ParseFromString(payload)  # type: ignore[arg-type]
        out.append(message)
    return out


def assert_same(data: bytes) -> None:
    table = decode_actions(data)
    reference = protobuf_reference(data)
    assert len(table) == len(reference)
    for index, message in enumerate(reference):
        got = table.snapshot(index)
        assert got.monotonic_ns == message.monotonic_ns
        assert np.array_equal(np.array(got.axes, np.float32), np.array(message.axes, np.float32))
        assert list(got.pressed_buttons) == list(message.pressed_buttons)
        assert list(got.pressed_keys) == list(message.pressed_keys)
        assert list(got.pressed_mouse_buttons) == list(message.pressed_mouse_buttons)
        assert got.mouse == ((message.mouse_x, message.mouse_y) if message.HasField("mouse_x") else None)
        assert got.reason == message.reason


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(snapshots, max_size=40), st.integers(0, 12))
def test_vectorized_reader_equals_protobuf(records: list[InputSnapshot], torn: int) -> None:
    data = b"".join(encode_record(r) for r in records)
    whole = encode_record(InputSnapshot(10**15, axes=(1.0,) * 6))
    tail = whole[: min(torn, len(whole) - 1)]  # a record cut anywhere before its last byte
    assert_same(data + tail)
    table = decode_actions(data + tail)
    assert table.valid_bytes == len(data) and table.torn_bytes == len(tail)


@settings(max_examples=100, deadline=None)
@given(st.lists(snapshots, min_size=1, max_size=10))
def test_other_layouts_fall_back_to_protobuf(records: list[InputSnapshot]) -> None:
    """Unknown fields, unpacked repeated fields and reordered fields decode exactly like protobuf."""
    parts = []
    for record in records:
        payload = encode_record(record)[4:]
        message = GamepadState.FromString(payload)
        extra = b"\x78\x05"  # field 15 varint: unknown to this schema
        unpacked = b"".join(b"\x18" + _varint(b) for b in message.pressed_buttons)  # field 3 unpacked
        body = extra + payload + unpacked
        parts.append(struct.pack("<I", len(body)) + body)
    assert_same(b"".join(parts))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_false_record_starts_inside_payloads_are_skipped() -> None:
    # Two axes whose bytes read `05 00 00 00 08`: a length prefix of 5 followed by the monotonic_ns tag,
    # i.e. a record start inside a payload that the boundary walk must not take.
    first, second = struct.unpack("<ff", b"\x05\x00\x00\x00\x08\x00\x00\x00")
    records = [InputSnapshot(10**12 + i, axes=(first, second)) for i in range(50)]
    data = b"".join(encode_record(r) for r in records)
    assert data.count(b"\x05\x00\x00\x00\x08") == 50
    assert_same(data)
    assert len(decode_actions(data)) == 50


def test_read_actions_keeps_its_snapshot_api(tmp_path: Path) -> None:
    records = [InputSnapshot(10**12 + i, (0.5, -1.0), (1, 2), (4,), (), (3, -4), i % 4) for i in range(5)]
    path = tmp_path / "actions.bin"
    path.write_bytes(b"".join(encode_record(r) for r in records) + b"\x09")
    log = read_actions(path)
    assert log.records == records and log.torn_bytes == 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**17), st.integers(0, 10**17)), max_size=30), st.booleans())
def test_sync_reader_matches_the_text(rows: list[tuple[int, int]], torn: bool) -> None:
    import tempfile

    text = HEADER + "\n" + "".join(f"{i},{t},{p}\n" for i, (t, p) in enumerate(rows))
    if torn:
        text += "5,123"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sync.csv"
        path.write_text(text)
        table = read_sync(path)
    assert table.torn == torn
    assert table.frame_index.tolist() == list(range(len(rows)))
    assert table.monotonic_ns.tolist() == [t for t, _ in rows]
    assert table.pts.tolist() == [p for _, p in rows]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 90), max_size=4, unique=True), min_size=1, max_size=40))
def test_activity_counts_presses_like_a_naive_walk(held_sets: list[list[int]]) -> None:
    from grimjobs.validation.metrics import _hold_durations

    records = np.repeat(np.arange(len(held_sets)), [len(h) for h in held_sets])
    ids = np.array([b for h in held_sets for b in h], np.uint32)
    dt = np.arange(1, len(held_sets) + 1, dtype=np.float64) * 1e6
    for limit in (64, 91):  # ids below 64 take the bit-mask path, larger ones the general path
        subset = ids < limit
        activity = _hold_durations(dt, records[subset], ids[subset], len(held_sets))
        expected: dict[int, int] = {}
        held_s: dict[int, float] = {}
        before: set[int] = set()
        for index, held in enumerate(held_sets):
            now = {b for b in held if b < limit}
            for b in now - before:
                expected[b] = expected.get(b, 0) + 1
            for b in now:
                held_s[b] = held_s.get(b, 0.0) + dt[index] / 1e9
            before = now
        assert activity.presses == expected
        assert activity.held_s.keys() == held_s.keys()
        assert all(abs(activity.held_s[k] - v) < 1e-9 for k, v in held_s.items())

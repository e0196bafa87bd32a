"""The on-disk contract with the C++ recorder: sync.csv and actions.bin byte layouts."""

from __future__ import annotations

import struct
from pathlib import Path

from grimjobs.session.actions import ActionsWriter, InputSnapshot, read_actions
from grimjobs.session.sync import HEADER, SyncWriter, read_sync


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def seed_record(monotonic_ns: int, axes: list[float], buttons: list[int], keys: list[int]) -> bytes:
    """A GamepadState built only from the seed's description: proto3 fields 1..4, packed repeated
    fields, serialized in field order, framed by a u32 little-endian length."""
    payload = b""
    if monotonic_ns:
        payload += b"\x08" + _varint(monotonic_ns)
    if axes:
        packed = b"".join(struct.pack("<f", a) for a in axes)
        payload += b"\x12" + _varint(len(packed)) + packed
    for tag, values in ((b"\x1a", buttons), (b"\x22", keys)):
        if values:
            packed = b"".join(_varint(v) for v in values)
            payload += tag + _varint(len(packed)) + packed
    return struct.pack("<I", len(payload)) + payload


def test_actions_writer_bytes_equal_a_seed_reader_s_expectation(tmp_path: Path) -> None:
    path = tmp_path / "actions.bin"
    writer = ActionsWriter(path)
    snapshots = [
        InputSnapshot(123_456_789_012, (0.5, -1.0, 0.0, 0.0, 0.25, 1.0), (0, 11), (4, 225)),
        InputSnapshot(123_456_800_000, (0.0,) * 6, (), ()),
        InputSnapshot(2**63, (), (20,), (300,)),
    ]
    for snapshot in snapshots:
        writer.write(snapshot)
    writer.close()
    expected = b"".join(
        seed_record(s.monotonic_ns, list(s.axes), list(s.pressed_buttons), list(s.pressed_keys))
        for s in snapshots
    )
    assert path.read_bytes() == expected


def test_records_written_by_the_cpp_layout_read_back(tmp_path: Path) -> None:
    path = tmp_path / "actions.bin"
    path.write_bytes(seed_record(42, [0.75, 0.0, -0.5], [1, 2, 3], [44]) + seed_record(43, [], [], []))
    log = read_actions(path)
    assert [r.monotonic_ns for r in log.records] == [42, 43]
    first = log.records[0]
    assert list(first.axes) == [0.75, 0.0, -0.5]
    assert list(first.pressed_buttons) == [1, 2, 3] and list(first.pressed_keys) == [44]
    assert first.mouse is None and first.reason == 0
    assert log.torn_bytes == 0


def test_grimjobs_extension_fields_round_trip_and_a_torn_tail_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "actions.bin"
    writer = ActionsWriter(path)
    writer.write(
        InputSnapshot(7, (0.1,), (1,), (4,), pressed_mouse_buttons=(1, 3), mouse=(-5, 900), reason=1)
    )
    writer.close()
    whole = path.read_bytes()
    path.write_bytes(whole + whole[:5])  # a crash in the middle of the next record
    log = read_actions(path)
    assert len(log.records) == 1
    record = log.records[0]
    assert list(record.pressed_mouse_buttons) == [1, 3] and record.mouse == (-5, 900) and record.reason == 1
    assert log.torn_bytes == 5


def test_sync_csv_layout_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sync.csv"
    writer = SyncWriter(path)
    writer.write(0, 1_000_000_000, 0)
    writer.write(1, 1_033_333_333, 3000)
    writer.close()
    assert path.read_text() == f"{HEADER}\n0,1000000000,0\n1,1033333333,3000\n"
    table = read_sync(path)
    assert table.frame_index.tolist() == [0, 1]
    assert table.monotonic_ns.tolist() == [1_000_000_000, 1_033_333_333]
    assert table.pts.tolist() == [0, 3000]
    assert not table.torn
    path.write_text(f"{HEADER}\n0,1000000000,0\n1,10333")
    torn = read_sync(path)
    assert len(torn) == 1 and torn.torn

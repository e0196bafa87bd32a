"""actions.bin and sync.csv reach the OS on a timer, not only when the next record is written.

The writers are given one record and then nothing (event-only input: a key released, then quiet).
Without the flush timer those bytes would stay in the process's buffer until close; with it they
are readable by another open of the file while the writer is still open. No duration is asserted
(the bound is the timer's interval; load can delay a thread): only that the bytes arrive while
nothing else is written,.
"""

from __future__ import annotations

import time
from pathlib import Path

from grimjobs.session.actions import ActionsWriter, InputSnapshot, encode_record, read_actions
from grimjobs.session.sync import HEADER, SyncWriter, read_sync

PATIENCE_S = 60.0  # a generous wait for a loaded machine; a passing run takes ~0.2 s


def wait_for_size(path: Path, size: int) -> int:
    deadline = time.monotonic() + PATIENCE_S
    while path.stat().st_size < size and time.monotonic() < deadline:
        time.sleep(0.01)
    return path.stat().st_size


def test_actions_reach_disk_without_another_write(tmp_path: Path) -> None:
    path = tmp_path / "actions.bin"
    snapshot = InputSnapshot(123_456_789, pressed_keys=(4, 7), mouse=(10, 20))
    writer = ActionsWriter(path)
    try:
        writer.write(snapshot)
        expected = len(encode_record(snapshot))
        assert wait_for_size(path, expected) == expected
        log = read_actions(path)
        assert log.torn_bytes == 0
        assert [r.monotonic_ns for r in log.records] == [123_456_789]
        assert list(log.records[0].pressed_keys) == [4, 7]
    finally:
        writer.close()
    writer.close()  # twice is harmless


def test_sync_rows_reach_disk_without_another_write(tmp_path: Path) -> None:
    path = tmp_path / "sync.csv"
    writer = SyncWriter(path)
    try:
        writer.write(0, 1_000_000_000, 0)
        expected = len(HEADER) + 1 + len("0,1000000000,0\n")
        assert wait_for_size(path, expected) == expected
        table = read_sync(path)
        assert not table.torn
        assert table.monotonic_ns.tolist() == [1_000_000_000]
    finally:
        writer.close()

"""replay and bridge jobs as a user runs them, plus replay's pure timing helpers."""

from __future__ import annotations

import os
import re
from pathlib import Path

from grimjobs.jobs.replay import percentile, schedule_ns
from grimjobs.session.actions import ActionsWriter, InputSnapshot
from tests.conftest import run_grimjobs


def test_schedule_and_percentile() -> None:
    assert schedule_ns([100, 150, 300], 1.0) == [0, 50, 200]
    assert schedule_ns([100, 150, 300], 2.0) == [0, 25, 100]
    assert schedule_ns([], 1.0) == []
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile([5, 1, 3, 2, 4], 100) == 5
    assert percentile(list(range(1, 101)), 99) == 99 and percentile([], 50) == 0


def test_replay_redrives_a_recording_through_sdl_with_timing_report(tmp_path: Path) -> None:
    writer = ActionsWriter(tmp_path / "actions.bin")
    t0 = 1_000_000_000
    states = [
        ((0.0,) * 6, ()),
        ((0.0,) * 6, (0,)),
        ((0.5, -1.0, 0.0, 0.0, 0.0, 0.0), (0,)),
        ((0.5, -1.0, 0.0, 0.0, 0.0, 1.0), (0, 11)),
        ((0.0,) * 6, ()),
    ]
    for i, (axes, buttons) in enumerate(states):
        writer.write(InputSnapshot(monotonic_ns=t0 + i * 100_000_000, axes=axes, pressed_buttons=buttons))
    writer.close()
    result = run_grimjobs("replay", f"path={tmp_path}", "speed=4", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 0, result.stderr
    assert "replayed 5/5 states over 0.10 s at speed 4" in result.stdout
    assert "read back through SDL: 5 match, 0 differ" in result.stdout
    match = re.search(r"timing error: p50 ([\d.]+) ms  p99 ([\d.]+) ms", result.stdout)
    assert match is not None, result.stdout


def test_replay_missing_session_is_one_line(tmp_path: Path) -> None:
    result = run_grimjobs("replay", f"path={tmp_path / 'nope'}", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("grimjobs replay: error: path=")
    assert "Traceback" not in result.stderr


def test_bridge_without_backend_fails_before_anything_in_one_line(tmp_path: Path) -> None:
    if os.path.exists("/dev/uinput") and os.access("/dev/uinput", os.W_OK):
        import pytest

        pytest.skip("this machine can create uinput devices")
    result = run_grimjobs("bridge", "duration=1", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("grimjobs bridge: error: input.forward=vgamepad: ")
    assert "Traceback" not in result.stderr

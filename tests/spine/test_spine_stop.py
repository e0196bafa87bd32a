"""Ctrl+C and SIGTERM end a recording cleanly: every captured frame is in the files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grimjobs.session.sync import read_sync
from tests.conftest import ROOT
from tests.spine.test_spine_record import decoded_indices


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_finishes_the_session(tmp_path: Path, sig: signal.Signals) -> None:
    run = tmp_path / "run"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grimjobs",
            "record",
            "capture.duration=60",
            "status=true",
            f"hydra.run.dir={run}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sync = run / "sync.csv"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not sync.exists() or sync.read_text().count("\n") < 40):
        time.sleep(0.1)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr[-2000:]
    assert "[record]" in stderr and "fps" in stderr and "dropped" in stderr  # the status line
    summary = json.loads((run / "summary.json").read_text())
    assert summary["end_reason"] == "stopped"
    table = read_sync(sync)
    assert not table.torn and len(table) == summary["frames"] >= 40
    indices, pts = decoded_indices(run / "capture.mp4")
    assert len(indices) == len(table) and pts == table.pts.tolist()
    assert "validation:" in stdout

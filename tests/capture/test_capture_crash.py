"""kill -9 a recording at random moments: every result must still be readable.

Guarantees checked (docs/CAPTURE.md, "Crash safety"): sync.csv and actions.bin parse, a torn
last row or record allowed; the video decodes, in order, up to its last complete fragment, and
every fragment the killed process wrote is at most `encoder.fragment_seconds` long (the muxer
cut it by time: load cannot change that, only how much was still queued); `validate` says WARN
(truncated) or PASS, never FAIL. How much video and input a kill loses in seconds depends on the
load, so it is measured (and held to 1.0 s / 250 ms) in benchmarks/bench_timing.py, not here.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grimjobs.capture.pattern import decode_index
from grimjobs.session.actions import read_actions
from grimjobs.session.sync import read_sync
from tests.conftest import ROOT, XServer
from tests.encoder.mp4boxes import fragments

FRAGMENT_TICKS = 90_000 * 25 // 100  # conf/encoder/x264.yaml fragment_seconds (0.25 s) in pts ticks
SEED = 20240611


def decode_until_torn(path: Path) -> tuple[list[int | None], str | None]:
    """Pattern indices of every frame that decodes, and the error that ended decoding (if any)."""
    import av

    indices: list[int | None] = []
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                indices.append(decode_index(frame.to_ndarray(format="rgb24")))
    except av.FFmpegError as exc:
        return indices, str(exc)
    return indices, None


def wait_for_first_row(sync: Path, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"record exited early: {process.stderr.read().decode() if process.stderr else ''}"
            )
        if sync.exists() and sync.read_bytes().count(b"\n") >= 2:
            return
        time.sleep(0.02)
    raise AssertionError("no sync.csv row within 30 s")


@pytest.mark.parametrize("run", range(4))
def test_capture_crash_kill9_leaves_readable_session(xvfb: XServer, tmp_path: Path, run: int) -> None:
    rng = random.Random(SEED + run)
    after_first_frame_s = rng.uniform(0.2, 4.5)
    source = (
        ["capture=monitor", "capture.width=320", "capture.height=180"]
        if run == 3
        else ["capture.width=320", "capture.height=240"]
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grimjobs",
            "record",
            *source,
            "capture.duration=60",
            "validate=false",
            "status=false",
            f"hydra.run.dir={tmp_path}",
        ],
        cwd=ROOT,
        env=xvfb.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_first_row(tmp_path / "sync.csv", process)
        time.sleep(after_first_frame_s)
        killed_ns = time.monotonic_ns()  # CLOCK_MONOTONIC: the recorder's clock too
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()
    assert process.returncode == -signal.SIGKILL

    sync = read_sync(tmp_path / "sync.csv")  # raises on anything but a torn last row
    actions = read_actions(tmp_path / "actions.bin")  # likewise
    assert len(sync) >= 1
    indices, _error = decode_until_torn(tmp_path / "capture.mp4")
    decoded = len(indices)
    # No frame in the file that sync.csv does not know (rows reach the disk within 250 ms).
    assert decoded <= len(sync) + 8
    lost_s = (killed_ns - int(sync.monotonic_ns[decoded - 1 if decoded else 0])) / 1e9
    parts, _complete = fragments(tmp_path / "capture.mp4")
    for durations in parts[:-1]:  # the last one's final sample may be the one that overran
        assert sum(durations[:-1]) < FRAGMENT_TICKS, durations
    assert decoded <= sum(len(p) for p in parts)  # only frames of complete fragments decode
    if decoded and run != 3:  # the synthetic pattern: decoded frames are the captured ones, in order
        readable = [i for i in indices if i is not None]
        assert len(readable) == decoded
        assert readable == sorted(set(readable))

    from grimjobs.validation.validator import SessionValidator

    report = SessionValidator(SessionValidator.Settings()).check(tmp_path)
    assert report.verdict != "FAIL", report.reasons
    print(
        f"run {run}: killed {after_first_frame_s:.2f} s in; {len(sync)} rows (torn={sync.torn}), "
        f"{decoded} frames decode, {lost_s:.2f} s lost, actions {actions!r:.60}; "
        f"validate {report.verdict}: {report.reasons}"
    )

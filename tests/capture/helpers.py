"""Shared pieces of the capture tests: painter windows, recording through the CLI, reading results."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grimjobs.capture.pattern import decode_index
from grimjobs.capture.scale import inner, letterbox
from grimjobs.session.sync import SyncTable, read_sync
from tests.conftest import ROOT, ffprobe_frames, run_grimjobs

PAINTER = Path(__file__).with_name("painter.py")
RECORD_BASE = ("record", "input=none", "validate=false", "status=false")


class Painter:
    """A real X11 window (a subprocess) painting numbered frames at `fps`."""

    def __init__(
        self,
        env: dict[str, str],
        width: int = 480,
        height: int = 270,
        x: int = 100,
        y: int = 80,
        fps: float = 60.0,
        title: str | None = None,
        log: Path | None = None,
    ) -> None:
        self.title = title or f"grimjobs painter {uuid.uuid4().hex[:8]}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(PAINTER),
                "--title",
                self.title,
                "--width",
                str(width),
                "--height",
                str(height),
                "--x",
                str(x),
                "--y",
                str(y),
                "--fps",
                str(fps),
                *(["--log", str(log)] if log is not None else []),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("0x"):
            self.close()
            raise RuntimeError(f"painter did not start: {line!r}")
        self.window_id = int(line, 16)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)

    def __enter__(self) -> Painter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def record(
    tmp: Path, *overrides: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return run_grimjobs(*RECORD_BASE, f"hydra.run.dir={tmp}", *overrides, env=env, timeout=timeout)


@dataclass
class Recording:
    frames: list[np.ndarray]  # decoded rgb24 frames
    sync: SyncTable
    summary: dict[str, Any]


def read_video(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def load(session: Path) -> Recording:
    return Recording(
        read_video(session / "capture.mp4"),
        read_sync(session / "sync.csv"),
        json.loads((session / "summary.json").read_text()),
    )


def painted_indices(frames: list[np.ndarray], src_w: int, src_h: int) -> list[int | None]:
    """The painter's frame number in each video frame (the pattern sits inside the letterbox)."""
    indices = []
    for image in frames:
        place = letterbox(src_w, src_h, image.shape[1], image.shape[0])
        indices.append(decode_index(inner(image, place)))
    return indices


def check_consistent(rec: Recording, session: Path, fps: float) -> None:
    """Frame count = sync rows = ffprobe; capture times increase, spaced ~1/fps."""
    assert (
        len(rec.frames) == len(rec.sync) == ffprobe_frames(session / "capture.mp4") == rec.summary["frames"]
    )
    assert not rec.sync.torn
    t = rec.sync.monotonic_ns
    assert np.all(np.diff(t) > 0)
    assert np.all(np.diff(rec.sync.pts) > 0)
    assert np.array_equal(rec.sync.frame_index, np.arange(len(rec.sync)))
    period = 1e9 / fps
    gaps = np.diff(t)
    # A slot woken a whole period late is dropped, so two frames are never closer than about one
    # period (minus the jitter of waking up), and most are exactly one period apart.
    assert np.all(gaps > 0.4 * period), gaps / period
    assert np.median(gaps) == pytest_approx(period)


def pytest_approx(value: float) -> Any:
    import pytest

    return pytest.approx(value, rel=0.1)

"""Ground truth for frame timestamps: a window that logs when it paints each of its numbers.

The painter logs `index monotonic_ns` just before it sends index i's pixels, so the X server
shows i only after that time. Every screen source stamps a frame right after its pixel read
returns, so a frame showing index i must be stamped after i was logged: a picture painted after
its own timestamp is an ordering violation, which no load can excuse (load only makes stamps
later, never earlier). Checked for capture=window / monitor / x11grab at 30 and 60 Hz. How *late*
stamps are (the timing error) is a measurement, in benchmarks/bench_timing.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.capture.helpers import Painter, load, painted_indices, record
from tests.conftest import XServer

W, H = 320, 180


def read_paint_log(path: Path) -> dict[int, int]:
    times = {}
    for line in path.read_text().splitlines():
        index, t_ns = line.split()
        times[int(index)] = int(t_ns)
    return times


@pytest.mark.parametrize("fps", [30, 60])
@pytest.mark.parametrize("source", ["window", "monitor", "x11grab"])
def test_no_frame_shows_a_picture_painted_after_its_stamp(
    xvfb: XServer, tmp_path: Path, source: str, fps: int
) -> None:
    env = xvfb.env()
    log = tmp_path / "paints.log"
    session = tmp_path / "session"
    with Painter(env, width=W, height=H, x=0, y=0, fps=fps, log=log) as painter:
        if source == "window":
            target = [f"capture.window_id=0x{painter.window_id:x}"]
        else:
            target = [f"capture.region={{left: 0, top: 0, width: {W}, height: {H}}}"]
        done = record(
            session,
            f"capture={source}",
            *target,
            f"capture.width={W}",
            f"capture.height={H}",
            f"capture.fps={fps}",
            "capture.duration=2",
            env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    paints = read_paint_log(log)
    rec = load(session)
    assert len(rec.frames) == len(rec.sync) > 0
    indices = painted_indices(rec.frames, W, H)
    checked = 0
    for index, stamp in zip(indices, rec.sync.monotonic_ns.tolist(), strict=True):
        if index is None or index not in paints:
            continue  # a torn picture whose band does not decode
        checked += 1
        assert paints[index] <= stamp, (
            f"{source}@{fps}: frame stamped {stamp} shows index {index} painted "
            f"{(paints[index] - stamp) / 1e6:.3f} ms later"
        )
    assert checked >= len(indices) // 2
    # Stamps increase; a frame never shows a picture older than the previous frame's.
    assert np.all(np.diff(rec.sync.monotonic_ns) > 0)
    known = [i for i in indices if i is not None]
    assert known == sorted(known)

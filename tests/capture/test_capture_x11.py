"""Recording real X11 windows (on Xvfb) through every X11 source, as a user runs `record`."""

from __future__ import annotations

import json
import threading
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from tests.capture.helpers import Painter, check_consistent, load, painted_indices, record
from tests.conftest import XServer, run_grimjobs

FPS = 15


def assert_advancing(indices: list[int | None], min_decoded: float = 0.9) -> list[int]:
    decoded = [i for i in indices if i is not None]
    assert len(decoded) >= min_decoded * len(indices), indices
    assert all(b > a for a, b in pairwise(decoded)), decoded
    return decoded


@pytest.mark.parametrize("source", ["monitor", "window", "x11grab", "window-x11grab"])
def test_capture_x11_records_the_painted_window(xvfb: XServer, tmp_path: Path, source: str) -> None:
    env = xvfb.env()
    with Painter(env, 480, 270, x=100, y=80) as painter:
        region = "capture.region={left: 100, top: 80, width: 480, height: 270}"
        overrides = {
            "monitor": ["capture=monitor", region, "capture.width=480", "capture.height=270"],
            "x11grab": ["capture=x11grab", region, "capture.width=480", "capture.height=270"],
            # scaled down by 2/3 with letterboxing to a 4:3 output
            "window": [
                "capture=window",
                f"capture.title={painter.title.upper()}",
                "capture.width=320",
                "capture.height=240",
            ],
            "window-x11grab": [
                "capture=window",
                f"capture.window_id=0x{painter.window_id:x}",
                "capture.backend=x11grab",
                "capture.width=320",
                "capture.height=180",
            ],
        }[source]
        result = record(tmp_path, *overrides, f"capture.fps={FPS}", "capture.duration=2", env=env)
    assert result.returncode == 0, result.stderr
    rec = load(tmp_path)
    assert rec.summary["frames"] + rec.summary["dropped"] == rec.summary["capture_slots"] == 2 * FPS
    assert rec.summary["frames"] >= 0.75 * 2 * FPS  # drops are counted, not hidden; a loaded CI may have some
    check_consistent(rec, tmp_path, FPS)
    decoded = assert_advancing(painted_indices(rec.frames, 480, 270))
    # the painter paints 60 frames/s, we sample 15: about 4 painted frames per captured frame
    assert 2 <= np.median(np.diff(decoded)) <= 6
    if source == "window":
        # letterbox: 480x270 into 320x240 is 320x180 centered, black bars above and below
        assert rec.frames[5][:20].max() < 40 and rec.frames[5][-20:].max() < 40
        assert rec.summary["capture"]["stats"]["gaps"] == []


def test_capture_x11_counts_stale_frames(xvfb: XServer, tmp_path: Path) -> None:
    """A window repainting at 5 fps recorded at 15: two of three frames repeat the previous one."""
    env = xvfb.env()
    with Painter(env, 320, 180, x=50, y=50, fps=5) as painter:
        result = record(
            tmp_path,
            "capture=window",
            f"capture.title={painter.title}",
            "capture.width=320",
            "capture.height=180",
            f"capture.fps={FPS}",
            "capture.duration=2",
            env=env,
        )
    assert result.returncode == 0, result.stderr
    rec = load(tmp_path)
    indices = painted_indices(rec.frames, 320, 180)
    repeats = sum(1 for a, b in pairwise(indices) if a is not None and a == b)
    duplicates = rec.summary["capture"]["stats"]["duplicates"]
    assert duplicates == pytest.approx(repeats, abs=2)
    assert duplicates >= 0.5 * len(rec.frames)


def wait_for_frames(session: Path, rows: int, timeout: float = 60) -> None:
    """Act on the window only once the recording is under way (start-up time varies with load)."""
    sync = session / "sync.csv"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sync.exists() and sync.read_bytes().count(b"\n") > rows:
            return
        time.sleep(0.02)


def _move_and_resize(env: dict[str, str], window_id: int, session: Path) -> None:
    from Xlib import display

    d = display.Display(env["DISPLAY"])
    window = d.create_resource_object("window", window_id)
    wait_for_frames(session, 8)
    window.configure(x=400, y=300)
    d.sync()
    time.sleep(0.6)
    window.configure(width=640, height=360)  # same aspect: the pattern stays decodable
    d.sync()
    d.close()


def test_capture_x11_window_moves_and_resizes(xvfb: XServer, tmp_path: Path) -> None:
    env = xvfb.env()
    with Painter(env, 480, 270, x=20, y=20) as painter:
        mover = threading.Thread(target=_move_and_resize, args=(env, painter.window_id, tmp_path))
        mover.start()
        result = record(
            tmp_path,
            "capture=window",
            f"capture.title={painter.title}",
            "capture.width=320",
            "capture.height=180",
            f"capture.fps={FPS}",
            "capture.duration=3",
            env=env,
        )
        mover.join()
    assert result.returncode == 0, result.stderr
    rec = load(tmp_path)
    check_consistent(rec, tmp_path, FPS)
    stats = rec.summary["capture"]["stats"]
    assert stats["gaps"] == []
    assert stats["resizes"] >= 1 and stats["captured_size"] == "640x360"
    assert_advancing(painted_indices(rec.frames, 480, 270))


def _lose_window(env: dict[str, str], painter: Painter, how: str, session: Path) -> None:
    from Xlib import display

    wait_for_frames(session, 6)
    if how == "close":
        painter.close()
        return
    d = display.Display(env["DISPLAY"])
    window = d.create_resource_object("window", painter.window_id)
    window.unmap()  # what minimizing does to a window's visibility
    d.sync()
    time.sleep(0.8)
    window.map()
    d.sync()
    d.close()


@pytest.mark.parametrize(
    ("how", "on_lost"), [("close", "continue"), ("close", "stop"), ("minimize", "continue")]
)
def test_capture_x11_window_lost(xvfb: XServer, tmp_path: Path, how: str, on_lost: str) -> None:
    env = xvfb.env()
    with Painter(env, 320, 180, x=30, y=30) as painter:
        loser = threading.Thread(target=_lose_window, args=(env, painter, how, tmp_path))
        loser.start()
        result = record(
            tmp_path,
            "capture=window",
            f"capture.title={painter.title}",
            "capture.width=320",
            "capture.height=180",
            "capture.fps=10",
            "capture.duration=3.5",
            f"capture.on_lost={on_lost}",
            "capture.rescan_seconds=0.2",
            env=env,
        )
        loser.join()
    assert result.returncode == 0, result.stderr
    rec = load(tmp_path)
    check_consistent(rec, tmp_path, 10)
    assert_advancing(painted_indices(rec.frames, 320, 180))
    summary = rec.summary
    assert summary["frames"] >= 3  # frames before the loss are all there
    if on_lost == "stop":
        assert "closed" in summary["end_reason"]
        assert summary["capture_slots"] < 35
        return
    gaps = summary["capture"]["stats"]["gaps"]
    assert len(gaps) == 1
    gap = gaps[0]
    assert gap["reason"] == ("closed" if how == "close" else "minimized")
    assert gap["slots"] >= 3
    assert summary["end_reason"] == "duration"
    t = rec.sync.monotonic_ns
    if how == "close":
        assert gap["end_ns"] is None and t[-1] < gap["start_ns"]
    else:
        # back after ~0.8 s: the video has a hole in time there and frames after it
        assert gap["end_ns"] is not None and t[-1] > gap["end_ns"]
        assert np.max(np.diff(t)) >= 0.5e9


def test_capture_x11_several_matches_and_no_match(xvfb: XServer, tmp_path: Path) -> None:
    env = xvfb.env()
    with (
        Painter(env, 160, 90, x=0, y=0, fps=5, title="grimjobs twin left") as left,
        Painter(env, 160, 90, x=200, y=0, fps=5, title="grimjobs twin right"),
    ):
        several = record(tmp_path / "a", "capture=window", "capture.title=GRIMJOBS TWIN", env=env)
        assert several.returncode == 2
        line = several.stderr.strip().splitlines()[-1]
        assert "2 windows match" in line and "grimjobs twin left" in line and "grimjobs twin right" in line
        assert "capture.window_id" in line and "Traceback" not in several.stderr

        none = record(tmp_path / "b", "capture=window", "capture.title=grimjobs twn rigth", env=env)
        assert none.returncode == 2
        line = none.stderr.strip().splitlines()[-1]
        assert "no window matches" in line and "'grimjobs twin right'" in line

        manny = record(tmp_path / "c", "capture=window", "game=manny", env=env)
        assert manny.returncode == 2 and "Grim Fandango Remastered" in manny.stderr.strip().splitlines()[-1]

        listed = run_grimjobs("list", "format=json", f"hydra.run.dir={tmp_path / 'list'}", env=env)
        assert listed.returncode == 0, listed.stderr
        data = json.loads(listed.stdout)
        titles = {w["title"]: w for w in data["windows"]}
        assert titles["grimjobs twin left"]["id"] == f"0x{left.window_id:x}"
        assert titles["grimjobs twin left"]["geometry"] == "160x90+0+0"
        assert data["monitors"][0]["index"] == 1
        assert data["monitors"][0]["resolution"] == f"{xvfb.width}x{xvfb.height}"
        assert isinstance(data["controllers"], list)

        table = run_grimjobs("list", f"hydra.run.dir={tmp_path / 'list2'}", env=env)
        assert table.returncode == 0, table.stderr
        assert "grimjobs twin right" in table.stdout and "Monitors" in table.stdout

"""Alignment rule and the export job on generated sessions with known inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from grimjobs.dataset import align
from grimjobs.dataset.controls import AXES, BUTTONS
from grimjobs.session import CAPTURE, SYNC
from grimjobs.session.actions import REASON_DISCONNECT, InputSnapshot
from grimjobs.session.sync import read_sync
from tests.conftest import run_grimjobs
from tests.dataset.sessions import MS, frames_at, make_session

ORIGIN = 10_000 * MS


def test_alignment_rule_and_horizon_example_from_the_docs() -> None:
    snapshots = np.array([0, 40, 45, 100]) * MS
    a_held = np.array([[0], [1], [0], [1]], dtype=bool)
    frames = np.array([-10, 30, 40, 50, 100, 120]) * MS
    rows = align.rows_at(frames, snapshots)
    assert rows.tolist() == [-1, 0, 1, 2, 3, 3]  # no input yet; exactly-at-time counts
    first, last = align.window_rows(frames, snapshots, 20 * MS)
    assert align.window_any(a_held, first, last).ravel().tolist() == [False, True, True, False, True, True]
    mean = align.window_mean(a_held.astype(np.float32), snapshots, frames, 20 * MS).ravel()
    np.testing.assert_allclose(mean, [0, 0.25, 0.25, 0, 1, 1])
    assert align.take(a_held, rows, False).ravel().tolist() == [False, False, True, False, True, True]


def test_alignment_with_no_snapshots_is_neutral() -> None:
    frames = np.array([1, 2, 3])
    empty = np.zeros(0, dtype=np.int64)
    rows = align.rows_at(frames, empty)
    assert rows.tolist() == [-1, -1, -1]
    assert align.take(np.zeros((0, 6), np.float32), rows, 0.0).shape == (3, 6)
    first, last = align.window_rows(frames, empty, 10)
    assert align.window_any(np.zeros((0, 2), bool), first, last).tolist() == [[False, False]] * 3


def _snap(t_ms: float, buttons: tuple[str, ...] = (), reason: int = 0, **axes: float) -> InputSnapshot:
    values = [0.0] * 6
    for name, value in axes.items():
        values[AXES[name]] = value
    return InputSnapshot(
        ORIGIN + round(t_ms * MS),
        axes=values,
        pressed_buttons=[BUTTONS[b] for b in buttons],
        pressed_keys=[4] if "a" in buttons else [],
        reason=reason,
    )


# Frames every 33.3 ms (jittered so measured != nominal); inputs chosen around them.
FRAME_MS = [0.0, 33.3, 66.9, 100.0, 133.1, 166.7, 200.2, 233.3]
SNAPSHOTS = [
    _snap(20.0, ("a",), lefty=-1.0),  # after frame 0: frame 0 has no input yet
    _snap(66.9, ("a", "x")),  # exactly at frame 2's capture time: frame 2 sees it
    _snap(70.0, ("x",), triggerright=0.9),
    _snap(150.0, reason=REASON_DISCONNECT),  # pad unplugged: neutral
]
# Per frame: the snapshot row it must get (-1 = none yet).
EXPECTED_ROWS = [-1, 0, 1, 2, 2, 3, 3, 3]


def _export(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "ds"
    result = run_grimjobs(
        "export", f"out={out}", f"hydra.run.dir={tmp_path / 'run'}", "progress=false", *args
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    root = tmp_path / "sessions"
    make_session(root / "s1", frames_at(*FRAME_MS), SNAPSHOTS)
    make_session(root / "s2", frames_at(*FRAME_MS[:5], origin_ns=ORIGIN + 5000 * MS), [])
    return root


def test_export_lerobot_round_trip(tmp_path: Path, sessions: Path) -> None:
    out = _export(tmp_path, f"sessions={sessions}", "profile=profiles/manny_xbox.yaml", "horizon_ms=40")
    data = pq.read_table(out / "data" / "chunk-000" / "file-000.parquet").to_pydict()
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["total_episodes"] == 2 and info["total_frames"] == 13
    assert info["fps"] == 30.0
    assert info["features"]["action.buttons"]["shape"] == [21]
    assert info["features"]["action"]["names"][:3] == ["walk.x", "walk.y", "run"]
    assert data["episode_index"] == [0] * 8 + [1] * 5
    assert data["index"] == list(range(13))
    assert data["frame_index"] == list(range(8)) + list(range(5))

    # Timestamps are the measured capture times from sync.csv, not frame_index / fps.
    sync = read_sync(sessions / "s1" / SYNC)
    expected = (sync.monotonic_ns - sync.monotonic_ns[0]) / 1e9
    np.testing.assert_allclose(data["timestamp"][:8], expected, atol=1e-6)
    assert data["capture_ns"][:8] == sync.monotonic_ns.tolist()
    assert data["timestamp"][2] == pytest.approx(0.0669, abs=1e-6)

    assert data["input.index"][:8] == EXPECTED_ROWS
    assert data["input.reason"][:8] == [-1, 0, 0, 0, 0, 3, 3, 3]
    assert np.isnan(data["input.age_s"][0]) and data["input.age_s"][2] == 0.0
    buttons = np.array(data["action.buttons"][:8])
    assert buttons[:, BUTTONS["a"]].tolist() == [0, 1, 1, 0, 0, 0, 0, 0]
    assert buttons[:, BUTTONS["x"]].tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    assert np.array(data["action.keys"][:8])[:, 4].tolist() == [0, 1, 1, 0, 0, 0, 0, 0]
    axes = np.array(data["action.axes"][:8])
    assert axes[:, AXES["lefty"]].tolist() == [0, -1, 0, 0, 0, 0, 0, 0]

    names = info["features"]["action"]["names"]
    mapped = np.array(data["action"][:8])
    assert mapped[:, names.index("use")].tolist() == [0, 1, 1, 0, 0, 0, 0, 0]
    assert mapped[:, names.index("examine")].tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    assert mapped[:, names.index("run")].tolist() == [0, 0, 0, 1, 1, 0, 0, 0]
    assert mapped[:, names.index("walk.y")].tolist() == [0, -1, 0, 0, 0, 0, 0, 0]
    assert mapped[:, names.index("choice_up")].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    # Horizon [t, t+40ms): frame 0 (t=0) sees the 20 ms press; frame 4 (133.1) sees the 150 ms unplug
    # but x is still held at its start; frame 5 (166.7) only neutral.
    horizon = np.array(data["horizon.action"][:8])
    assert horizon[:, names.index("use")].tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    assert horizon[:, names.index("examine")].tolist() == [0, 1, 1, 1, 1, 0, 0, 0]
    walk_y = horizon[:, names.index("walk.y")]
    assert walk_y[0] == pytest.approx(-0.5, abs=1e-4)  # held 20 of the 40 ms
    # Second session: no actions.bin records at all -> neutral everywhere.
    assert set(data["input.index"][8:]) == {-1}

    episodes = pq.read_table(out / "meta" / "episodes" / "chunk-000" / "file-000.parquet").to_pylist()
    assert [e["length"] for e in episodes] == [8, 5]
    assert [e["dataset_from_index"] for e in episodes] == [0, 8]
    assert episodes[0]["grimjobs/session"].endswith("s1")
    assert episodes[0]["videos/observation.images.screen/from_timestamp"] == 0.0
    tasks = pq.read_table(out / "meta" / "tasks.parquet").to_pydict()
    assert tasks == {"task_index": [0], "task": ["Play Grim Fandango Remastered"]}
    stats = json.loads((out / "meta" / "stats.json").read_text())
    assert stats["action.axes"]["min"][AXES["lefty"]] == -1.0
    assert stats["frame_index"]["count"] == [13.0]

    # Videos are the sessions' recordings, frame for frame, at the measured timestamps.
    import av

    video = out / "videos" / "observation.images.screen" / "chunk-000" / "file-000.mp4"
    assert video.read_bytes() == (sessions / "s1" / CAPTURE).read_bytes()
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream) if f.time is not None]
    np.testing.assert_allclose(times, data["timestamp"][:8], atol=2e-5)


def test_export_npz_and_remux(tmp_path: Path, sessions: Path) -> None:
    out = _export(tmp_path, f"sessions={sessions}/s*", "format=npz", "video=remux")
    with np.load(out / "dataset.npz") as data:
        assert data["action_buttons"].shape == (13, 21)
        assert data["input_index"][:8].tolist() == EXPECTED_ROWS
        assert data["episode_index"].tolist() == [0] * 8 + [1] * 5
    meta = json.loads((out / "meta.json").read_text())
    assert [e["length"] for e in meta["episodes"]] == [8, 5]
    assert not (out / "parts").exists()


def test_failed_sessions_are_skipped_with_a_reason_unless_included(tmp_path: Path, sessions: Path) -> None:
    broken = sessions / "s3"
    make_session(broken, frames_at(*FRAME_MS), SNAPSHOTS)
    (broken / CAPTURE).unlink()  # no video: the validator fails the session
    out = _export(tmp_path, f"sessions={sessions}")
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["total_episodes"] == 2
    skipped = info["grimjobs"]["skipped"]
    assert len(skipped) == 1 and skipped[0]["session"].endswith("s3")
    assert skipped[0]["skipped"].startswith("validation FAIL")
    out2 = _export(tmp_path / "b", f"sessions={sessions}", "include_failed=true", "video=none")
    assert json.loads((out2 / "meta" / "info.json").read_text())["total_episodes"] == 3
    # Included with videos on: the one episode without a video means no episode gets one, and
    # the user is told which episode caused it.
    out3 = tmp_path / "c" / "ds"
    with_videos = run_grimjobs(
        "export", f"out={out3}", f"hydra.run.dir={tmp_path / 'c' / 'run'}", "progress=false",
        f"sessions={sessions}", "include_failed=true",
    )  # fmt: skip
    assert with_videos.returncode == 0, with_videos.stderr[-3000:]
    output = with_videos.stdout + with_videos.stderr
    assert "1 episode(s) have no video" in output and "s3" in output
    info3 = json.loads((out3 / "meta" / "info.json").read_text())
    assert info3["total_episodes"] == 3 and info3["video_path"] is None
    assert not any(f.get("dtype") == "video" for f in info3["features"].values())


def test_multirun_one_job_per_session_then_merge(tmp_path: Path, sessions: Path) -> None:
    out = tmp_path / "ds"
    result = run_grimjobs(
        "export", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "mode=part", f"out={out}",
        f"sessions={sessions / 's1'},{sessions / 's2'}", f"hydra.sweep.dir={tmp_path / 'multi'}",
        "progress=false",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert len([p for p in (out / "parts").iterdir() if p.is_dir() and not p.name.startswith("_")]) == 2
    merged = run_grimjobs(
        "export", "mode=merge", f"out={out}", f"hydra.run.dir={tmp_path / 'run'}", "progress=false"
    )
    assert merged.returncode == 0, merged.stderr[-3000:]
    data = pq.read_table(out / "data" / "chunk-000" / "file-000.parquet", columns=["episode_index", "index"])
    assert data.column("episode_index").to_pylist() == [0] * 8 + [1] * 5


def test_user_mistakes_are_one_line(tmp_path: Path, sessions: Path) -> None:
    for args, expected in [
        ((f"sessions={tmp_path}/nothing*",), "matches nothing"),
        ((f"sessions={sessions}", "format=csv"), "format='csv' is not allowed"),
        (
            (f"sessions={sessions}", f"profile={tmp_path}/missing.yaml"),
            "missing.yaml: action-mapping profile file not found",
        ),
    ]:
        result = run_grimjobs("export", f"out={tmp_path / 'o'}", f"hydra.run.dir={tmp_path / 'run'}", *args)
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr

"""`python -m grimjobs record` end to end, as the README tells a user to run it."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from grimjobs.capture.pattern import decode_index
from grimjobs.session.actions import read_actions
from grimjobs.session.sync import read_sync
from tests.conftest import ffprobe_frames, run_grimjobs


def decoded_indices(video: Path) -> tuple[list[int | None], list[int]]:
    """Pattern index and pts of every frame, in presentation order."""
    indices: list[int | None] = []
    pts: list[int] = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            indices.append(decode_index(frame.to_ndarray(format="rgb24")))
            pts.append(-1 if frame.pts is None else frame.pts)
    return indices, pts


@pytest.fixture(scope="module")
def default_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    run = tmp_path_factory.mktemp("record") / "run"
    # The README's run command, with only the run folder pinned so the test can find it.
    result = run_grimjobs("record", f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stderr[-2000:]
    return run, result


def test_default_record_writes_a_validated_session(
    default_session: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    run, result = default_session
    for name in (
        "capture.mp4",
        "sync.csv",
        "actions.bin",
        "summary.json",
        ".hydra/config.yaml",
        "record.log",
    ):
        assert (run / name).is_file(), name
    assert f"session: {run}" in result.stdout
    assert "validation: PASS" in result.stdout


def test_every_video_frame_is_the_source_frame_its_sync_row_says(
    default_session: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    run, _ = default_session
    sync = read_sync(run / "sync.csv")
    indices, pts = decoded_indices(run / "capture.mp4")
    assert len(indices) == len(sync) == ffprobe_frames(run / "capture.mp4")
    assert None not in indices
    slots = [i for i in indices if i is not None]
    # Presentation order: pts in the file equal sync.csv's, and the pattern (the capture slot)
    # only moves forward; gaps are exactly the dropped slots.
    assert pts == sync.pts.tolist()
    assert all(b > a for a, b in itertools.pairwise(slots))
    summary = json.loads((run / "summary.json").read_text())
    assert summary["frames"] == len(sync)
    # Every schedule slot is either a frame in the file or counted as dropped (drops may also
    # fall before the first or after the last frame, so compare with all slots, not the span).
    assert slots[0] >= 0 and slots[-1] < summary["capture_slots"]
    assert summary["frames"] + summary["dropped"] == summary["capture_slots"]
    # ~10 s at 30 fps on the recording clock, frame times strictly increasing.
    assert np.all(np.diff(sync.monotonic_ns) > 0)
    assert 9.5 < (sync.monotonic_ns[-1] - sync.monotonic_ns[0]) / 1e9 < 10.5
    # The slot a frame was taken for matches its capture time (within a frame period).
    slot_time = (sync.monotonic_ns - sync.monotonic_ns[0]) / 1e9 * 30
    assert np.all(np.abs(slot_time - (np.array(slots) - slots[0])) < 1.0)


def test_scripted_input_went_through_sdl_into_actions_bin(
    default_session: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    run, _ = default_session
    log = read_actions(run / "actions.bin")
    assert log.torn_bytes == 0
    assert len(log.records) >= 10
    times = [r.monotonic_ns for r in log.records]
    assert times == sorted(times)
    sync = read_sync(run / "sync.csv")
    # One clock: input snapshots fall inside the video's time span (give or take start-up).
    assert sync.monotonic_ns[0] - 2e9 < times[0] and times[-1] < sync.monotonic_ns[-1] + 2e9
    assert any(r.pressed_buttons for r in log.records)
    assert any(any(abs(a) > 0.5 for a in r.axes) for r in log.records)


def test_summary_has_what_a_dataset_builder_needs(
    default_session: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    run, _ = default_session
    summary = json.loads((run / "summary.json").read_text())
    for key in ("frames", "dropped", "duration_s", "effective_fps", "encoder", "input", "environment"):
        assert key in summary, key
    assert summary["encoder"]["config"]["crf"] == 23 and summary["encoder"]["config"]["preset"] == "veryfast"
    assert summary["encoder"]["stats"]["bytes"] == (run / "capture.mp4").stat().st_size
    assert summary["input"]["events"] > 0
    assert summary["environment"]["grimjobs"] and summary["environment"]["packages"]["av"]
    assert 25 < summary["effective_fps"] < 35

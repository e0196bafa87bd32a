"""rerun and multirun: any run can be run again; sweeps make one folder per run."""

from __future__ import annotations

import json
from pathlib import Path

from grimjobs.session.actions import read_actions
from tests.conftest import run_grimjobs
from tests.spine.test_spine_record import decoded_indices


def _states(run: Path) -> list[tuple[tuple[float, ...], tuple[int, ...], tuple[int, ...]]]:
    records = read_actions(run / "actions.bin").records
    return [
        (tuple(round(a, 4) for a in r.axes), tuple(r.pressed_buttons), tuple(r.pressed_keys)) for r in records
    ]


def test_rerun_reproduces_frames_and_actions_into_a_new_folder(tmp_path: Path) -> None:
    first = tmp_path / "first"
    result = run_grimjobs(
        "record", "capture.duration=3", "capture.fps=10", "validate=false", f"hydra.run.dir={first}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    second = tmp_path / "second"
    again = run_grimjobs("rerun", str(first), f"hydra.run.dir={second}")
    assert again.returncode == 0, again.stderr[-2000:]
    saved = (second / ".hydra" / "overrides.yaml").read_text()
    assert "capture.duration=3" in saved and "capture.fps=10" in saved
    a, b = json.loads((first / "summary.json").read_text()), json.loads((second / "summary.json").read_text())
    frames_a, frames_b = decoded_indices(first / "capture.mp4")[0], decoded_indices(second / "capture.mp4")[0]
    # Same slots, same pictures; a loaded machine may drop slots in either run, and then the two
    # differ by those slots only (with no drops they are equal).
    assert None not in frames_a and None not in frames_b
    assert a["capture_slots"] == b["capture_slots"]
    assert len(set(frames_a) ^ set(frames_b)) <= a["dropped"] + b["dropped"]
    states_a, states_b = _states(first), _states(second)
    assert states_a and states_a == states_b


def test_rerun_of_a_folder_that_is_not_a_run_is_one_line(tmp_path: Path) -> None:
    result = run_grimjobs("rerun", str(tmp_path))
    assert result.returncode != 0
    assert "not a run folder" in result.stderr and "Traceback" not in result.stderr


def test_multirun_makes_one_folder_per_value(tmp_path: Path) -> None:
    result = run_grimjobs(
        "record",
        "-m",
        "encoder.crf=18,40",
        "capture.duration=1",
        "input=none",
        "validate=false",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    members = sorted(p.parent for p in (tmp_path / "multirun").rglob("capture.mp4"))
    assert len(members) == 2
    crfs = [json.loads((m / "summary.json").read_text())["encoder"]["config"]["crf"] for m in members]
    assert sorted(crfs) == [18, 40]
    sizes = {c: (m / "capture.mp4").stat().st_size for c, m in zip(crfs, members, strict=True)}
    assert sizes[18] > sizes[40]  # the override really reached the encoder

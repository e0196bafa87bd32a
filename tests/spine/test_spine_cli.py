"""The entry point and the runner: job listing, unknown jobs, one-line config errors, completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import Field

from grimjobs.errors import ConfigError
from grimjobs.jobs import JOBS
from grimjobs.settings import Settings, build
from tests.conftest import ROOT, run_grimjobs


def test_no_job_lists_every_job_with_a_line_each() -> None:
    result = run_grimjobs()
    assert result.returncode == 0
    for name, summary in JOBS.items():
        assert f"{name}  " in result.stdout and summary in result.stdout


def test_unknown_job_is_one_line_listing_the_jobs() -> None:
    result = run_grimjobs("recrod")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown job 'recrod'" in lines[0] and "record" in lines[0] and "validate" in lines[0]


def test_every_job_has_a_module_and_a_primary_config() -> None:
    for name in JOBS:
        assert (ROOT / "grimjobs" / "jobs" / f"{name}.py").is_file(), name
        if name != "rerun":  # rerun replays another job's config
            assert (ROOT / "conf" / f"{name}.yaml").is_file(), name


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("encoder.crf=99", "encoder.crf=99 is not allowed: Input should be less than or equal to 51"),
        ("capture.fps=-1", "capture.fps=-1 is not allowed: Input should be greater than 0"),
        ("capture.width=641", "capture.width=641 is not allowed: must be even (yuv420p video)"),
        ("encoder.preset=fastest", "encoder.preset='fastest' is not allowed: Input should be 'ultrafast'"),
    ],
)
def test_bad_value_exits_nonzero_with_one_line_naming_key_and_rule(
    override: str, expected: str, tmp_path: Path
) -> None:
    result = run_grimjobs("record", "input=none", override, f"hydra.run.dir={tmp_path}/run")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "run" / "capture.mp4").exists()  # nothing was opened


class _Thing:
    class Settings(Settings):
        size: int = Field(3, ge=1)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def test_build_rejects_targets_outside_the_package() -> None:
    with pytest.raises(
        ConfigError, match=r"capture._target_='os.path.join': must name a class under grimjobs"
    ):
        build({"_target_": "os.path.join"}, "capture")


def test_build_names_missing_required_keys() -> None:
    with pytest.raises(ConfigError, match=r"game.name is required but not set; add game.name=<value>"):
        build({"_target_": "grimjobs.game.Game"}, "game")


def test_build_rejects_a_class_of_the_wrong_kind() -> None:
    from grimjobs.capture.base import CaptureSource

    with pytest.raises(ConfigError, match="is not a CaptureSource"):
        build({"_target_": "grimjobs.game.Game", "name": "x"}, "capture", CaptureSource)


def test_cfg_job_prints_the_composed_config_without_running() -> None:
    result = run_grimjobs("record", "--cfg", "job", "input=none", "encoder.crf=30")
    assert result.returncode == 0, result.stderr
    assert (
        "crf: 30" in result.stdout and "_target_: grimjobs.capture.synthetic.SyntheticSource" in result.stdout
    )


def _complete(line: str) -> list[str]:
    """What bash completion offers for a command line (Hydra's -sc query)."""
    result = subprocess.run(
        [sys.executable, "-m", "grimjobs", "-sc", "query=bash"],
        env={**os.environ, "COMP_LINE": line},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def test_shell_completion_completes_job_names_and_each_jobs_overrides() -> None:
    assert set(_complete("grimjobs re")) == {"record", "repair", "replay", "rerun", "report"}
    assert "encoder=" in _complete("grimjobs record enc")
    assert "encoder=x264" in _complete("grimjobs record encoder=")

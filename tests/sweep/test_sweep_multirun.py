"""A local parallel multirun (joblib launcher, 2 jobs) of two tiny recordings: each member is a
complete session with its .hydra/, the sweep report is written at the end, and every member's
config can be printed again (`--cfg job`) from its saved overrides and through `rerun`."""

from __future__ import annotations

import json
from pathlib import Path

# A hard dependency (pyproject): without it this module fails to import, it is never skipped.
import hydra_plugins.hydra_joblib_launcher  # type: ignore[import-untyped]  # noqa: F401
import pytest
import yaml  # type: ignore[import-untyped]
from omegaconf import OmegaConf

from tests.conftest import run_grimjobs

COMMON = (
    "input=none",
    "validate=false",
    "status=false",
    "capture.paced=false",
    "capture.duration=null",
    "capture.max_frames=10",
    "capture.width=320",
    "capture.height=180",
)


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("joblib")
    done = run_grimjobs(
        "record",
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        *COMMON,
        "encoder.crf=20,34",
        f"hydra.sweep.dir={folder}",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


def test_members_are_complete_sessions(joblib_sweep: Path) -> None:
    members = sorted(p for p in joblib_sweep.iterdir() if p.is_dir())
    assert [m.name for m in members] == ["0", "1"]
    crfs = []
    for member in members:
        for name in (
            "capture.mp4",
            "sync.csv",
            "summary.json",
            ".hydra/config.yaml",
            ".hydra/overrides.yaml",
        ):
            assert (member / name).is_file(), member / name
        hydra_cfg = OmegaConf.load(member / ".hydra" / "hydra.yaml")
        assert "JoblibLauncher" in hydra_cfg.hydra.launcher._target_
        summary = json.loads((member / "summary.json").read_text())
        assert summary["frames"] == 10 and summary["quality"]["compared_frames"] == 10
        crfs.append(summary["encoder"]["config"]["crf"])
    assert crfs == [20, 34]
    # Higher crf: fewer bits, lower quality.
    q = [json.loads((m / "summary.json").read_text())["quality"] for m in members]
    assert q[1]["bytes"] < q[0]["bytes"] and q[1]["psnr_db"] < q[0]["psnr_db"]


def test_report_written_after_the_parallel_sweep(joblib_sweep: Path) -> None:
    text = (joblib_sweep / "report.md").read_text()
    assert "2 measured, 0 without quality, 0 failed" in text
    assert "encoder.crf=20" in text and "encoder.crf=34" in text
    assert (joblib_sweep / "report.png").is_file()


def test_cfg_job_of_every_member_matches_its_saved_config(joblib_sweep: Path) -> None:
    for member in sorted(p for p in joblib_sweep.iterdir() if p.is_dir()):
        saved = yaml.safe_load((member / ".hydra" / "config.yaml").read_text())
        overrides = yaml.safe_load((member / ".hydra" / "overrides.yaml").read_text())
        printed = run_grimjobs("record", *overrides, "--cfg", "job")
        assert printed.returncode == 0, printed.stderr
        assert yaml.safe_load(printed.stdout) == saved
        again = run_grimjobs("rerun", str(member), "--cfg", "job")
        assert again.returncode == 0, again.stderr
        assert yaml.safe_load(again.stdout) == saved

"""Sharded validate and export of generated sessions through real launchers (joblib, submitit's
local executor, a real local Ray cluster): the merged dataset is the one-process export, file for
file (same rows, same values, same frames), and the collected verdict table is the one-process
validation's. Plus resume after a lost shard, and the encoder sweep's report through each launcher."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from grimjobs.multirun import VERDICTS_CSV, marker_path, plan_path
from tests.conftest import run_grimjobs
from tests.scale.cluster import RayHead
from tests.scale.conftest import FRAMES, SESSIONS, Corpus, require_launcher
from tests.sweep.test_sweep_multirun import COMMON

SHARDS = 8


def _launcher(name: str, request: pytest.FixtureRequest) -> tuple[list[str], dict[str, str] | None]:
    """Overrides (and the environment) that send a multirun to this launcher."""
    if name == "ray":
        head: RayHead = request.getfixturevalue("ray_head")
        return head.overrides(), head.env
    if name == "submitit_local":
        require_launcher("hydra_plugins.hydra_submitit_launcher.submitit_launcher", "slurm")
        return ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10"], None
    return ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], None


def tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_same_dataset(merged: Path, reference: Path) -> None:
    data = "data/chunk-000/file-000.parquet"
    got, want = pq.read_table(merged / data), pq.read_table(reference / data)
    assert got.num_rows == want.num_rows == SESSIONS * FRAMES
    assert got.schema == want.schema
    # Same rows, same values (NaN where the reference has NaN: compared as text), same order.
    assert json.dumps(got.to_pydict()) == json.dumps(want.to_pydict())
    episodes = "meta/episodes/chunk-000/file-000.parquet"
    assert json.dumps(pq.read_table(merged / episodes).to_pydict()) == json.dumps(
        pq.read_table(reference / episodes).to_pydict()
    )
    info = json.loads((merged / "meta" / "info.json").read_text())
    assert info["total_episodes"] == SESSIONS and info["total_frames"] == SESSIONS * FRAMES
    # Every file, videos included (the recorded frames, byte for byte), is the one-process export's.
    assert tree(merged) == tree(reference)
    assert not (merged / "parts").exists() and not (merged / "shards").exists()


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["joblib", "submitit_local", "ray"])
def test_sharded_export_equals_the_one_process_export(
    launcher: str, corpus: Corpus, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    overrides, env = _launcher(launcher, request)
    out = tmp_path / "ds"
    done = run_grimjobs(
        "export",
        "-m",
        *overrides,
        f"sessions={corpus.sessions}",
        f"out={out}",
        f"shards={SHARDS}",
        "progress=false",
        f"hydra.sweep.dir={tmp_path / 'mr'}",
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert f"merged {SHARDS} shards" in done.stdout
    members = sorted(int(p.name) for p in (tmp_path / "mr").iterdir() if p.name.isdigit())
    assert members == list(range(SHARDS))  # one job per shard, each ran through this launcher
    hydra_cfg = (tmp_path / "mr" / "0" / ".hydra" / "hydra.yaml").read_text()
    expected = {"ray": "RayLauncher", "submitit_local": "LocalLauncher", "joblib": "JoblibLauncher"}
    assert expected[launcher] in hydra_cfg
    assert_same_dataset(out, corpus.reference)


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["joblib", "submitit_local", "ray"])
def test_sharded_validate_collects_one_verdict_table(
    launcher: str, corpus: Corpus, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    overrides, env = _launcher(launcher, request)
    out = tmp_path / "verdicts"
    done = run_grimjobs(
        "validate",
        "-m",
        *overrides,
        f"sessions={corpus.sessions}",
        f"out={out}",
        f"shards={SHARDS}",
        f"hydra.sweep.dir={tmp_path / 'mr'}",
        env=env,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-4000:]
    assert f"validate: {SESSIONS} session(s) from {SHARDS} shards" in done.stdout
    collected = (out / VERDICTS_CSV).read_text().strip()
    assert collected == corpus.verdicts_csv
    assert len(collected.splitlines()) == SESSIONS + 1
    for k in range(SHARDS):
        marker = json.loads(marker_path(out, "validate", k, SHARDS).read_text())
        assert len(marker["reports"]) == 1  # 8 sessions over 8 shards: one each, none twice


def test_lost_shard_blocks_the_merge_and_a_rerun_redoes_only_it(corpus: Corpus, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    command = (
        "export",
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"sessions={corpus.sessions}",
        f"out={out}",
        "shards=4",
        "mode=part",  # convert only: the merge below is by hand
        "progress=false",
    )
    first = run_grimjobs(*command, f"hydra.sweep.dir={tmp_path / 'mr1'}", timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    plan = json.loads(plan_path(out, "export").read_text())
    assert len(plan["sessions"]) == SESSIONS and plan["shards"] == 4

    # Shard 2 "crashed": no marker, one of its parts half there.
    marker = marker_path(out, "export", 2, 4)
    lost = json.loads(marker.read_text())["results"]
    marker.unlink()
    shutil.rmtree(out / "parts" / lost[0]["part"])
    refused = run_grimjobs("export", "mode=merge", f"out={out}", f"hydra.run.dir={tmp_path / 'r'}")
    assert refused.returncode == 2
    assert "shard(s) 2 of 4 have not finished" in refused.stderr and "Traceback" not in refused.stderr

    again = run_grimjobs(*command, f"hydra.sweep.dir={tmp_path / 'mr2'}", timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stderr.count("already done, skipped") == 3
    assert again.stderr.count("session(s) converted") == 1

    merged = run_grimjobs("export", "mode=merge", f"out={out}", f"hydra.run.dir={tmp_path / 'r2'}")
    assert merged.returncode == 0, merged.stderr[-3000:]
    shutil.rmtree(out / "parts")
    shutil.rmtree(out / "shards")
    assert tree(out) == tree(corpus.reference)


def test_stray_parts_are_refused(corpus: Corpus, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    args = ("export", "-m", f"sessions={corpus.sessions}", f"out={out}", "shards=2", "progress=false")
    first = run_grimjobs(*args, "keep_parts=true", f"hydra.sweep.dir={tmp_path / 'mr1'}", timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    (out / "parts" / "other-0000").mkdir()
    (out / "parts" / "other-0000" / "part.json").write_text("{}")
    refused = run_grimjobs("export", "mode=merge", f"out={out}", f"hydra.run.dir={tmp_path / 'r'}")
    assert refused.returncode == 2 and "not sessions of this run" in refused.stderr


SWEEP = (*COMMON, "encoder.crf=20,34")  # the sweep tests' tiny unpaced recordings


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["submitit_local", "ray"])
def test_encoder_sweep_report_from_the_workers_folders(
    launcher: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    overrides, env = _launcher(launcher, request)
    if launcher == "ray":  # the preset that joins the running cluster through RAY_ADDRESS
        overrides = ["hydra/launcher=ray_cluster"]
    folder = tmp_path / "sweep"
    done = run_grimjobs("record", "-m", *overrides, *SWEEP, f"hydra.sweep.dir={folder}", env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    text = (folder / "report.md").read_text()
    assert "2 measured, 0 without quality, 0 failed" in text
    assert "encoder.crf=20" in text and "encoder.crf=34" in text

"""The sweep report on a generated multirun folder with known numbers, and the Pareto front."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grimjobs.sweep.members import LOSSLESS_PSNR_DB, collect
from grimjobs.sweep.pareto import pareto_front
from grimjobs.sweep.report import rank, write_report
from tests.conftest import run_grimjobs

# (folder, overrides, codec, preset, crf, bitrate_bps, psnr_db, ssim); None psnr = identical
RUNS: list[tuple[str, str, str, Any, Any, int, float | None, float]] = [
    ("0", "encoder=x264 encoder.crf=18", "libx264", "veryfast", 18, 4_000_000, 46.0, 0.990),
    ("1", "encoder=x264 encoder.crf=28", "libx264", "veryfast", 28, 1_000_000, 38.0, 0.950),
    ("2", "encoder=x265 encoder.crf=28", "libx265", "veryfast", 28, 800_000, 39.0, 0.960),
    ("3", "encoder=x265 encoder.crf=18", "libx265", "veryfast", 18, 5_000_000, 45.0, 0.985),  # dominated by 0
    ("4", "encoder=svtav1 encoder.crf=40", "libsvtav1", 10, 40, 2_000_000, 44.0, 0.980),
    ("5", "encoder=ffv1", "ffv1", None, None, 80_000_000, None, 1.0),  # lossless
]


def make_member(
    root: Path,
    folder: str,
    overrides: str,
    codec: str,
    preset: Any,
    crf: Any,
    bitrate: int,
    psnr: float | None,
    ssim: float,
) -> None:
    member = root / folder
    (member / ".hydra").mkdir(parents=True)
    common = ["capture.max_frames=30", "input=none"]
    (member / ".hydra" / "overrides.yaml").write_text(
        "".join(f"- {o}\n" for o in [*common, *overrides.split()])
    )
    (member / ".hydra" / "config.yaml").write_text("encoder: {}\n")
    config: dict[str, Any] = {"_target_": f"grimjobs.encoder.{codec}"}
    if preset is not None:
        config["preset"] = preset
    if crf is not None:
        config["crf"] = crf
    summary = {
        "frames": 30,
        "encoder": {"config": config, "stats": {"codec": codec, "bytes": bitrate // 8}},
        "quality": {
            "bytes": bitrate // 8,
            "frames": 30,
            "bitrate_bps": bitrate,
            "bits_per_pixel": 0.1,
            "encode_fps": 100.0,
            "cpu_seconds": 1.0,
            "psnr_db": psnr,
            "ssim": ssim,
            "identical": psnr is None,
            "compared_frames": 30,
        },
    }
    (member / "summary.json").write_text(json.dumps(summary))


@pytest.fixture
def sweep_folder(tmp_path: Path) -> Path:
    for run in RUNS:
        make_member(tmp_path, *run)
    failed = tmp_path / "6" / ".hydra"  # a member whose job failed: config, no summary
    failed.mkdir(parents=True)
    (failed / "config.yaml").write_text("encoder: {}\n")
    (failed / "overrides.yaml").write_text("- encoder.crf=99\n")
    live = tmp_path / "7"  # a recording of a live source: no PSNR
    make_member(tmp_path, "7", "capture=monitor", "libx264", "veryfast", 23, 1_500_000, None, 0.0)
    summary = json.loads((live / "summary.json").read_text())
    summary["quality"] = {
        "bytes": 1,
        "frames": 30,
        "bitrate_bps": 1_500_000,
        "skipped": "capture=monitor ...",
    }
    (live / "summary.json").write_text(json.dumps(summary))
    return tmp_path


def test_table_sorted_by_quality_per_bit_with_the_pareto_front(sweep_folder: Path) -> None:
    report = rank(collect(sweep_folder), "psnr", [sweep_folder / "6"])
    labels = [m.label for m in report.ranked]
    # psnr per Mbit/s: x265/28 48.75, x264/28 38, svtav1 22, x264/18 11.5, x265/18 9, ffv1 100/80=1.25
    assert labels == [
        "encoder=x265 encoder.crf=28",
        "encoder=x264 encoder.crf=28",
        "encoder=svtav1 encoder.crf=40",
        "encoder=x264 encoder.crf=18",
        "encoder=x265 encoder.crf=18",
        "encoder=ffv1",
    ]
    assert report.common == ["capture.max_frames=30", "input=none"]
    # Front by bitrate: x265/28 (0.8M, 39) < svtav1 (2M, 44) < x264/18 (4M, 46) < ffv1 (lossless).
    # x264/28 (1M, 38) and x265/18 (5M, 45) are beaten by a cheaper, better run.
    assert [m.label for m in report.front] == [
        "encoder=x265 encoder.crf=28",
        "encoder=svtav1 encoder.crf=40",
        "encoder=x264 encoder.crf=18",
        "encoder=ffv1",
    ]
    assert [m.label for m in report.unmeasured] == ["capture=monitor"]
    ffv1 = report.ranked[-1]
    assert ffv1.quality("psnr") == LOSSLESS_PSNR_DB and ffv1.series == "ffv1"
    text = report.text()
    assert "6 measured, 1 without quality, 1 failed" in text
    assert "| inf " in text and "no quality for capture=monitor" in text


def test_ssim_metric_ranks_by_ssim(sweep_folder: Path) -> None:
    report = rank(collect(sweep_folder), "ssim")
    assert report.ranked[0].label == "encoder=x265 encoder.crf=28"  # 0.96 / 0.8
    assert [m.label for m in report.front][-1] == "encoder=ffv1"


def test_write_report_files(sweep_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = tmp_path_factory.mktemp("out")
    write_report(sweep_folder, "psnr", out=out)
    rows = list(csv.DictReader((out / "report.csv").open()))
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4", "5", "6", "-"]
    assert [r["pareto"] for r in rows] == ["*", "", "*", "*", "", "*", ""]
    assert rows[0]["Mbit/s"] == "0.800" and rows[0]["PSNR dB"] == "39.00"
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    assert "encoder=svtav1 encoder.crf=40" in (out / "report.md").read_text()


def test_report_job_on_a_folder(sweep_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    run = tmp_path_factory.mktemp("run")
    done = run_grimjobs("report", f"path={sweep_folder}", "png=false", f"hydra.run.dir={run}")
    assert done.returncode == 0, done.stderr
    first_row = next(line for line in done.stdout.splitlines() if line.startswith("| 1 "))
    assert "encoder=x265 encoder.crf=28" in first_row
    missing = run_grimjobs("report", f"path={sweep_folder / 'nope'}", f"hydra.run.dir={run}")
    assert missing.returncode == 2 and missing.stderr.strip().startswith("grimjobs report: error: path=")


def dominated(points: list[tuple[float, float]], i: int) -> bool:
    b, q = points[i]
    return any((b2 <= b and q2 >= q) and (b2 < b or q2 > q) for b2, q2 in points)


@given(st.lists(st.tuples(st.integers(1, 20), st.integers(0, 20)), max_size=30))
def test_pareto_front_is_exactly_the_undominated_points(raw: list[tuple[int, int]]) -> None:
    points = [(float(b), float(q)) for b, q in raw]
    front = pareto_front(points)
    undominated = {points[i] for i in range(len(points)) if not dominated(points, i)}
    assert {points[i] for i in front} == undominated
    assert len(front) == len(undominated)  # one of each set of exact duplicates
    assert [points[i][0] for i in front] == sorted(points[i][0] for i in front)

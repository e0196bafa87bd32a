"""Frozen / black verdicts on real recordings: five kinds of content (tests/validation/corpus.py)
replayed through `record capture=file` (the recorder's x264 encoder, real PyAV encode/decode).
The verdicts name exactly the frozen and the black recording: no false positive on moving
content, a small sprite on a static background, or a dark scene."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grimjobs.validation.validator import SessionReport, SessionValidator
from tests.conftest import run_grimjobs
from tests.validation.corpus import FPS, FROZEN_FRAMES, FROZEN_FROM, KINDS, write_source


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SessionReport]:
    folder = tmp_path_factory.mktemp("corpus")
    sources = [write_source(folder / f"{kind}.mkv", kind) for kind in KINDS]
    done = run_grimjobs(
        "record",
        "-m",
        "capture=file",
        f"capture.path={','.join(str(p) for p in sources)}",
        "capture.paced=false",
        "capture.width=320",
        "capture.height=180",
        "input=none",
        "validate=false",
        "status=false",
        "quality=false",
        f"hydra.sweep.dir={folder / 'sessions'}",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    validator = SessionValidator(SessionValidator.Settings())
    reports = {}
    for summary in sorted((folder / "sessions").glob("*/summary.json")):
        kind = Path(json.loads(summary.read_text())["capture"]["config"]["path"]).stem
        reports[kind] = validator.check(summary.parent)
    assert set(reports) == set(KINDS)
    return reports


def named(report: SessionReport) -> set[str]:
    return {word for word in ("frozen", "black") if any(f"{word} video" in r for r in report.reasons)}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("moving", set()), ("sprite", set()), ("dark", set()), ("frozen", {"frozen"}), ("black", {"black"})],
)
def test_verdict_names_exactly_frozen_and_black(
    corpus: dict[str, SessionReport], kind: str, expected: set[str]
) -> None:
    report = corpus[kind]
    assert named(report) == expected, report.reasons
    assert report.metrics["decoded_all"] and report.metrics["decoded_frames"] == report.metrics["frames"]
    if not expected:
        assert report.verdict == "PASS", report.reasons


def test_the_freeze_is_reported_with_its_time(corpus: dict[str, SessionReport]) -> None:
    report = corpus["frozen"]
    # Frames FROZEN_FROM.. hold one picture: the recorder stamps them with the file's own timing.
    assert report.metrics["repeated_frames"] == FROZEN_FRAMES - 1
    assert report.metrics["longest_freeze_s"] == pytest.approx(FROZEN_FRAMES / FPS, abs=0.5 / FPS)
    reason = next(r for r in report.reasons if "frozen video" in r)
    assert f"at {FROZEN_FROM / FPS:.2f} s for {FROZEN_FRAMES / FPS:.2f} s" in reason


def test_moving_content_has_no_repeated_frame(corpus: dict[str, SessionReport]) -> None:
    for kind in ("moving", "sprite", "dark"):
        assert corpus[kind].metrics["repeated_frames"] == 0, kind
        assert corpus[kind].metrics["black_frames"] == 0, kind
    assert corpus["black"].metrics["black_frames"] == corpus["black"].metrics["frames"]

"""Drops come from the recorder's exact counts when summary.json has them (new capture.loop layout
and the older top-level `dropped`); gaps are reported as gaps with their durations, never as drops;
an unpaced capture gets no drop estimate; a recording that ended early says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from grimjobs.validation.validator import SessionReport, SessionValidator
from tests.validation.fixtures import SessionSpec, write_recorder_summary, write_session


def check(path: Path, **settings: object) -> SessionReport:
    return SessionValidator(SessionValidator.Settings.model_validate(settings)).check(path)


def reasons(report: SessionReport) -> str:
    return " | ".join(report.reasons)


# Four 0.1 s stalls: the interval estimate says 12 frames missing.
STALLS = {20: 0.1, 40: 0.1, 60: 0.1, 80: 0.1}


def test_interval_estimate_without_summary_is_labelled_estimated(tmp_path: Path) -> None:
    report = check(write_session(tmp_path / "s", SessionSpec(frames=120, gaps=STALLS)))
    assert report.metrics["dropped"] == 12 and report.metrics["drops_source"] == "estimated"
    assert "12 frames dropped" in reasons(report) and "estimated" in reasons(report)


@pytest.mark.parametrize("layout", ["new", "old"])
def test_recorder_counts_win_over_the_interval_estimate(tmp_path: Path, layout: str) -> None:
    session = write_session(tmp_path / "s", SessionSpec(frames=120, gaps=STALLS))
    summary = write_recorder_summary(session, dropped_late=3, dropped_queue_full=1, layout=layout)
    report = check(session)
    assert report.metrics["dropped"] == summary["dropped"] == 4  # not the estimate's 12
    assert report.metrics["drops_source"] == "recorder"
    assert "4 frames dropped" in reasons(report) and "estimated" not in reasons(report)
    if layout == "new":
        assert report.metrics["dropped_late"] == 3 and report.metrics["dropped_queue_full"] == 1
        assert "3 capture woke too late, 1 encoder queue full" in reasons(report)


def test_zero_recorded_drops_give_no_drop_warning(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s", SessionSpec(frames=120, gaps=STALLS))
    write_recorder_summary(session)
    report = check(session)
    assert report.metrics["dropped"] == 0 and "dropped" not in reasons(report)


@pytest.mark.parametrize("layout", ["new", "old"])
def test_unpaced_capture_gets_no_drop_or_timing_warning(tmp_path: Path, layout: str) -> None:
    # An unpaced sweep: frames arrive as fast as the encoder takes them, intervals all over the place.
    session = write_session(tmp_path / "s", SessionSpec(frames=120, gaps=STALLS, jitter_ms=15))
    write_recorder_summary(session, paced=False, layout=layout)
    report = check(session)
    assert report.metrics["dropped"] == 0
    assert report.verdict == "PASS", reasons(report)
    assert any("unpaced" in note for note in report.notes)


def test_recorder_gaps_are_gaps_with_durations_not_drops(tmp_path: Path) -> None:
    # A window minimized for 1.5 s of a 4.5 s session (a third of it), as the recorder lists it.
    session = write_session(tmp_path / "s", SessionSpec(frames=90, gaps={45: 1.5}))
    write_recorder_summary(session, gaps=[(44, 45, "source")])
    report = check(session)
    assert report.verdict == "WARN", reasons(report)  # not FAIL "33% dropped"
    assert report.metrics["dropped"] == 0 and report.metrics["gaps"] == 1
    assert report.metrics["gap_slots"] == 45
    assert report.metrics["gap_s"] == pytest.approx(1.533, abs=0.01)
    text = reasons(report)
    assert "1 capture gap" in text and "minimized" in text and "at 1.47 s for 1.53 s" in text
    assert "dropped" not in text and "late frames" not in text and "effective" not in text
    # Their own thresholds: tolerated up to a fraction, or made fatal.
    assert check(session, max_gap_fraction=0.5).verdict == "PASS"
    assert check(session, fail_gap_fraction=0.2).verdict == "FAIL"


def test_interval_gaps_of_a_foreign_session_are_reported_with_durations(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s", SessionSpec(frames=150, gaps={30: 1.2, 100: 2.0}))
    report = check(session)
    assert report.metrics["gaps"] == 2 and report.metrics["dropped"] == 0
    assert "2 capture gap(s)" in reasons(report) and "for 2.03 s" in reasons(report)
    assert "dropped" not in reasons(report)


def test_window_closed_early_is_named(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s", SessionSpec(frames=60))
    write_recorder_summary(
        session, duration=10.0, end_reason="source ended: window 0x1a00003 'game' closed at 1.970 s"
    )
    report = check(session)
    assert report.verdict == "WARN" and "recording ended early" in reasons(report)
    assert "of the 10 s asked for" in reasons(report) and "closed" in reasons(report)
    # A file source reaching the end of its file (nothing asked for beyond it) is a normal end.
    write_recorder_summary(session, end_reason="source ended: end of file")
    assert check(session).verdict == "PASS"

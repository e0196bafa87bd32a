"""Each defect of a generated session gets the verdict docs/VALIDATION.md promises, for the stated reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from grimjobs.session import ACTIONS, CAPTURE, SYNC
from grimjobs.session.actions import REASON_EVENT, InputSnapshot, encode_record
from grimjobs.validation.validator import SessionReport, SessionValidator
from tests.validation.fixtures import SessionSpec, cut_file, tear_tail, write_session


def check(path: Path, **settings: object) -> SessionReport:
    return SessionValidator(SessionValidator.Settings.model_validate(settings)).check(path)


def reasons(report: SessionReport) -> str:
    return " | ".join(report.reasons)


def test_clean_session_passes_with_metrics(tmp_path: Path) -> None:
    report = check(write_session(tmp_path / "s", SessionSpec(frames=90, jitter_ms=2)))
    assert report.verdict == "PASS", reasons(report)
    m = report.metrics
    assert m["frames"] == 90 and m["video_packets"] == 90 and m["pts_mismatches"] == 0
    assert m["effective_fps"] == pytest.approx(30, rel=0.02)
    assert m["interval_p50_ms"] == pytest.approx(33.3, abs=2.5)
    assert m["input_events"] > 0 and m["distinct_buttons"] > 0 and m["distinct_axes"] > 0
    assert m["decoded_frames"] == 90 and m["decoded_all"] and m["repeated_frames"] == 0
    assert report.as_dict()["verdict"] == "PASS"


@pytest.mark.parametrize("name", [ACTIONS, SYNC])
def test_torn_tail_is_truncated_warn(tmp_path: Path, name: str) -> None:
    session = write_session(tmp_path / "s")
    tear_tail(session / name)
    report = check(session)
    assert report.verdict == "WARN" and report.truncated, reasons(report)
    assert name in reasons(report) and "truncated" in reasons(report)


def test_video_shorter_than_sync_is_truncated_warn_saying_what_was_lost(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s")
    cut_file(session / CAPTURE, 0.6)
    report = check(session)
    assert report.verdict == "WARN" and report.truncated, reasons(report)
    assert "frames" in reasons(report) and "s of video lost" in reasons(report)


def test_capture_gap_warns_as_a_gap_not_as_drops(tmp_path: Path) -> None:
    report = check(write_session(tmp_path / "s", SessionSpec(frames=450, gaps={200: 1.5})))
    assert report.verdict == "WARN", reasons(report)
    assert report.metrics["gaps"] == 1 and report.metrics["longest_gap_s"] == pytest.approx(1.533, abs=0.01)
    assert report.metrics["missing_frames"] == 0 and report.metrics["dropped"] == 0
    assert "capture gap" in reasons(report) and "for 1.53 s" in reasons(report)
    assert "dropped" not in reasons(report)


def test_many_short_stalls_without_recorder_counts_fail_as_estimated_drops(tmp_path: Path) -> None:
    # Ten 0.1 s stalls (3 frames each) in 90 frames and no summary.json: 30 of 120 frames missing.
    stalls = {index: 0.1 for index in range(5, 90, 9)}
    report = check(write_session(tmp_path / "s", SessionSpec(gaps=stalls)))
    assert report.metrics["dropped"] == 30 and report.metrics["drops_source"] == "estimated"
    assert report.verdict == "FAIL" and "30 frames dropped" in reasons(report)
    assert "estimated" in reasons(report)


def test_frozen_video_warns(tmp_path: Path) -> None:
    report = check(write_session(tmp_path / "s", SessionSpec(picture="frozen")))
    assert report.verdict == "WARN" and "frozen video" in reasons(report)


def test_black_video_warns(tmp_path: Path) -> None:
    report = check(write_session(tmp_path / "s", SessionSpec(picture="black")))
    assert "black video" in reasons(report) and report.verdict == "WARN"


def test_small_drift_warns_large_drift_fails(tmp_path: Path) -> None:
    small = check(write_session(tmp_path / "a", SessionSpec(drift_ppm=2000)))  # 6 ms over 3 s
    assert small.verdict == "WARN" and "drifts" in reasons(small)
    large = check(write_session(tmp_path / "b", SessionSpec(drift_ppm=20000)))  # 60 ms
    assert large.verdict == "FAIL" and "drifts" in reasons(large)


def test_clean_disconnect_passes_stale_disconnect_fails(tmp_path: Path) -> None:
    clean = check(write_session(tmp_path / "a", SessionSpec(disconnect_at=0.4, reconnect_at=0.7, seed=3)))
    assert clean.verdict == "PASS", reasons(clean)
    assert clean.metrics["input_disconnects"] == 1 and clean.metrics["input_stale_records"] == 0
    stale = check(
        write_session(
            tmp_path / "b", SessionSpec(disconnect_at=0.4, stale_disconnect=True, seed=3, events_per_s=20)
        )
    )
    assert stale.verdict == "FAIL" and "stale state" in reasons(stale)


def test_out_of_order_input_fails(tmp_path: Path) -> None:
    report = check(write_session(tmp_path / "s", SessionSpec(out_of_order=3)))
    assert report.verdict == "FAIL" and report.metrics["input_out_of_order"] == 3, reasons(report)


@pytest.mark.parametrize("name", [CAPTURE, SYNC, ACTIONS])
def test_missing_file_fails(tmp_path: Path, name: str) -> None:
    session = write_session(tmp_path / "s")
    (session / name).unlink()
    report = check(session)
    assert report.verdict == "FAIL" and f"{name} is missing" in reasons(report)


@pytest.mark.parametrize("name", [CAPTURE, SYNC])
def test_empty_video_or_sync_fails(tmp_path: Path, name: str) -> None:
    session = write_session(tmp_path / "s")
    (session / name).write_bytes(b"")
    report = check(session)
    assert report.verdict == "FAIL" and name in reasons(report)


def test_empty_actions_is_a_note_unless_input_required(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s")
    (session / ACTIONS).write_bytes(b"")
    report = check(session)
    assert report.verdict == "PASS" and any("no input" in note for note in report.notes)
    assert check(session, require_input=True).verdict == "FAIL"


def test_garbage_in_actions_fails(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s")
    good = encode_record(InputSnapshot(10**12, reason=REASON_EVENT))
    (session / ACTIONS).write_bytes(good + b"\x05\x00\x00\x00\xff\xff\xff\xff\xff")
    report = check(session)
    assert report.verdict == "FAIL" and "does not parse" in reasons(report)


def test_more_video_frames_than_sync_rows_fails(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s")
    lines = (session / SYNC).read_text().splitlines(keepends=True)
    (session / SYNC).write_text("".join(lines[:-10]))
    report = check(session)
    assert report.verdict == "FAIL" and "frames without a time" in reasons(report)


def test_non_monotonic_sync_fails(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s")
    lines = (session / SYNC).read_text().splitlines(keepends=True)
    lines[10], lines[11] = lines[11].replace("10,", "9,", 1), lines[10].replace("9,", "10,", 1)
    (session / SYNC).write_text("".join(lines))
    report = check(session)
    assert report.verdict == "FAIL" and "monotonic_ns fails to increase" in reasons(report)

"""repair round trips: a session cut short becomes consistent, verified, with the originals kept."""

from __future__ import annotations

import json
from pathlib import Path

from grimjobs.session import ACTIONS, CAPTURE, SYNC
from grimjobs.session.actions import read_actions_table
from grimjobs.session.sync import read_sync
from grimjobs.validation.repair import repair_session
from grimjobs.validation.validator import SessionValidator
from grimjobs.validation.video import demux
from tests.conftest import run_grimjobs
from tests.validation.fixtures import SessionSpec, cut_file, tear_tail, write_session


def validator() -> SessionValidator:
    return SessionValidator(SessionValidator.Settings())


def killed_session(path: Path) -> Path:
    session = write_session(path, SessionSpec(frames=150, keyframe_interval=15))
    cut_file(session / CAPTURE, 0.6)
    tear_tail(session / ACTIONS)
    tear_tail(session / SYNC)
    return session


def test_killed_session_repairs_to_pass_and_keeps_originals(tmp_path: Path) -> None:
    session = killed_session(tmp_path / "s")
    before = {name: (session / name).read_bytes() for name in (ACTIONS, SYNC, CAPTURE)}
    records_before = len(read_actions_table(session / ACTIONS))
    assert validator().check(session).verdict == "WARN"

    result = repair_session(session)
    assert not result.problems
    assert any(ACTIONS in a for a in result.actions) and any(
        CAPTURE in a and "remuxed" in a for a in result.actions
    )
    for name, data in before.items():  # the originals, byte for byte
        assert (session / f"{name}.orig").read_bytes() == data
    table = read_actions_table(session / ACTIONS)
    assert table.torn_bytes == 0 and len(table) == records_before
    video = demux(session / CAPTURE)
    sync = read_sync(session / SYNC)
    assert not video.error and video.packets == len(sync) and (video.pts == sync.pts).all()
    report = validator().check(session)
    assert report.verdict == "PASS", report.reasons
    assert any("repaired" in note for note in report.notes)
    assert json.loads((session / "repair.json").read_text())[0]["actions"] == result.actions

    again = repair_session(session)  # idempotent: nothing left to do
    assert not again.changed and not again.problems


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    session = killed_session(tmp_path / "s")
    before = {p.name: p.read_bytes() for p in session.iterdir()}
    result = repair_session(session, dry_run=True)
    assert result.changed
    assert {p.name: p.read_bytes() for p in session.iterdir()} == before


def test_repair_without_keeping_originals(tmp_path: Path) -> None:
    session = killed_session(tmp_path / "s")
    repair_session(session, keep_originals=False)
    assert not list(session.glob("*.orig*")) and validator().check(session).verdict == "PASS"


def test_repair_job_says_what_it_did(tmp_path: Path) -> None:
    session = killed_session(tmp_path / "s")
    done = run_grimjobs("repair", f"path={session}", f"hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 0, done.stderr
    assert "did: actions.bin: cut the torn tail" in done.stdout and "validation: PASS" in done.stdout

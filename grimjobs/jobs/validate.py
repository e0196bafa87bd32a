"""validate: check one session or every session under a folder; exit 1 if any FAILs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from omegaconf import DictConfig

from grimjobs.errors import UserError
from grimjobs.runner import hydra_job
from grimjobs.session import find_sessions
from grimjobs.settings import build

log = logging.getLogger("grimjobs.validate")

FORMATS = ("table", "json", "csv")


def session_paths(path_setting: object, job: str = "validate") -> list[Path]:
    """The sessions named by `path=`, or a UserError saying what is wrong with it."""
    if path_setting in (None, "", "???"):
        raise UserError(f"path is required: {job} path=<session folder or folder of sessions>")
    path = Path(str(path_setting)).expanduser()
    if not path.exists():
        raise UserError(f"path={path}: no such file or folder; give a session folder or a folder of sessions")
    if not path.is_dir():
        raise UserError(f"path={path}: is a file; give the session folder that holds it")
    sessions = find_sessions(path)
    if not sessions:
        raise UserError(f"path={path}: no session found (no capture.mp4, sync.csv or actions.bin below it)")
    return sessions


@hydra_job("validate")
def main(cfg: DictConfig) -> int:
    from grimjobs.validation.render import render
    from grimjobs.validation.validator import SessionValidator

    if cfg.format not in FORMATS:
        raise UserError(f"format={cfg.format}: choose one of {', '.join(FORMATS)}")
    run = None
    if cfg.get("sessions") is not None or cfg.get("shards", 1) != 1:
        from grimjobs.multirun import open_validate_shard

        run, sessions = open_validate_shard(cfg, lambda: session_paths(cfg.get("path")))
    else:
        sessions = session_paths(cfg.get("path"))
    validator = build(cfg.validation, "validation", SessionValidator)
    reports = []
    progress = sys.stderr.isatty() and len(sessions) > 1
    for number, session in enumerate(sessions, start=1):
        if progress:
            print(f"\rvalidating {number}/{len(sessions)}: {session}", end="", file=sys.stderr, flush=True)
        report = validator.check(session)
        log.debug("%s: %s %s", session, report.verdict, "; ".join(report.reasons))
        reports.append(report)
    if progress:
        print(file=sys.stderr)
    print(render(reports, str(cfg.format)))
    if run is not None:
        run.finish({"reports": [r.as_dict() for r in reports]})  # the callback collects these
    if cfg.get("report"):
        from grimjobs.validation.report import write_reports

        index = write_reports(reports, Path(str(cfg.report)))
        print(f"report: {index}", file=sys.stderr)
    return 1 if any(r.verdict == "FAIL" for r in reports) else 0

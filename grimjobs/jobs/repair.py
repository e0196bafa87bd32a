"""repair: make sessions cut short by a crash consistent and playable again, then re-validate them."""

from __future__ import annotations

from omegaconf import DictConfig

from grimjobs.errors import UserError
from grimjobs.jobs.validate import session_paths
from grimjobs.runner import hydra_job
from grimjobs.settings import build


@hydra_job("repair")
def main(cfg: DictConfig) -> int:
    from grimjobs.validation.repair import RepairError, repair_session
    from grimjobs.validation.validator import SessionValidator

    sessions = session_paths(cfg.get("path"), "repair")
    validator = build(cfg.validation, "validation", SessionValidator)
    status = 0
    for session in sessions:
        try:
            result = repair_session(session, bool(cfg.keep_originals), bool(cfg.dry_run))
        except RepairError as exc:
            raise UserError(f"{session}: {exc}; the original files are untouched") from None
        verb = "would" if cfg.dry_run else "did"
        if not result.changed and not result.problems:
            print(f"{session}: nothing to repair")
        for line in result.actions:
            print(f"{session}: {verb}: {line}")
        for line in result.problems:
            print(f"{session}: cannot repair: {line}")
        if result.originals:
            print(f"{session}: originals kept as {', '.join(result.originals)}")
        report = validator.check(session)
        print(
            f"{session}: validation: {report.verdict}"
            + (f" ({'; '.join(report.reasons)})" if report.reasons else "")
        )
        if report.verdict == "FAIL" or result.problems:
            status = 1
    return status

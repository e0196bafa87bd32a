"""report: the table and Pareto plot of an encoder sweep folder (also written by the record job's
sweep callback at the end of every multirun)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from grimjobs.errors import UserError
from grimjobs.runner import hydra_job
from grimjobs.sweep.members import METRICS


@hydra_job("report")
def main(cfg: DictConfig) -> int:
    if cfg.path is None:
        raise UserError("path is required: python -m grimjobs report path=<multirun folder>")
    folder = Path(str(cfg.path)).expanduser()
    if not folder.is_dir():
        raise UserError(
            f"path={cfg.path}: no such folder; pass a multirun folder such as multirun/<date>/<time>"
        )
    if cfg.metric not in METRICS:
        raise UserError(f"metric={cfg.metric!r} is not allowed: use one of {', '.join(METRICS)}")
    from grimjobs.sweep.report import REPORT_MD, REPORT_PNG, write_report

    out = Path(str(cfg.out)).expanduser() if cfg.out is not None else folder
    report = write_report(folder, str(cfg.metric), out=out, png=bool(cfg.png))
    if not report.ranked and not report.unmeasured:
        raise UserError(f"path={cfg.path}: no recordings (summary.json) below this folder")
    print(report.text(), end="")
    print(f"report: {out / REPORT_MD}" + (f", {out / REPORT_PNG}" if cfg.png else ""))
    return 0

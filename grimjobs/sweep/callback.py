"""A Hydra callback that writes the sweep report at the end of every `record -m` multirun.

Configured in conf/record.yaml (`hydra.callbacks.sweep_report`). It runs in the launching process
after every member has finished, whatever the launcher (basic, joblib, submitit, ray).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger("grimjobs.sweep")


class SweepReportCallback(Callback):
    def __init__(self, metric: str = "psnr", png: bool = True) -> None:
        self.metric = metric
        self.png = png

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from grimjobs.sweep.report import REPORT_MD, write_report

        folder = Path(str(config.hydra.sweep.dir))
        if not folder.is_dir():
            return
        try:
            report = write_report(folder, self.metric, png=self.png)
        except Exception:  # a report must never turn a finished sweep into a failure
            log.exception("could not write the sweep report in %s", folder)
            return
        print(report.table())
        print(f"sweep report: {folder / REPORT_MD}")

"""Turns a job function into a complete Hydra app and builds validated components from config.

Every job goes through `hydra_job`, so each has `-m`, `--cfg`, `--info`, shell completion, a run
folder with `.hydra/` and a job log. User mistakes (`UserError`) end the job with one line on
stderr and exit status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from omegaconf import DictConfig

from grimjobs.config_dir import config_dir
from grimjobs.errors import UserError

log = logging.getLogger("grimjobs")

EXIT_USER_ERROR = 2


def run_dir() -> Path:
    """The folder Hydra made for this run (the current run's output_dir)."""
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().runtime.output_dir)


def hydra_job(job: str) -> Callable[[Callable[[DictConfig], int | None]], Callable[[], None]]:
    """Wrap `fn(cfg) -> exit status` as the Hydra app for `conf/<job>.yaml`."""
    import hydra

    def wrap(fn: Callable[[DictConfig], int | None]) -> Callable[[], None]:
        def task(cfg: DictConfig) -> int:
            try:
                status = fn(cfg) or 0
            except UserError as exc:
                _log_to_file(logging.ERROR, str(exc))
                print(f"grimjobs {job}: error: {exc}", file=sys.stderr, flush=True)
                status = EXIT_USER_ERROR
            except KeyboardInterrupt:
                print(f"grimjobs {job}: interrupted", file=sys.stderr, flush=True)
                status = 130
            if status and not is_multirun():
                sys.exit(status)
            return status

        task.__name__ = job
        task.__module__ = fn.__module__
        return hydra.main(version_base="1.3", config_path=str(config_dir()), config_name=job)(task)  # type: ignore[no-any-return]

    return wrap


def _log_to_file(level: int, message: str) -> None:
    """Put a message in the job log only; the console gets its own single line."""
    record = log.makeRecord(log.name, level, __file__, 0, message, (), None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def is_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    try:
        return HydraConfig.get().mode == RunMode.MULTIRUN
    except ValueError:
        return False

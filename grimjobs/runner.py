"""Turns a job function into a complete Hydra app and builds validated components from config.

Every job goes through `hydra_job`, so each has `-m`, `--cfg`, `--info`, shell completion, a run
folder with `.hydra/` and a job log. User mistakes (`UserError`) end the job with one line on
stderr and exit status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel, ConfigDict, ValidationError

from grimjobs.config_dir import config_dir
from grimjobs.errors import ConfigError, UserError

log = logging.getLogger("grimjobs")

EXIT_USER_ERROR = 2


class Settings(BaseModel):
    """Base for every component's parameters: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


C = TypeVar("C")


def format_validation_error(error: ValidationError, key: str, values: Mapping[str, Any]) -> str:
    """One line per the first problem: `encoder.crf=99: Input should be less than or equal to 51`."""
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    full_key = f"{key}.{loc}" if loc else key
    top = first["loc"][0] if first["loc"] else None
    if first["type"] == "missing":
        return f"{full_key} is required but not set; add {full_key}=<value> to the command line"
    message = str(first["msg"]).removeprefix("Value error, ")
    if not loc:  # a check across several fields: the message names them
        return f"{key}: {message}"
    value = values.get(top, first.get("input")) if isinstance(top, str) else first.get("input")
    shown = OmegaConf.to_container(value) if isinstance(value, DictConfig) else value
    return f"{full_key}={shown!r} is not allowed: {message}"


def target_class(node: DictConfig | Mapping[str, Any], key: str) -> type[Any]:
    """Import the `_target_` class of a config node; it must live under `grimjobs.`."""
    import importlib

    target = node.get("_target_") if node is not None else None
    if not isinstance(target, str) or not target.startswith("grimjobs."):
        raise ConfigError(f"{key}._target_={target!r}: must name a class under grimjobs.*")
    module_name, _, class_name = target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{key}._target_={target!r} cannot be imported: {exc}") from None
    if not isinstance(cls, type):
        raise ConfigError(f"{key}._target_={target!r} is not a class")
    return cls


def validate_settings(cls: type[Any], node: DictConfig | Mapping[str, Any], key: str) -> Any:
    """Validate a config node against `cls.Settings`; the error names the key, value and rule."""
    raw = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    assert isinstance(raw, dict)
    values = {str(k): v for k, v in raw.items() if k != "_target_"}
    try:
        return cls.Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, key, values)) from None


def build(node: DictConfig | Mapping[str, Any], key: str, expect: type[C] | None = None) -> C:
    """Instantiate a component from its config node after validating its parameters.

    Constructors only store settings; devices and files open later in `open()`, so a bad value
    anywhere in the config fails before anything is touched.
    """
    cls = target_class(node, key)
    if expect is not None and not issubclass(cls, expect):
        raise ConfigError(f"{key}._target_={cls.__module__}.{cls.__name__} is not a {expect.__name__}")
    settings = validate_settings(cls, node, key)
    return cls(settings)  # type: ignore[no-any-return]


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

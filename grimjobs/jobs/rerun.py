"""rerun: run a past run folder's job again, from its saved overrides and config, into a new folder.

`python -m grimjobs rerun <run folder> [extra overrides]` (or `rerun path=<run folder> ...`).
The job is recomposed from the saved overrides so config groups still work (`rerun <dir>
encoder=x265`). If `conf/` changed since the run, every value that now differs from the saved
`.hydra/config.yaml` is pinned back with an override, so the rerun uses exactly the saved config.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from grimjobs.errors import UserError
from grimjobs.jobs import JOBS

log = logging.getLogger("grimjobs.rerun")


def saved_run(folder: Path) -> tuple[str, list[str], Path]:
    """(job, task overrides, original working directory) of a run folder."""
    from omegaconf import OmegaConf

    hydra_yaml = folder / ".hydra" / "hydra.yaml"
    if not hydra_yaml.is_file():
        raise UserError(
            f"{folder}: not a run folder (no .hydra/hydra.yaml); pass a folder under outputs/ or multirun/"
        )
    hydra_cfg = OmegaConf.load(hydra_yaml).hydra
    job = str(hydra_cfg.job.name)
    if job not in JOBS or job == "rerun":
        raise UserError(f"{hydra_yaml}: job {job!r} cannot be rerun")
    overrides = [str(o) for o in hydra_cfg.overrides.task]
    return job, overrides, Path(str(hydra_cfg.runtime.cwd))


def _render(value: Any) -> str:
    """A config value in Hydra's override grammar (lists and dicts included)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ",".join(_render(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{_render(item)}" for key, item in value.items()) + "}"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value for every non-dict value (a list is one value)."""
    if not isinstance(node, dict):
        return {prefix[:-1]: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(_leaves(value, f"{prefix}{key}."))
    return out


def pinned_overrides(job: str, overrides: list[str], saved_config: Path) -> list[str]:
    """Overrides that bring today's composition of `job` back to the saved config."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from grimjobs.config_dir import config_dir

    if not saved_config.is_file():
        return []
    with initialize_config_dir(str(config_dir()), version_base="1.3", job_name=job):
        now = OmegaConf.to_container(compose(job, overrides=overrides), resolve=False)
    before = OmegaConf.to_container(OmegaConf.load(saved_config), resolve=False)
    now_leaves, before_leaves = _leaves(now), _leaves(before)
    pins = []
    for key, value in before_leaves.items():
        if key not in now_leaves:
            pins.append(f"+{key}={_render(value)}")
        elif now_leaves[key] != value:
            pins.append(f"{key}={_render(value)}")
    for key in now_leaves.keys() - before_leaves.keys():
        pins.append(f"~{key}")
    if pins:
        print(
            f"grimjobs rerun: conf/ changed since this run; pinning the saved values: {' '.join(pins)}",
            file=sys.stderr,
        )
    return pins


def rerun_argv(args: list[str]) -> tuple[str, list[str]]:
    """Translate `rerun <folder> [extra]` into (job, argv for that job's Hydra app)."""
    import os

    if not args:
        raise SystemExit(
            "grimjobs rerun: error: give a run folder: grimjobs rerun outputs/<date>/<time>_<job> [overrides]"
        )
    first, extra = args[0], args[1:]
    folder = Path(first.removeprefix("path=")).expanduser()
    try:
        job, overrides, cwd = saved_run(folder.resolve())
        pins = pinned_overrides(job, overrides, folder / ".hydra" / "config.yaml")
    except UserError as exc:
        raise SystemExit(f"grimjobs rerun: error: {exc}") from None
    if cwd.is_dir():
        os.chdir(cwd)  # relative paths in the saved config meant the original working directory
    log.info("rerunning %s from %s", job, folder)
    return job, [*overrides, *pins, *extra]

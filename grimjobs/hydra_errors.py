"""Hydra's own errors (a typo in a group option or a key, an unwritable run folder) as one line.

Hydra prints 7-16 lines and exits 1 for a mistyped override. `one_line_hydra_errors` wraps
Hydra's reporting function for the duration of one job so that composition errors, override parse
errors and OS errors while Hydra makes the run folder end the job with one line, exit 2, and a
"did you mean" from the group's options or the node's keys. Any other exception keeps Hydra's
report (it is a bug, and the traceback matters).
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from grimjobs.config_dir import config_dir

EXIT_USER_ERROR = 2

_MISSING_OPTION = re.compile(r"Could not find '([^']+)'")
_MISSING_OVERRIDE = re.compile(r"Could not override '([^']+)'")
_NO_KEY = re.compile(r"Key '([^']+)' is not in struct")


def group_options(group: str) -> list[str]:
    """The options of a config group: the YAML files in conf/<group>/."""
    folder = config_dir() / group
    return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []


def did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(close) + "?"
    return ("choose from " + ", ".join(candidates)) if candidates else ""


def _node_keys(exc: BaseException) -> list[str]:
    """The keys of the node an override tried to set a missing key in (OmegaConf's parent_node)."""
    node = getattr(exc.__cause__, "parent_node", None) or getattr(exc, "parent_node", None)
    try:
        return [str(key) for key in node.keys()] if node is not None else []
    except Exception:  # a node type without keys(): no suggestion
        return []


def one_line(exc: BaseException, job: str) -> str | None:
    """The single line for a user mistake Hydra reports, or None for anything else."""
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException

    text = f"{exc}\n{exc.__cause__ or ''}"
    if isinstance(exc, OSError):
        where = exc.filename or "the run folder"
        return f"cannot write {where}: {exc.strerror or exc}; choose another folder (hydra.run.dir=<folder>)"
    if isinstance(exc, MissingConfigException):
        found = _MISSING_OPTION.search(text)
        missing = found.group(1) if found else (exc.missing_cfg_file or "")
        group, _, option = missing.rpartition("/")
        if group:
            options = group_options(group)
            return f"{group}={option}: no such option of {group}; {did_you_mean(option, options)}".rstrip("; ")
        return f"{missing}: no such config"
    if isinstance(exc, ConfigCompositionException):
        override = _MISSING_OVERRIDE.search(text)
        key = _NO_KEY.search(text)
        if override and key:
            full_key = override.group(1)
            parent = full_key.rpartition(".")[0]
            keys = [k for k in _node_keys(exc) if not k.startswith("_")]
            hint = did_you_mean(key.group(1), keys)
            where = f"{parent} has no key {key.group(1)!r}" if parent else f"{job} has no key {full_key!r}"
            return f"{full_key}: {where}; {hint}".rstrip("; ")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return first
    if isinstance(exc, OverrideParseException):
        return str(exc).strip().splitlines()[0]
    return None


@contextmanager
def one_line_hydra_errors(job: str) -> Iterator[None]:
    """While inside, Hydra reports user mistakes in one line and exits 2."""
    import hydra._internal.utils as hydra_utils

    original: Callable[[Any], Any] = hydra_utils.run_and_report

    def run_and_report(func: Any) -> Any:
        try:
            return func()
        except SystemExit:
            raise
        except Exception as exc:
            line = one_line(exc, job)
            if line is None:
                return original(lambda: _reraise(exc))
            print(f"grimjobs {job}: error: {line}", file=sys.stderr, flush=True)
            sys.exit(EXIT_USER_ERROR)

    hydra_utils.run_and_report = run_and_report
    try:
        yield
    finally:
        hydra_utils.run_and_report = original


def _reraise(exc: BaseException) -> Any:
    raise exc

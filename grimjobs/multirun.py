"""Sharded `export` / `validate` multiruns: the shard plan, per-shard done markers, and the Hydra
callbacks that merge the export parts / collect the verdicts once every shard has finished.

    python -m grimjobs export -m hydra/launcher=ray sessions='rec/**/' out=ds shards=8

The launching process lists the sessions once (`on_multirun_start`) into `<out>/shards/<job>-plan.json`;
the sweeper fans `shard` out over range(shards) (conf: `hydra.sweeper.params.shard`); each worker
reads its shard from the plan (or, started by hand or by a cluster array without the callback,
lists and partitions itself: same sessions, same shards, see grimjobs/shards.py), does its work and
writes `<out>/shards/<job>-<k>-of-<n>.json`. `on_multirun_end` (in the launching process, whatever the
launcher) checks that every shard of the plan is done and merges. A shard that failed leaves no
marker: running the same command again skips the finished shards (their marker matches the plan
and the config) and redoes only the missing ones; `export mode=merge out=<dir>` refuses to merge
an incomplete plan and says which shards to run. See docs/SCALE.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from grimjobs import shards as sharding
from grimjobs.errors import UserError

log = logging.getLogger("grimjobs.multirun")

SHARDS_DIR = "shards"
# Keys that do not change what a shard writes: a finished shard stays valid when only these differ.
NEUTRAL_KEYS = ("hydra", "shard", "progress", "keep_parts", "mode", "format_table")


def plan_path(out: Path, job: str) -> Path:
    return out / SHARDS_DIR / f"{job}-plan.json"


def marker_path(out: Path, job: str, shard: int, shards: int) -> Path:
    return out / SHARDS_DIR / f"{job}-{shard}-of-{shards}.json"


def _write_json(path: Path, data: Any) -> None:
    """Atomically: a reader (another worker, the merge) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def fingerprint(cfg: DictConfig) -> str:
    """What a shard's output depends on: the job config without the shard number and display keys."""
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    for key in NEUTRAL_KEYS:
        data.pop(key, None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _sweep_dir() -> str | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    try:
        hydra_cfg = HydraConfig.get()
    except ValueError:
        return None
    return str(hydra_cfg.sweep.dir) if hydra_cfg.mode == RunMode.MULTIRUN else None


def write_plan(out: Path, job: str, sessions: Sequence[Path], shards: int, sweep_dir: str | None) -> str:
    names = [str(s) for s in sessions]
    digest = sharding.digest(names, shards)
    plan = {
        "job": job,
        "shards": shards,
        "digest": digest,
        "sweep_dir": sweep_dir,
        "sessions": list(sharding.canonical(names)),
    }
    _write_json(plan_path(out, job), plan)
    return digest


def read_plan(out: Path, job: str) -> dict[str, Any] | None:
    plan = _read_json(plan_path(out, job))
    return plan if isinstance(plan, dict) and "digest" in plan else None


@dataclass(slots=True)
class ShardRun:
    """One worker's share of a sharded run: its sessions and where it says it is done."""

    job: str
    out: Path
    shard: int
    shards: int
    digest: str
    fingerprint: str
    sessions: list[Path]

    @classmethod
    def open(cls, job: str, cfg: DictConfig, out: Path, list_sessions: Callable[[], list[Path]]) -> ShardRun:
        try:
            shard, shards = sharding.check_shard(cfg.shard, cfg.shards)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        plan = read_plan(out, job)
        sweep = _sweep_dir()
        if (
            plan is not None
            and sweep is not None
            and plan.get("sweep_dir") == sweep
            and plan["shards"] == shards
        ):
            names = [str(s) for s in plan["sessions"]]
            digest = str(plan["digest"])
        else:
            names = [str(s) for s in list_sessions()]
            digest = sharding.digest(names, shards)
            if plan is None or plan.get("digest") != digest:
                # Started without the callback (by hand, a cluster array): the plan is what merge
                # checks completeness against; every worker computes the same one.
                write_plan(out, job, [Path(n) for n in names], shards, None)
        mine = [Path(n) for n in sharding.shard_items(names, shards, shard)]
        return cls(job, out, shard, shards, digest, fingerprint(cfg), mine)

    @property
    def marker(self) -> Path:
        return marker_path(self.out, self.job, self.shard, self.shards)

    def finished(self) -> dict[str, Any] | None:
        """The marker of an earlier run of this very shard (same sessions, same config), if any."""
        done = _read_json(self.marker)
        if not isinstance(done, dict):
            return None
        if done.get("digest") != self.digest or done.get("fingerprint") != self.fingerprint:
            return None
        return done

    def finish(self, payload: dict[str, Any]) -> None:
        _write_json(
            self.marker,
            {"digest": self.digest, "fingerprint": self.fingerprint, "shard": self.shard, **payload},
        )


def incomplete(out: Path, job: str) -> tuple[dict[str, Any], list[int]] | None:
    """(plan, shards without a marker of that plan), or None when `out` holds no sharded run."""
    plan = read_plan(out, job)
    if plan is None:
        return None
    shards = int(plan["shards"])
    done = []
    for k in range(shards):
        marker = _read_json(marker_path(out, job, k, shards))
        if isinstance(marker, dict) and marker.get("digest") == plan["digest"]:
            done.append(k)
    return plan, sharding.missing(shards, done)


def require_complete(out: Path, job: str) -> dict[str, Any] | None:
    """The plan when every shard of it finished; UserError naming the shards to rerun otherwise."""
    state = incomplete(out, job)
    if state is None:
        return None
    plan, todo = state
    if todo:
        raise UserError(
            f"out={out}: shard(s) {sharding.sweep_value(todo)} of {plan['shards']} have not finished; "
            f"run them (`{job} -m sessions=... out={out} shards={plan['shards']} "
            f"shard={sharding.sweep_value(todo)}`, or the whole multirun again: finished shards are "
            f"skipped), then merge"
        )
    return plan


def markers(out: Path, job: str, plan: dict[str, Any]) -> list[dict[str, Any]]:
    shards = int(plan["shards"])
    found = [_read_json(marker_path(out, job, k, shards)) for k in range(shards)]
    return [m for m in found if isinstance(m, dict)]


def clear(out: Path, job: str) -> None:
    """Forget the plan and markers (after the parts they point at are gone)."""
    for path in (out / SHARDS_DIR).glob(f"{job}-*.json"):
        path.unlink(missing_ok=True)
    with_files = out / SHARDS_DIR
    if with_files.is_dir() and not any(with_files.iterdir()):
        with_files.rmdir()


class _ShardCallback(Callback):
    job = ""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """List the sessions once, in the launching process, for every worker."""
        if not _sharded(config):
            return
        from grimjobs.jobs.export import expand_sessions

        out = Path(str(config.out))
        sessions = expand_sessions(config.sessions)
        write_plan(out, self.job, sessions, int(config.shards), str(config.hydra.sweep.dir))
        log.info("%s: %d session(s) in %d shards, plan %s", self.job, len(sessions), config.shards, out)


def _sharded(config: DictConfig) -> bool:
    shards = config.get("shards", 1)
    return isinstance(shards, int) and shards > 1 and config.get("out") not in (None, "???")


def _fail(job: str, message: str, status: int) -> None:
    print(f"grimjobs {job}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(status)


class ExportMergeCallback(_ShardCallback):
    """After every shard of `export -m ... shards=N` finished: merge the parts into one dataset."""

    job = "export"

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if not _sharded(config) or config.mode != "all":
            return
        out = Path(str(config.out))
        try:
            info = merge_plan(config, out, tidy=True)
        except UserError as exc:
            _fail(self.job, str(exc), 1)
            return
        frames = info.get("total_frames", 0)
        episodes = info.get("total_episodes", 0)
        print(f"export: merged {config.shards} shards into {out}: {episodes} episode(s), {frames} frames")


def merge_plan(cfg: DictConfig, out: Path, tidy: bool) -> dict[str, Any]:
    """Check the plan is complete and only its parts are present, merge; `tidy` (mode=all without
    keep_parts) then removes the parts and the markers. Merging again gives the same dataset."""
    from grimjobs.jobs.export import Progress, merge

    plan = require_complete(out, "export")
    if plan is not None:
        check_parts(out, plan)
    info = merge(cfg, out, Progress(False, 1))
    if tidy and not cfg.keep_parts:
        shutil.rmtree(out / "parts", ignore_errors=True)
        clear(out, "export")
    return info


def check_parts(out: Path, plan: dict[str, Any]) -> None:
    """Parts from another run would be merged too: refuse them rather than mix datasets."""
    from grimjobs.jobs.export import SKIPPED, part_name

    expected = {part_name(Path(s)) for s in plan["sessions"]}
    parts = out / "parts"
    present = (
        {p.name for p in parts.iterdir() if p.is_dir() and p.name != Path(SKIPPED).name}
        if parts.is_dir()
        else set()
    )
    stray = sorted(n for n in present if not n.endswith(".tmp") and n not in expected)
    if stray:
        raise UserError(
            f"out={out}: {len(stray)} part(s) in {parts} are not sessions of this run (e.g. {stray[0]}); "
            "export into a fresh out= or remove them"
        )


class ValidateCollectCallback(_ShardCallback):
    """After every shard of `validate -m ... shards=N` finished: one verdict table for all sessions."""

    job = "validate"

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if not _sharded(config):
            return
        out = Path(str(config.out))
        try:
            reports = collect_verdicts(out)
        except UserError as exc:
            _fail(self.job, str(exc), 1)
            return
        from grimjobs.validation.render import render

        print(render(reports, "table"))
        print(f"validate: {len(reports)} session(s) from {config.shards} shards: {out / VERDICTS_CSV}")
        if any(r.verdict == "FAIL" for r in reports):
            sys.exit(1)


VERDICTS_JSON = "verdicts.json"
VERDICTS_CSV = "verdicts.csv"


def collect_verdicts(out: Path) -> list[Any]:
    """Every shard's reports, in session order, written as `<out>/verdicts.json` and `.csv`."""
    from grimjobs.validation.render import render
    from grimjobs.validation.validator import SessionReport

    plan = require_complete(out, "validate")
    if plan is None:
        raise UserError(f"out={out}: no sharded validate run here ({plan_path(out, 'validate')} is missing)")
    rows = [row for marker in markers(out, "validate", plan) for row in marker.get("reports", [])]
    rows.sort(key=lambda row: str(row["session"]))
    reports = [
        SessionReport(
            session=str(row["session"]),
            verdict=row["verdict"],
            reasons=list(row.get("reasons", [])),
            notes=list(row.get("notes", [])),
            metrics=dict(row.get("metrics", {})),
            activity=dict(row.get("activity", {})),
            truncated=bool(row.get("truncated", False)),
        )
        for row in rows
    ]
    if len(reports) != len(plan["sessions"]):
        raise UserError(
            f"out={out}: {len(reports)} verdicts for {len(plan['sessions'])} sessions in the plan"
        )
    _write_json(out / VERDICTS_JSON, rows)
    (out / VERDICTS_CSV).write_text(render(reports, "csv") + "\n", encoding="utf-8")
    return reports


def open_validate_shard(
    cfg: DictConfig, from_path: Callable[[], list[Path]]
) -> tuple[ShardRun | None, list[Path]]:
    """validate's sessions: `sessions=` (as export) or `path=`; with shards > 1, this job's shard."""
    from grimjobs.jobs.export import expand_sessions

    def listing() -> list[Path]:
        return expand_sessions(cfg.sessions) if cfg.get("sessions") is not None else from_path()

    try:
        _, shards = sharding.check_shard(cfg.get("shard", 0), cfg.get("shards", 1))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if shards == 1:
        return None, listing()
    if cfg.get("out") in (None, "???"):
        raise UserError(f"shards={shards}: also give out=<folder> for the shards' verdicts")
    run = ShardRun.open("validate", cfg, Path(str(cfg.out)), listing)
    return run, run.sessions

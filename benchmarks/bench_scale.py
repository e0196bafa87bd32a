"""Sharded validate / export (docs/SCALE.md): sessions per minute with 1 and 2 workers, the
per-session overhead of each launcher against joblib, and the merge cost, in one run; from these,
the model docs/PERFORMANCE.md uses for N nodes.

    python -m benchmarks.bench_scale [--quick]

Every number is a wall time of `python -m grimjobs ...` as a user runs it (process start-up
included), on generated sessions. The Ray head is started once, before timing (as a cluster is
already up in production), on 127.0.0.1 with 2 CPUs; submitit's local executor and joblib need
nothing. A launcher whose extra is not installed is reported in the note and left out.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Result, Stopwatch, progress  # noqa: E402
from tests.validation.fixtures import SessionSpec, write_session  # noqa: E402

WORKERS = 2  # this machine's cores


def _grimjobs(args: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one `python -m grimjobs ...`; raises with its stderr if it fails."""
    with Stopwatch() as watch:
        done = subprocess.run(
            [sys.executable, "-m", "grimjobs", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode not in (0, 1):  # validate exits 1 for a FAIL verdict; that is a result
        raise RuntimeError(
            f"grimjobs {' '.join(args[:3])} ... exited {done.returncode}: {done.stderr[-2000:]}"
        )
    return watch.seconds


def _sessions(folder: Path, count: int, frames: int) -> Path:
    for i in range(count):
        write_session(folder / f"s{i:03d}", SessionSpec(frames=frames, seed=i, jitter_ms=1.0))
    return folder


@contextlib.contextmanager
def _launchers(work: Path) -> Iterator[dict[str, tuple[list[str], dict[str, str] | None]]]:
    """launcher name -> (overrides, environment), for the launchers installed here."""
    found: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "joblib": (["hydra/launcher=joblib", f"hydra.launcher.n_jobs={WORKERS}"], None)
    }
    if importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is not None:
        found["submitit_local"] = (["hydra/launcher=submitit_local"], None)
    with contextlib.ExitStack() as stack:
        if importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None:
            from tests.scale.cluster import local_ray_head

            head = stack.enter_context(local_ray_head(num_cpus=WORKERS))
            found["ray"] = (head.overrides(), head.env)
        yield found


@dataclass(frozen=True, slots=True)
class Line:
    """Wall time = start + per_session * sessions (least squares through two measurements)."""

    start: float
    per_session: float

    @classmethod
    def through(cls, small: tuple[int, float], large: tuple[int, float]) -> Line:
        (n1, t1), (n2, t2) = small, large
        slope = (t2 - t1) / (n2 - n1)
        return cls(t1 - slope * n1, slope)


def run(quick: bool) -> list[Result]:
    sessions, frames = (8, 30) if quick else (16, 300)
    work = Path(tempfile.mkdtemp(prefix="grimjobs-bench-scale-"))
    try:
        return _run(work, sessions, frames)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, count: int, frames: int) -> list[Result]:
    progress(f"scale: generating {count} sessions of {frames} frames")
    many = _sessions(work / "many", count, frames)
    few = _sessions(work / "few", count // 4, frames)
    n = 0

    def folder(name: str) -> Path:
        nonlocal n
        n += 1
        return work / f"{name}-{n}"

    def export(sessions: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[float, Path]:
        out = folder("ds")
        seconds = _grimjobs(
            [
                "export",
                *extra,
                f"sessions={sessions}",
                f"out={out}",
                "progress=false",
                f"hydra.run.dir={folder('run')}",
                f"hydra.sweep.dir={folder('mr')}",
            ],
            env,
        )
        return seconds, out

    def validate(sessions: Path, *extra: str, env: dict[str, str] | None = None) -> float:
        return _grimjobs(
            [
                "validate",
                *extra,
                f"sessions={sessions}",
                f"out={folder('v')}",
                "format=csv",
                f"hydra.run.dir={folder('run')}",
                f"hydra.sweep.dir={folder('mr')}",
            ],
            env,
        )

    joblib2 = ["-m", "hydra/launcher=joblib", f"hydra.launcher.n_jobs={WORKERS}", f"shards={WORKERS}"]
    progress("scale: one process (1 worker) and joblib shards (2 workers)")
    export_1 = Line.through((count // 4, export(few)[0]), (count, export(many)[0]))
    validate_1 = Line.through((count // 4, validate(few)), (count, validate(many)))
    export_2 = export(many, *joblib2)[0]
    validate_2 = validate(many, *joblib2)
    spm = 60.0 * count
    results = [
        Result(
            f"export sessions/min, {WORKERS} workers (joblib shards={WORKERS}) vs 1 process",
            spm / export_2,
            spm / (export_1.start + export_1.per_session * count),
            "sessions/min",
            baseline_name="1 process",
            note=f"{count} sessions x {frames} frames; 1 process: {export_1.start:.2f} s start + "
            f"{export_1.per_session:.3f} s/session",
        ),
        Result(
            f"validate sessions/min, {WORKERS} workers (joblib shards={WORKERS}) vs 1 process",
            spm / validate_2,
            spm / (validate_1.start + validate_1.per_session * count),
            "sessions/min",
            baseline_name="1 process",
            note=f"1 process: {validate_1.start:.2f} s start + {validate_1.per_session:.3f} s/session",
        ),
    ]

    # Merge cost: the launching process merges every part alone, after the workers.
    def merge(sessions: Path) -> float:
        _, out = export(sessions, *joblib2, "mode=part")
        return _grimjobs(["export", "mode=merge", f"out={out}", f"hydra.run.dir={folder('run')}"])

    merge_1 = Line.through((count // 4, merge(few)), (count, merge(many)))
    results.append(
        Result(
            "export merge s/session (serial, in the launching process) vs convert s/session",
            merge_1.per_session,
            export_1.per_session,
            "s/session",
            higher_is_better=False,
            baseline_name="convert",
            note=f"merge: {merge_1.start:.2f} s start + {merge_1.per_session:.4f} s/session",
        )
    )

    # Per-session overhead of each launcher: one session per shard, so every session pays one job.
    with _launchers(work) as launchers:
        progress(f"scale: launchers {', '.join(launchers)}, {count} shards of one session each")
        per_session = {
            name: export(many, "-m", *overrides, f"shards={count}", env=env)[0] / count
            for name, (overrides, env) in launchers.items()
        }
    base = per_session["joblib"]
    missing = [name for name in ("submitit_local", "ray") if name not in per_session]
    for name, value in per_session.items():
        if name == "joblib":
            continue
        results.append(
            Result(
                f"export s/session through {name} (1 session per shard) vs joblib",
                value,
                base,
                "s/session",
                higher_is_better=False,
                baseline_name="joblib",
                note=f"overhead {value - base:+.3f} s/session on {WORKERS} workers",
            )
        )
    if missing:  # said where the table is read, not measured as zero
        note = f"{results[0].note}; not installed (pip install -e '.[ray,slurm]'): {', '.join(missing)}"
        results[0] = replace(results[0], note=note)
    return results


if __name__ == "__main__":
    from benchmarks.common import main

    main(run)

"""Every benchmark the issues define, in one run, as one table of ratios against baselines.

    python benchmarks/run.py [--quick] [--only record,stream] [--json results.json]

Each `benchmarks/bench_<area>.py` exposes `run(quick: bool) -> list[Result]` (benchmarks/common.py)
and measures the tool and its baseline side by side. A module that does not exist yet, or has no
`run`, is reported as "missing"; one that fails is reported with its error; the others still run.
Exit status: 0 when every goal with a measurement is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/run.py` from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks.common import HEADER, Result, format_table, progress, result_rows  # noqa: E402

# (area, module, what it compares): the benchmarks the issues ask for.
BENCHMARKS: tuple[tuple[str, str, str], ...] = (
    ("record", "benchmarks.bench_record", "record pipeline vs ffmpeg CLI; start-up vs python -c pass"),
    ("capture", "benchmarks.bench_capture", "capture vs raw mss"),
    ("cost", "benchmarks.bench_cost", "capture+encode cost, file source, peak memory vs ffmpeg CLI"),
    ("stream", "benchmarks.bench_stream", "GrimStream vs raw sockets"),
    ("validate", "benchmarks.bench_validate", "validate of a 1-hour session"),
    ("input", "benchmarks.bench_input", "input latency"),
    ("timing", "benchmarks.bench_timing", "frame/key stamps vs ground truth; crash loss vs kill -9"),
    ("scale", "benchmarks.bench_scale", "sharded validate/export: 1 vs 2 workers, launchers vs joblib"),
)


@dataclass
class Outcome:
    area: str
    what: str
    results: list[Result] = field(default_factory=list)
    problem: str = ""  # "missing: ..." or "error: ..."


def _check(results: Any, module: str) -> list[Result]:
    if not isinstance(results, list) or not all(isinstance(r, Result) for r in results):
        raise TypeError(
            f"{module}.run() must return a list of benchmarks.common.Result, got {type(results).__name__}"
        )
    return results


def run_one(area: str, module_name: str, what: str, quick: bool) -> Outcome:
    outcome = Outcome(area, what)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            outcome.problem = f"missing: no {module_name.replace('.', '/')}.py yet"
            return outcome
        outcome.problem = f"error: cannot import {module_name}: {exc}"
        return outcome
    except Exception as exc:
        outcome.problem = f"error: cannot import {module_name}: {exc}"
        return outcome
    run = getattr(module, "run", None)
    if not callable(run):
        outcome.problem = f"missing: {module_name} has no run(quick) -> list[Result]"
        return outcome
    progress(f"{area}: {what}")
    try:
        outcome.results = _check(run(quick), module_name)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        outcome.problem = f"error: {type(exc).__name__}: {exc}"
    return outcome


def table(outcomes: list[Outcome]) -> str:
    rows: list[list[str]] = []
    for outcome in outcomes:
        rows += [[f"{outcome.area}: {row[0]}", *row[1:]] for row in result_rows(outcome.results)]
        if outcome.problem:
            rows.append([f"{outcome.area}: {outcome.what}", "-", "-", "-", "-", outcome.problem])
    return format_table(rows, HEADER)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small inputs, one round (CI smoke run)")
    parser.add_argument(
        "--only", default="", help="comma-separated areas: " + ",".join(a for a, _, _ in BENCHMARKS)
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    wanted = {a.strip() for a in args.only.split(",") if a.strip()}
    unknown = wanted - {a for a, _, _ in BENCHMARKS}
    if unknown:
        parser.error(f"unknown area(s) {', '.join(sorted(unknown))}")
    outcomes = [
        run_one(area, module, what, args.quick)
        for area, module, what in BENCHMARKS
        if not wanted or area in wanted
    ]
    print(table(outcomes))
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {"area": o.area, "problem": o.problem, "results": [r.as_dict() for r in o.results]}
                    for o in outcomes
                ],
                indent=2,
            )
            + "\n"
        )
    below = [r for o in outcomes for r in o.results if r.met is False]
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())

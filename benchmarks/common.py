"""The one interface every benchmark module implements, so `benchmarks/run.py` can run them all.

A module `benchmarks/bench_<area>.py` defines

    def run(quick: bool) -> list[Result]: ...

measuring the tool AND its baseline in the same call (same machine, same moment), and returning
one `Result` per comparison. `quick=True` must finish in well under a minute (smaller inputs,
one round); `quick=False` is the number for docs/PERFORMANCE.md. Print nothing but progress on
stderr; the runner prints the table. Run one module alone with `python -m benchmarks.bench_<area>`
(see `main` below).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Result:
    """One comparison of the tool against its baseline, both measured in the same run.

    `ratio` is always "how the tool does relative to the baseline, > 1 = better than the baseline":
    value / baseline when higher is better (fps, MB/s), baseline / value when lower is better
    (seconds, latency). `goal` is the smallest acceptable ratio (None: informational).
    """

    name: str  # what is compared, e.g. "record pipeline vs ffmpeg CLI (720p x264 veryfast)"
    value: float  # the tool's measurement
    baseline: float  # the baseline's measurement, same unit
    unit: str  # "fps", "s", "ms", "MB/s", ...
    higher_is_better: bool = True
    goal: float | None = None
    baseline_name: str = ""  # e.g. "ffmpeg CLI", "raw mss", "python -c pass"
    note: str = ""

    @property
    def ratio(self) -> float:
        if self.higher_is_better:
            return self.value / self.baseline if self.baseline else math.inf
        return self.baseline / self.value if self.value else math.inf

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.ratio >= self.goal

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "met": self.met}


def best_of(rounds: int, measure: Callable[[], float], higher_is_better: bool = True) -> float:
    """The best of `rounds` measurements (the least disturbed by other work on the machine)."""
    values = [measure() for _ in range(rounds)]
    return max(values) if higher_is_better else min(values)


def median_of(rounds: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(rounds))


class Stopwatch:
    """`with Stopwatch() as watch: ...` then `watch.seconds` (perf_counter)."""

    seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


XVFB_OPTIONS = ("-nolisten", "tcp", "-ac", "-noreset")


@contextlib.contextmanager
def xvfb(width: int = 1920, height: int = 1080) -> Iterator[str]:
    """A private Xvfb (as tests/conftest.py starts one) with DISPLAY set while it runs; yields the
    display name. -noreset: the server must outlive its clients (a reset between clients broke
    paced runs)."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise RuntimeError("Xvfb is not installed (Debian package xvfb)")
    for number in range(150, 250):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        process = subprocess.Popen(
            [binary, f":{number}", "-screen", "0", f"{width}x{height}x24", *XVFB_OPTIONS],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while process.poll() is None and not Path(f"/tmp/.X11-unix/X{number}").exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if process.poll() is None and Path(f"/tmp/.X11-unix/X{number}").exists():
            previous = os.environ.get("DISPLAY")
            os.environ["DISPLAY"] = f":{number}"
            try:
                yield f":{number}"
            finally:
                if previous is None:
                    os.environ.pop("DISPLAY", None)
                else:
                    os.environ["DISPLAY"] = previous
                process.terminate()
                process.wait()
            return
        process.kill()
        process.wait()
    raise RuntimeError("could not start Xvfb on any display :150-:249")


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def format_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A Markdown table (also readable as plain text)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def number(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return str(value)
    digits = 3 if abs(value) < 10 else 1
    return f"{value:.{digits}f} {unit}"


def result_rows(results: Sequence[Result]) -> list[list[str]]:
    rows = []
    for r in results:
        goal = "-" if r.goal is None else f">= {r.goal:g}"
        status = "info" if r.met is None else ("ok" if r.met else "BELOW GOAL")
        rows.append(
            [
                r.name,
                number(r.value, r.unit),
                f"{number(r.baseline, r.unit)} ({r.baseline_name})",
                f"{r.ratio:.3f}",
                goal,
                status,
            ]
        )
    return rows


HEADER = ("benchmark", "tool", "baseline", "ratio", "goal", "status")


def main(run: Callable[[bool], list[Result]]) -> None:
    """`python -m benchmarks.bench_x [--quick]`: run one module and print its table."""
    results = run("--quick" in sys.argv[1:])
    print(format_table(result_rows(results), HEADER))

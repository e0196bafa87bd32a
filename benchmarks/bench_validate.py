"""How fast `validate` checks long sessions (goal: a 1-hour session, 108,000 frames and ~1M input
records, in <= 2 s without decoding video).

    python benchmarks/bench_validate.py [--minutes 1 10 60] [--cache DIR]

Generates sessions (30 fps; periodic input samples at 270 Hz plus events, about 1M records per
hour; capture.mp4 with one real H.264 packet per frame) once into the cache folder, then times:
- validate: SessionValidator.check with the default thresholds, video demuxed (not decoded) and
  the bounded decoded sample turned off (sample_windows=0), i.e. the <= 2 s goal's conditions;
- validate+sample: the same with the default decoded sample (4 windows x 16 frames);
- baseline: only *reading* the same sync.csv with the csv module and actions.bin with the protobuf
  library record by record (what a straightforward reader does), measured in the same run.
Prints one row per session with the ratio to the 2 s goal and the speedup over the baseline.
`run(quick)` (benchmarks/run.py): the 1-minute session when quick, 1/10/60 minutes otherwise.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Result, Stopwatch, best_of, progress  # noqa: E402
from grimjobs.session import ACTIONS, SYNC  # noqa: E402
from grimjobs.session.actions import iter_frames  # noqa: E402
from grimjobs.session.gamepad_pb2 import GamepadState  # noqa: E402
from grimjobs.validation.validator import SessionValidator  # noqa: E402
from tests.validation.fixtures import SessionSpec, write_session  # noqa: E402

GOAL_S = 2.0
GOAL_MINUTES = 60


def session_for(minutes: float, cache: Path) -> Path:
    path = cache / f"session_{minutes:g}min_v2"
    if not (path / ACTIONS).is_file():
        started = time.perf_counter()
        print(f"generating a {minutes:g}-minute session in {path} ...", file=sys.stderr, flush=True)
        write_session(
            path,
            SessionSpec(
                frames=int(minutes * 60 * 30),
                fps=30,
                video="copy",
                keyframe_interval=60,
                input_hz=270,
                events_per_s=4,
                jitter_ms=3,
            ),
        )
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return path


def baseline_read(path: Path) -> int:
    """The obvious reader: csv module rows, one protobuf parse and object per record."""
    with open(path / SYNC, newline="") as file:
        reader = csv.reader(file)
        next(reader)
        rows = [(int(a), int(b), int(c)) for a, b, c in reader]
    records = []
    for _offset, payload in iter_frames((path / ACTIONS).read_bytes()):
        message = GamepadState()
        message.ParseFromString(payload)  # type: ignore[arg-type]
        records.append(
            (message.monotonic_ns, tuple(message.axes), tuple(message.pressed_buttons), message.reason)
        )
    return len(rows) + len(records)


def seconds_of(repeats: int, fn: Callable[[], object]) -> float:
    """The least wall time of `repeats` calls."""

    def once() -> float:
        with Stopwatch() as watch:
            fn()
        return watch.seconds

    return best_of(repeats, once, higher_is_better=False)


CACHE = Path(tempfile.gettempdir()) / "grimjobs-bench-validate"


def measure(minutes: float, cache: Path, repeats: int) -> dict[str, float]:
    """Seconds for validate (no decoded sample), validate + sample, and the baseline reader."""
    path = session_for(minutes, cache)
    fast = SessionValidator(SessionValidator.Settings(sample_windows=0))
    sampled = SessionValidator(SessionValidator.Settings())
    report = fast.check(path)
    if report.verdict == "FAIL":
        raise RuntimeError(f"the generated {minutes:g}-minute session fails validation: {report.reasons}")
    return {
        "frames": float(report.metrics["frames"]),
        "records": float(report.metrics["input_records"]),
        "fast": seconds_of(repeats, lambda: fast.check(path)),
        "sampled": seconds_of(repeats, lambda: sampled.check(path)),
        "baseline": seconds_of(1, lambda: baseline_read(path)),
    }


def run(quick: bool) -> list[Result]:
    CACHE.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    for minutes in (1.0,) if quick else (1.0, 10.0, 60.0):
        progress(f"validate: {minutes:g}-minute session")
        m = measure(minutes, CACHE, 1 if quick else 3)
        budget = GOAL_S * minutes / GOAL_MINUTES
        # The goal is the hour's (issue 7); a shorter session is shown at the same rate for
        # information only: its fixed start-up cost is not what the goal is about.
        hour = minutes >= GOAL_MINUTES
        results.append(
            Result(
                name=f"validate a {minutes:g}-min session ({'goal' if hour else 'rate of'} 2 s per hour)",
                value=m["fast"],
                baseline=budget,
                unit="s",
                higher_is_better=False,
                goal=1.0 if hour else None,
                baseline_name="goal" if hour else "goal, pro rata",
                note=f"{m['frames']:.0f} frames, {m['records']:.0f} input records; "
                f"with the decoded sample {m['sampled']:.3f} s",
            )
        )
        results.append(
            Result(
                name=f"validate a {minutes:g}-min session vs reading it with csv + protobuf",
                value=m["fast"],
                baseline=m["baseline"],
                unit="s",
                higher_is_better=False,
                baseline_name="csv + protobuf per record",
            )
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the quick table rows of benchmarks/run.py")
    args = parser.parse_args()
    if args.quick:
        from benchmarks.common import main as bench_main

        bench_main(run)
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    header = (
        "session",
        "frames",
        "records",
        "validate s",
        "goal 2 s / t",
        "+sample s",
        "baseline s",
        "speedup",
    )
    print("  ".join(f"{h:>12}" for h in header))
    for minutes in args.minutes:
        m = measure(minutes, args.cache, args.repeats)
        # The 2 s goal is for an hour; shorter sessions are held to the same rate.
        budget = GOAL_S * minutes / GOAL_MINUTES
        row = (
            f"{minutes:g} min",
            f"{m['frames']:.0f}",
            f"{m['records']:.0f}",
            f"{m['fast']:.3f}",
            f"{budget / m['fast']:.2f}x",
            f"{m['sampled']:.3f}",
            f"{m['baseline']:.3f}",
            f"{m['baseline'] / m['fast']:.1f}x",
        )
        print("  ".join(f"{c:>12}" for c in row), flush=True)
    print(
        "goal: a 60-minute session validates in <= 2 s (goal ratio >= 1.0 at 60 min; shorter sessions "
        "pro rata); baseline = reading the same files with csv + protobuf per record, same run"
    )


if __name__ == "__main__":
    main()

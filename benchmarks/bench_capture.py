"""Capture benchmarks on a private Xvfb.

1. Overhead: MonitorSource.grab (capture + stale check + fit into the pooled buffer) against raw
   mss grabs of the same region, in the same run; printed as a ratio (1.0 = no overhead). Also the
   scaled case (1920x1080 -> 1280x720) and x11grab.
2. Paced recording: `record capture=monitor` at 1280x720, 30 fps for --seconds (default 60) on
   the Xvfb with a window animating on it: dropped frames (goal 0), CPU use from summary.json.

    python benchmarks/bench_capture.py [--seconds 60] [--grabs 200]
    python -m benchmarks.bench_capture [--quick]       # the table rows of benchmarks/run.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Result, progress, xvfb  # noqa: E402
from benchmarks.common import main as bench_main  # noqa: E402


def per_grab_ms(fn: object, n: int) -> float:
    assert callable(fn)
    fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1000


def overhead(grabs: int) -> list[tuple[str, float, float]]:
    """(case, ms per frame through the capture source, ms per raw mss grab of the same region)."""
    import mss

    from grimjobs.capture.monitor import MonitorSettings, MonitorSource
    from grimjobs.capture.x11grab import X11GrabSettings, X11GrabSource

    region = {"left": 0, "top": 0, "width": 1280, "height": 720}
    with mss.MSS() as sct:
        raw_720 = per_grab_ms(lambda: sct.grab(region), grabs)
        raw_1080 = per_grab_ms(lambda: sct.grab(sct.monitors[1]), grabs)
    cases = [
        (
            "monitor 1280x720 region -> 1280x720",
            raw_720,
            MonitorSource(
                MonitorSettings.model_validate(
                    {"region": {"left": 0, "top": 0, "width": 1280, "height": 720}}
                )
            ),
        ),
        (
            "monitor 1920x1080 -> 1280x720 (scaled)",
            raw_1080,
            MonitorSource(MonitorSettings.model_validate({})),
        ),
        (
            "x11grab 1280x720 region -> 1280x720",
            raw_720,
            X11GrabSource(
                X11GrabSettings.model_validate(
                    {"region": {"left": 0, "top": 0, "width": 1280, "height": 720}}
                )
            ),
        ),
    ]
    rows = []
    for name, baseline, source in cases:
        with source:
            out = np.zeros(source.format.shape, np.uint8)
            ms = per_grab_ms(lambda source=source, out=out: source.grab(out, 0), grabs)
        rows.append((name, ms, baseline))
    return rows


def paced(seconds: float) -> dict[str, Any]:
    """summary.json of a paced `record capture=monitor` run on the current DISPLAY."""
    painter = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests/capture/painter.py"),
            "--title",
            "bench",
            "--width",
            "640",
            "--height",
            "360",
            "--fps",
            "30",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert painter.stdout is not None
    painter.stdout.readline()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "grimjobs",
                    "record",
                    "capture=monitor",
                    "capture.width=1280",
                    "capture.height=720",
                    "capture.fps=30",
                    f"capture.duration={seconds}",
                    "input=none",
                    "validate=false",
                    "status=false",
                    f"hydra.run.dir={tmp}",
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode:
                raise RuntimeError(f"record capture=monitor failed: {result.stderr.strip()[-500:]}")
            summary: dict[str, Any] = json.loads((Path(tmp) / "summary.json").read_text())
    finally:
        painter.kill()
        painter.wait()
    return summary


def describe_paced(summary: dict[str, Any], seconds: float) -> str:
    slots = summary["capture_slots"]
    return (
        f"paced 1280x720@30 for {seconds:.0f} s (monitor 1920x1080 scaled, x264 veryfast, "
        "a 30 fps window painting): "
        f"{summary['frames']} frames, {summary['dropped']} dropped of {slots} slots "
        f"({100 * summary['dropped'] / max(1, slots):.2f} %, goal 0), "
        f"recorder CPU {summary['cpu_seconds']:.1f} s = "
        f"{100 * summary['cpu_seconds'] / summary['wall_seconds']:.0f} % "
        f"of one core, duplicates {summary['capture']['stats'].get('duplicates')}"
    )


def run(quick: bool) -> list[Result]:
    grabs = 40 if quick else 200
    seconds = 5.0 if quick else 60.0
    results: list[Result] = []
    with xvfb(1920, 1080):
        progress(f"capture: {grabs} grabs per source vs raw mss")
        for name, ms, baseline in overhead(grabs):
            results.append(
                Result(
                    name=f"{name}, per frame",
                    value=ms,
                    baseline=baseline,
                    unit="ms",
                    higher_is_better=False,
                    baseline_name="raw mss grab, same region",
                    note=f"mean of {grabs}",
                )
            )
        progress(f"capture: paced record capture=monitor 1280x720@30 for {seconds:g} s")
        summary = paced(seconds)
    slots = int(summary["capture_slots"])
    delivered = slots - int(summary["dropped"])
    results.append(
        Result(
            name=f"paced 720p30 on Xvfb for {seconds:g} s: slots captured (goal 0 dropped)",
            value=delivered,
            baseline=slots,
            unit="frames",
            goal=1.0,
            baseline_name="capture slots",
            note=f"{summary['dropped']} dropped, {summary['capture']['stats'].get('duplicates')} duplicates",
        )
    )
    results.append(
        Result(
            name=f"paced 720p30 for {seconds:g} s: recorder CPU (capture + x264 veryfast)",
            value=float(summary["cpu_seconds"]),
            baseline=float(summary["wall_seconds"]),
            unit="s",
            higher_is_better=False,
            baseline_name="wall time = one core",
            note=f"{100 * summary['cpu_seconds'] / summary['wall_seconds']:.0f} % of one core",
        )
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--grabs", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="the quick table rows of benchmarks/run.py")
    args = parser.parse_args()
    if args.quick:
        bench_main(run)
        return
    with xvfb(1920, 1080):
        rows = overhead(args.grabs)
        print(f"raw mss grab: 1280x720 {rows[0][2]:.2f} ms, 1920x1080 {rows[1][2]:.2f} ms")
        for name, ms, baseline in rows:
            print(f"{name}: {ms:.2f} ms per frame, {ms / baseline:.2f}x raw mss of the same region")
        print(describe_paced(paced(args.seconds), args.seconds))


if __name__ == "__main__":
    main()

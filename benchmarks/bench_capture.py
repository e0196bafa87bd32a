"""Capture benchmarks on a private Xvfb.

1. Overhead: MonitorSource.grab (capture + stale check + fit into the pooled buffer) against raw
   mss grabs of the same region, in the same run; printed as a ratio (1.0 = no overhead). Also the
   scaled case (1920x1080 -> 1280x720) and x11grab.
2. Paced recording: `record capture=monitor` at 1280x720, 30 fps for --seconds (default 60) on
   the Xvfb with a window animating on it: dropped frames (goal 0), CPU use from summary.json.

    python benchmarks/bench_capture.py [--seconds 60] [--grabs 200]
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen[bytes], str]:
    for number in range(150, 250):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        process = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "-noreset"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                return process, f":{number}"
            time.sleep(0.05)
        process.kill()
    raise RuntimeError("could not start Xvfb")


def per_grab_ms(fn: object, n: int) -> float:
    assert callable(fn)
    fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1000


def overhead(grabs: int) -> None:
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
    print(f"raw mss grab: 1280x720 {raw_720:.2f} ms, 1920x1080 {raw_1080:.2f} ms")
    for name, baseline, source in cases:
        with source:
            out = np.zeros(source.format.shape, np.uint8)
            ms = per_grab_ms(lambda source=source, out=out: source.grab(out, 0), grabs)
        print(f"{name}: {ms:.2f} ms per frame, {ms / baseline:.2f}x raw mss of the same region")


def paced(seconds: float, display: str) -> None:
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
                print(result.stderr)
                return
            summary = json.loads((Path(tmp) / "summary.json").read_text())
    finally:
        painter.kill()
        painter.wait()
    slots = summary["capture_slots"]
    print(
        f"paced 1280x720@30 for {seconds:.0f} s (monitor 1920x1080 scaled, x264 veryfast, "
        "a 30 fps window painting): "
        f"{summary['frames']} frames, {summary['dropped']} dropped of {slots} slots "
        f"({100 * summary['dropped'] / max(1, slots):.2f} %, goal 0), "
        f"recorder CPU {summary['cpu_seconds']:.1f} s = "
        f"{100 * summary['cpu_seconds'] / summary['wall_seconds']:.0f} % "
        f"of one core, duplicates {summary['capture']['stats'].get('duplicates')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--grabs", type=int, default=200)
    args = parser.parse_args()
    xvfb, display = start_xvfb(1920, 1080)
    os.environ["DISPLAY"] = display
    try:
        overhead(args.grabs)
        paced(args.seconds, display)
    finally:
        xvfb.terminate()
        xvfb.wait()


if __name__ == "__main__":
    main()

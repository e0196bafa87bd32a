"""Input latency: from an SDL controller event being readable to its snapshot written to actions.bin.

A virtual SDL game controller moves an axis; SDL_JoystickUpdate puts the event in SDL's queue
(readable from then on, t0); the recording device polls as the recorder does, and the latency ends
when ActionsWriter.write has returned. Baseline in the same run: a bare SDL pump + peep loop that
only notices the event (no state, no protobuf, no file). Also the forwarding latency (state ->
virtual Xbox 360 report sent) when vgamepad has a backend here.

    python benchmarks/bench_input.py [--events 2000]
    python -m benchmarks.bench_input [--quick]       # the table rows of benchmarks/run.py
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Result, progress  # noqa: E402
from grimjobs.clock import now_ns  # noqa: E402
from grimjobs.errors import UserError  # noqa: E402
from grimjobs.input.sdl import SdlInput, SdlInputSettings  # noqa: E402
from grimjobs.input.sdl_pad import VirtualPad, sdl_init, sdl_quit  # noqa: E402
from grimjobs.jobs.replay import percentile  # noqa: E402
from grimjobs.session.actions import ActionsWriter, InputSnapshot  # noqa: E402


def bare_sdl(pad: VirtualPad, events: int) -> list[int]:
    sdl2 = sdl_init()
    controller = sdl2.SDL_GameControllerOpen(0)
    event = sdl2.SDL_Event()
    while sdl2.SDL_PollEvent(ctypes.byref(event)):
        pass
    latencies = []
    for i in range(events):
        pad.set_axis(0, 0.9 if i % 2 else -0.9)
        pad.update()
        t0 = now_ns()
        seen = False
        while not seen:
            sdl2.SDL_PumpEvents()
            while sdl2.SDL_PollEvent(ctypes.byref(event)):
                seen = seen or event.type == sdl2.SDL_CONTROLLERAXISMOTION
        latencies.append(now_ns() - t0)
    sdl2.SDL_GameControllerClose(controller)
    sdl_quit(sdl2)
    return latencies


def recorder_path(pad: VirtualPad, events: int, folder: Path) -> list[int]:
    device = SdlInput(SdlInputSettings(pad=str(pad.name)))
    writer = ActionsWriter(folder / "actions.bin")
    written: list[int] = []

    def emit(snapshot: InputSnapshot) -> None:
        writer.write(snapshot)
        written.append(now_ns())

    device.open(now_ns())
    while not written:  # the connect snapshot
        device.poll(emit, 0.01)
    latencies = []
    for i in range(events):
        pad.set_axis(0, 0.9 if i % 2 else -0.9)
        pad.update()
        t0 = now_ns()
        before = len(written)
        while len(written) == before:
            device.poll(emit, 0.01)
        latencies.append(written[-1] - t0)
    device.close(emit)
    writer.close()
    return latencies


def forwarding(events: int) -> list[int] | str:
    from grimjobs.input.forward import VgamepadForwarder

    forwarder = VgamepadForwarder()
    try:
        forwarder.open()
    except UserError as exc:
        return str(exc)
    latencies = []
    for i in range(events):
        axes = (0.9 if i % 2 else -0.9, 0.0, 0.0, 0.0, 0.0, 0.0)
        t0 = now_ns()
        forwarder.send(axes, ())
        latencies.append(now_ns() - t0)
    forwarder.close()
    return latencies


def row(name: str, values: list[int]) -> str:
    us = [v / 1000 for v in values]
    p50, p99 = percentile(values, 50) / 1000, percentile(values, 99) / 1000
    return f"{name:<34} {len(values):>6} {p50:>9.1f} {p99:>9.1f} {max(us):>9.1f} {statistics.fmean(us):>9.1f}"


def measure(events: int) -> tuple[list[int], list[int], list[int] | str]:
    """(bare SDL latencies, event -> snapshot written latencies, forwarding latencies or why not)."""
    pad = VirtualPad("bench pad")
    pad.attach()
    try:
        baseline = bare_sdl(pad, events)
        with tempfile.TemporaryDirectory() as folder:
            recorded = recorder_path(pad, events, Path(folder))
    finally:
        pad.detach()
    return baseline, recorded, forwarding(events)


def run(quick: bool) -> list[Result]:
    events = 300 if quick else 2000
    progress(f"input: {events} SDL controller events, bare SDL loop then the recorder's path")
    baseline, recorded, forwarded = measure(events)
    if isinstance(forwarded, str):
        forward_note = f"forwarding to a virtual pad: n/a here ({forwarded})"
    else:
        forward_note = (
            f"state -> virtual X360 report p50 {percentile(forwarded, 50) / 1000:.1f} us, "
            f"p99 {percentile(forwarded, 99) / 1000:.1f} us"
        )
    results = []
    for q in (50, 99):
        results.append(
            Result(
                name=f"input event -> snapshot written to actions.bin, p{q}",
                value=percentile(recorded, q) / 1000,
                baseline=percentile(baseline, q) / 1000,
                unit="us",
                higher_is_better=False,
                baseline_name="bare SDL pump+poll notices it",
                note=f"{events} events" + ("; " + forward_note if q == 99 else ""),
            )
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="the quick table rows of benchmarks/run.py")
    args = parser.parse_args()
    if args.quick:
        from benchmarks.common import main as bench_main

        bench_main(run)
        return
    started = time.perf_counter()
    baseline, recorded, forwarded = measure(args.events)
    print(f"{'path':<34} {'events':>6} {'p50 us':>9} {'p99 us':>9} {'max us':>9} {'mean us':>9}")
    print(row("bare SDL pump+poll (baseline)", baseline))
    print(row("event -> snapshot written", recorded))
    if isinstance(forwarded, str):
        print(f"{'state -> virtual X360 report':<34} n/a: {forwarded}")
    else:
        print(row("state -> virtual X360 report", forwarded))
    ratio = percentile(recorded, 50) / max(1, percentile(baseline, 50))
    print(f"p50 ratio recorder/baseline: {ratio:.2f}x   ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()

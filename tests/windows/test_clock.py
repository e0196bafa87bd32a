"""The recording clock per platform, and what a 15.625 ms clock (Windows' GetTickCount64, which is
`time.monotonic_ns` there before CPython 3.13) would do to a recording."""

from __future__ import annotations

import queue
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

import grimjobs.capture.synthetic as synthetic
import grimjobs.pipeline.loop as pacer
from grimjobs import clock
from grimjobs.capture.synthetic import SyntheticSource
from grimjobs.errors import UserError
from grimjobs.frames import FramePool, FrameRef
from grimjobs.session.sync import SyncTable
from grimjobs.validation.metrics import timing_metrics

TICK_NS = 15_625_000  # GetTickCount64 advances with the 64 Hz system timer
GET_TICK_COUNT = SimpleNamespace(implementation="GetTickCount64()", resolution=TICK_NS / 1e9)


def quantized_ns() -> int:
    return time.monotonic_ns() // TICK_NS * TICK_NS


def quantized_sleep_until(deadline_ns: int) -> None:
    remaining = deadline_ns - quantized_ns()
    if remaining > 0:
        time.sleep(remaining / 1e9)


def run_pacer_on_quantized_clock(monkeypatch: pytest.MonkeyPatch, frames: int) -> list[int]:
    monkeypatch.setattr(pacer, "now_ns", quantized_ns)
    monkeypatch.setattr(pacer, "sleep_until", quantized_sleep_until)
    monkeypatch.setattr(synthetic, "now_ns", quantized_ns)
    source = SyntheticSource(
        SyntheticSource.Settings.model_validate(
            {"width": 320, "height": 240, "fps": 60, "max_frames": frames}
        )
    )
    fmt = source.open()
    pool = FramePool(fmt, 8)
    out: queue.SimpleQueue[FrameRef | None] = queue.SimpleQueue()
    loop = pacer.CaptureLoop(source, pool, out, threading.Event())
    times: list[int] = []
    worker = threading.Thread(target=loop.run, args=(quantized_ns(),))
    worker.start()
    while (ref := out.get(timeout=30)) is not None:
        times.append(ref.t_ns)
        ref.release()
    worker.join()
    source.close()
    assert loop.error is None
    assert loop.captured + loop.dropped + loop.gap_slots == loop.slots == frames
    return times


def test_quantized_clock_breaks_sync_and_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    times = run_pacer_on_quantized_clock(monkeypatch, frames=40)
    assert all(t % TICK_NS == 0 for t in times)
    n = len(times)
    sync = SyncTable(np.arange(n), np.asarray(times, np.int64), np.arange(n) * 1500)
    metrics = timing_metrics(sync, 1 / 90000, 60.0, 1.5, 0.25)
    # 40 frames at 60 fps in ~0.67 s but only ~43 distinct ticks can be read: several frames share
    # a time stamp, which the validator reports as "monotonic_ns fails to increase".
    assert len(set(times)) < n
    assert metrics.backwards_times == n - len(set(times)) > 0
    with pytest.raises(UserError, match=r"15\.625 ms, coarser than 1 ms"):
        clock.require_fine_clock(GET_TICK_COUNT)


def test_windows_uses_qpc_not_the_quantized_clock() -> None:
    assert clock.clock_name("win32") == "perf_counter"  # CPython: QueryPerformanceCounter on Windows
    assert clock.clock_name("win32") != "monotonic"  # GetTickCount64 there before 3.13
    assert clock.clock_name("linux") == "monotonic"
    assert clock.clock_name("darwin") == "monotonic"


def test_this_platforms_clock_is_accepted_and_is_now_ns() -> None:
    clock.require_fine_clock()  # this machine's real clock
    info = time.get_clock_info(clock.clock_name())
    assert info.monotonic and info.resolution <= clock.MAX_RESOLUTION_S
    first = clock.now_ns()
    assert clock.now_ns() >= first


@pytest.mark.parametrize("resolution", [1e-9, 1e-6, 1e-3])
def test_fine_enough_resolutions_pass(resolution: float) -> None:
    clock.require_fine_clock(SimpleNamespace(implementation="x", resolution=resolution))


def test_record_job_checks_the_clock_before_building_anything() -> None:
    import inspect

    from grimjobs.jobs import record

    source = inspect.getsource(record)
    body = source[source.index("def main(") :]
    assert body.index("require_fine_clock()") < body.index("build(")

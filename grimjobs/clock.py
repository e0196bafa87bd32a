"""The one clock of a recording.

Video frames, input snapshots, stream messages and sync.csv all use one monotonic nanosecond clock,
the same one the C++ recorder's `std::chrono::steady_clock` reads on each platform:

| platform | Python call | what it reads | resolution |
| --- | --- | --- | --- |
| Linux | `time.monotonic_ns` | `CLOCK_MONOTONIC` | 1 ns |
| macOS | `time.monotonic_ns` | `mach_absolute_time` | 1 ns (ticks of ~42 ns on Apple silicon) |
| Windows | `time.perf_counter_ns` | `QueryPerformanceCounter` (system-wide) | 100 ns typically |

Windows does not use `time.monotonic_ns`: before CPython 3.13 it is `GetTickCount64`, which
advances in steps of 15.625 ms, so at 60 fps several frames would share one time stamp.
QueryPerformanceCounter is system-wide (every process reads the same counter; MSVC's steady_clock
is it too), so times from other programs pair with ours. Never mix in wall-clock time.

`require_fine_clock()` is called before a recording opens anything: a clock coarser than 1 ms
cannot order 60 fps frames and input events, and we refuse to record with one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Literal, Protocol

from grimjobs.errors import UserError

NS_PER_S = 1_000_000_000
MAX_RESOLUTION_S = 1e-3
"""Coarsest clock a recording accepts: 1 ms (a 60 fps frame lasts 16.7 ms)."""

ClockName = Literal["monotonic", "perf_counter"]
CLOCK_BY_PLATFORM: dict[str, ClockName] = {"win32": "perf_counter"}
"""`time.get_clock_info` name of the recording clock per `sys.platform` (default: "monotonic")."""


def clock_name(platform: str = sys.platform) -> ClockName:
    """The `time` clock ("monotonic" or "perf_counter") the recording uses on `platform`."""
    return CLOCK_BY_PLATFORM.get(platform, "monotonic")


_CLOCK_FUNCTIONS: dict[ClockName, Callable[[], int]] = {
    "monotonic": time.monotonic_ns,
    "perf_counter": time.perf_counter_ns,
}

now_ns: Callable[[], int] = _CLOCK_FUNCTIONS[clock_name()]
"""Nanoseconds on the recording clock. Take it at the moment of capture, not later."""


class ClockInfo(Protocol):
    """What `time.get_clock_info` returns (a SimpleNamespace), as far as we read it."""

    implementation: str
    resolution: float


def clock_info() -> ClockInfo:
    info: ClockInfo = time.get_clock_info(clock_name())
    return info


def require_fine_clock(info: ClockInfo | None = None) -> None:
    """Refuse (one line, exit 2) to record on a clock coarser than MAX_RESOLUTION_S."""
    info = clock_info() if info is None else info
    if info.resolution > MAX_RESOLUTION_S:
        raise UserError(
            f"the recording clock ({clock_name()}: {info.implementation}) ticks every "
            f"{info.resolution * 1000:.3f} ms, coarser than 1 ms: frames and inputs could not be told "
            "apart in time on this platform, so grimjobs will not record here"
        )


def sleep_until(deadline_ns: int) -> None:
    """Sleep until `deadline_ns` on the recording clock (returns at once if it has passed)."""
    remaining = deadline_ns - now_ns()
    if remaining > 0:
        time.sleep(remaining / NS_PER_S)

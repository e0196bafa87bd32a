"""The one clock of a recording.

Video frames, input snapshots, stream messages and sync.csv all use CLOCK_MONOTONIC nanoseconds
(`time.monotonic_ns`: CLOCK_MONOTONIC on Linux, QueryPerformanceCounter on Windows), the same
clock as the C++ recorder's `std::chrono::steady_clock`. Never mix in wall-clock time.
"""

import time

now_ns = time.monotonic_ns
"""Nanoseconds on the recording clock. Take it at the moment of capture, not later."""

NS_PER_S = 1_000_000_000


def sleep_until(deadline_ns: int) -> None:
    """Sleep until `deadline_ns` on the recording clock (returns at once if it has passed)."""
    remaining = deadline_ns - now_ns()
    if remaining > 0:
        time.sleep(remaining / NS_PER_S)

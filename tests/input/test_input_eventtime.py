"""EventClock: source tick counts (X server time, SDL ticks) mapped to the recording clock.

Pure logic: simulated source clocks with a known truth (offset, drift, wrap, delivery delays),
checked against the bounds the mapping promises.
"""

from __future__ import annotations

import random

import pytest

from grimjobs.input.eventtime import NS_PER_MS, EventClock

WRAP_MS = 1 << 32


class SourceClock:
    """A millisecond counter that reads `(recording_ns - origin_ns) * rate` truncated, wrapping."""

    def __init__(self, origin_ns: int, rate: float = 1.0, wrap: bool = True) -> None:
        self.origin_ns = origin_ns
        self.rate = rate
        self.wrap = wrap

    def ticks(self, recording_ns: int) -> int:
        value = int((recording_ns - self.origin_ns) * self.rate) // NS_PER_MS
        return value % WRAP_MS if self.wrap else value


def learn(clock: EventClock, source: SourceClock, at_ns: int, round_trip_ns: int, rng: random.Random) -> None:
    """A bracketing observation: the source is read somewhere inside the round trip."""
    inside = at_ns + rng.randrange(round_trip_ns + 1)
    clock.observe(source.ticks(inside), at_ns, at_ns + round_trip_ns)


@pytest.mark.parametrize("origin_ms", [0, 12_345, WRAP_MS - 3_000, -(10**9)])
@pytest.mark.parametrize("round_trip_us", [0, 200, 3_000])
def test_mapping_is_within_its_uncertainty_and_never_after_receipt(
    origin_ms: int, round_trip_us: int
) -> None:
    rng = random.Random(origin_ms ^ round_trip_us)
    start_ns = 10**12
    source = SourceClock(start_ns - origin_ms * NS_PER_MS)
    clock = EventClock()
    learn(clock, source, start_ns, round_trip_us * 1000, rng)
    assert clock.offset is not None
    bound = clock.offset.uncertainty_ns + NS_PER_MS // 2
    t = start_ns
    previous = 0
    for _ in range(5000):
        t += rng.randrange(1, 50 * NS_PER_MS)  # true event time
        delay = rng.choice((0, rng.randrange(100_000), rng.randrange(200 * NS_PER_MS)))
        received = t + delay
        stamp = clock.map(source.ticks(t), received)
        # Never after the receipt, except when held up to the previous stamp (order wins).
        assert stamp <= received or stamp == previous
        assert abs(stamp - t) <= bound, (stamp - t, bound)
        assert stamp >= previous
        previous = stamp
    assert clock.fallbacks == 0
    assert clock.mapped == 5000
    # The listener's lag is what the mapping removes: stamps stay within the bound whatever it was.
    assert clock.max_lag_ns >= 100 * NS_PER_MS


def test_counter_wrap_between_learning_and_events() -> None:
    """The counter wraps 2 s after the offset is learned (49.7 days of X server uptime)."""
    rng = random.Random(1)
    start_ns = 5 * 10**12
    source = SourceClock(start_ns - (WRAP_MS - 2_000) * NS_PER_MS)
    clock = EventClock()
    learn(clock, source, start_ns, 100_000, rng)
    for step in range(1, 400):
        t = start_ns + step * 10 * NS_PER_MS
        ticks = source.ticks(t)
        stamp = clock.map(ticks, t + 3 * NS_PER_MS)
        assert abs(stamp - t) <= NS_PER_MS + 100_000
    assert source.ticks(start_ns + 3 * 10**9) < 2_000  # the counter did wrap inside the run
    assert clock.fallbacks == 0


def test_an_observation_after_the_wrap_is_not_a_jump() -> None:
    start_ns = 10**12
    source = SourceClock(start_ns - (WRAP_MS - 500) * NS_PER_MS)
    clock = EventClock()
    clock.observe(source.ticks(start_ns), start_ns, start_ns)
    later = start_ns + 10**9
    clock.observe(source.ticks(later), later, later)  # ticks now small: wrapped
    assert clock.drift_corrections == 0
    assert abs(
        clock.map(source.ticks(later + 5 * NS_PER_MS), later + 6 * NS_PER_MS) - (later + 5 * NS_PER_MS)
    ) <= (NS_PER_MS)


def test_no_wrap_counter() -> None:
    """SDL_GetTicks64-style counters never wrap."""
    start_ns = 10**12
    source = SourceClock(start_ns - 2**40 * NS_PER_MS, wrap=False)
    clock = EventClock(wrap_bits=None)
    clock.observe(source.ticks(start_ns), start_ns, start_ns + 1000)
    t = start_ns + 7 * 10**9
    assert abs(clock.map(source.ticks(t), t + 20 * NS_PER_MS) - t) <= NS_PER_MS


def test_drift_is_caught_by_rechecks() -> None:
    """A source running 200 ppm slow (its events look ever older: receipts cannot bound that): with
    an observation every 5 s the error stays within the
    observation bounds; without rechecks it would grow to 200 us per second (12 ms a minute)."""
    rng = random.Random(3)
    start_ns = 10**12
    source = SourceClock(start_ns - 10**9, rate=0.9998)
    clock, unchecked = EventClock(), EventClock()
    learn(clock, source, start_ns, 200_000, rng)
    assert clock.offset is not None
    unchecked.offset = clock.offset
    worst = worst_unchecked = 0
    t = start_ns
    next_check = start_ns + 5 * 10**9
    while t < start_ns + 120 * 10**9:
        t += 7 * NS_PER_MS
        if t >= next_check:
            learn(clock, source, t, 200_000, rng)
            next_check += 5 * 10**9
        received = t + rng.randrange(30 * NS_PER_MS)
        worst = max(worst, abs(clock.map(source.ticks(t), received) - t))
        worst_unchecked = max(worst_unchecked, abs(unchecked.map(source.ticks(t), received) - t))
    # 5 s at 200 ppm = 1 ms of drift between checks, plus the bracket and the tick.
    assert worst <= 1 * NS_PER_MS + 100_000 + NS_PER_MS + NS_PER_MS // 2, worst
    assert worst_unchecked > 10 * NS_PER_MS  # what the rechecks remove
    assert clock.observations == 1 + 120 // 5


def test_stamp_after_receipt_lowers_the_offset() -> None:
    """An offset learned too high (a clock that slowed, a bad bracket): the receipt bounds it."""
    clock = EventClock()
    clock.observe(1_000, 10 * 10**9, 10 * 10**9)  # offset: 10 s - 1.0005 s
    high = clock.offset
    assert high is not None
    # The truth is 40 ms earlier: events are stamped 40 ms after they arrive -> clamped, corrected.
    received = 11 * 10**9
    ticks = (received - high.offset_ns) // NS_PER_MS + 40
    assert clock.map(ticks, received) == received
    assert clock.late_corrections == 1
    assert clock.offset is not None and clock.offset.offset_ns < high.offset_ns
    # After the correction, the same lead no longer recurs.
    assert clock.map(ticks + 10, received + 10 * NS_PER_MS) <= received + 10 * NS_PER_MS
    assert clock.late_corrections == 1


def test_implausible_and_unlearned_fall_back_to_receipt() -> None:
    clock = EventClock(max_delay_ns=2 * 10**9)
    assert clock.map(123, 5 * 10**9) == 5 * 10**9  # nothing learned yet
    assert clock.fallbacks == 1
    clock.observe(0, 10 * 10**9, 10 * 10**9)
    # An event claiming to be 3 s older than its receipt: the server restarted, a clock jumped.
    assert clock.map(1_000, 14 * 10**9) == 14 * 10**9
    assert clock.fallbacks == 2
    assert clock.mapped == 0


def test_stamps_never_go_backwards() -> None:
    clock = EventClock()
    clock.observe(0, 10**9, 10**9)
    a = clock.map(500, 10**9 + 600 * NS_PER_MS)
    b = clock.map(400, 10**9 + 601 * NS_PER_MS)  # an older tick delivered later
    assert b >= a


def test_observe_rejects_reversed_bracket_and_bad_unit() -> None:
    with pytest.raises(ValueError):
        EventClock().observe(0, 10, 5)
    with pytest.raises(ValueError):
        EventClock(unit_ns=0)


def test_jump_taken_from_a_disagreeing_observation() -> None:
    clock = EventClock()
    clock.observe(1_000, 10**10, 10**10 + 100_000)
    clock.observe(1_000 + 2_000 + 10_000, 10**10 + 2 * 10**9, 10**10 + 2 * 10**9 + 100_000)  # 10 s jump
    assert clock.drift_corrections == 1
    t = 10**10 + 3 * 10**9
    assert abs(clock.map(1_000 + 3_000 + 10_000, t) - t) <= NS_PER_MS
    stats = clock.stats()
    assert stats["observations"] == 2 and stats["drift_corrections"] == 1

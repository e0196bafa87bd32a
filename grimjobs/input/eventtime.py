"""Event timestamps from another clock, mapped onto the recording clock (pure logic, no devices).

Input events carry the time their source saw them: X events the X server's time (32-bit
milliseconds; the Linux X server reads CLOCK_MONOTONIC), SDL events `SDL_GetTicks` (32-bit
milliseconds since SDL started, also CLOCK_MONOTONIC underneath). That time is when the key
really went down; the moment our listener thread gets to the event can be tens of milliseconds
later on a loaded machine. `EventClock` turns a source tick count into recording-clock
nanoseconds:

    recording_ns = ticks * unit_ns + unit_ns / 2 + offset_ns

The offset is learned from *bracketing observations*: read the recording clock, make the source
produce a timestamp (an X property change round trip, `SDL_GetTicks()`), read the recording clock
again. The source's time lies between the two readings, so the offset is known to within half
the round trip plus half a tick. Observations are repeated during the recording; one that does
not agree with the current offset within both uncertainties means the clocks drifted or jumped,
and the newer offset is taken (counted in `stats()`).

Every mapped stamp is also checked against the moment the event was received (`received_ns`):

- after the receipt is impossible (the offset is too high, e.g. drift since the last check):
  the stamp is the receipt time and the offset is lowered by the excess;
- more than `max_delay_ns` before the receipt is implausible (a clock that jumped, a server
  restarted): the stamp is the receipt time and counted as a fallback;
- stamps never go backwards: events of one source are delivered in order (a stamp held up to
  the previous one may then exceed its own receipt, by at most the previous stamp's error).

Wrap: the 32-bit millisecond counters wrap every 49.7 days. A tick count is unwrapped to the value
nearest the one expected at `received_ns`, so a wrap between learning and mapping costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

NS_PER_MS = 1_000_000
DEFAULT_MAX_DELAY_NS = 5_000_000_000  # an event delivered 5 s late is not believed


@dataclass(frozen=True, slots=True)
class Offset:
    """recording_ns - source tick centre, known to within +-`uncertainty_ns`."""

    offset_ns: int
    uncertainty_ns: int


class EventClock:
    def __init__(
        self,
        unit_ns: int = NS_PER_MS,
        wrap_bits: int | None = 32,
        max_delay_ns: int = DEFAULT_MAX_DELAY_NS,
    ) -> None:
        if unit_ns < 1:
            raise ValueError("unit_ns must be >= 1")
        self.unit_ns = unit_ns
        self.wrap_ns: int | None = None if wrap_bits is None else (1 << wrap_bits) * unit_ns
        self.max_delay_ns = max_delay_ns
        self.offset: Offset | None = None
        self._last_ns: int | None = None
        self.observations = 0
        self.drift_corrections = 0  # an observation disagreed with the offset: taken instead
        self.late_corrections = 0  # a mapped stamp fell after its receipt: offset lowered
        self.fallbacks = 0  # no offset yet, or an implausible stamp: the receipt time was used
        self.mapped = 0
        self.max_lag_ns = 0  # most an event was received after its (mapped) time

    def observe(self, ticks: int, before_ns: int, after_ns: int) -> Offset:
        """The source said `ticks` at some moment between `before_ns` and `after_ns`."""
        if after_ns < before_ns:
            raise ValueError("after_ns before before_ns")
        centre_ns = ticks * self.unit_ns + self.unit_ns // 2
        new = Offset(
            (before_ns + after_ns) // 2 - centre_ns,
            (after_ns - before_ns + 1) // 2 + self.unit_ns // 2,
        )
        self.observations += 1
        current = self.offset
        if current is None:
            self.offset = new
            return new
        difference = self._unwrapped_difference(new.offset_ns - current.offset_ns)
        new = Offset(current.offset_ns + difference, new.uncertainty_ns)
        if abs(difference) > current.uncertainty_ns + new.uncertainty_ns:
            self.drift_corrections += 1  # the clocks moved apart (or one jumped): trust the newer
            self.offset = new
        elif new.uncertainty_ns <= current.uncertainty_ns:
            self.offset = new  # a tighter bracket
        else:
            return current
        return new

    def map(self, ticks: int, received_ns: int) -> int:
        """Recording-clock ns of an event stamped `ticks`, received (read by us) at `received_ns`."""
        offset = self.offset
        if offset is None:
            self.fallbacks += 1
            return self._ordered(received_ns)
        expected_ns = received_ns - offset.offset_ns - self.unit_ns // 2  # ticks*unit if no delay
        stamp_ns = received_ns + self._unwrapped_difference(ticks * self.unit_ns - expected_ns)
        if stamp_ns > received_ns:
            excess = stamp_ns - received_ns
            if excess > offset.uncertainty_ns:
                # The receipt bounds the event: the offset is too high by at least the excess.
                self.late_corrections += 1
                self.offset = Offset(offset.offset_ns - excess, offset.uncertainty_ns)
            stamp_ns = received_ns
        elif received_ns - stamp_ns > self.max_delay_ns:
            self.fallbacks += 1
            return self._ordered(received_ns)
        self.mapped += 1
        self.max_lag_ns = max(self.max_lag_ns, received_ns - stamp_ns)
        return self._ordered(stamp_ns)

    def _unwrapped_difference(self, difference_ns: int) -> int:
        """`difference_ns` taken modulo the wrap, in [-wrap/2, wrap/2)."""
        wrap = self.wrap_ns
        if wrap is None:
            return difference_ns
        return (difference_ns + wrap // 2) % wrap - wrap // 2

    def _ordered(self, stamp_ns: int) -> int:
        if self._last_ns is not None and stamp_ns < self._last_ns:
            stamp_ns = self._last_ns
        self._last_ns = stamp_ns
        return stamp_ns

    def stats(self) -> dict[str, int | float]:
        offset = self.offset
        return {
            "observations": self.observations,
            "offset_ms": round(offset.offset_ns / NS_PER_MS, 3) if offset else 0.0,
            "offset_uncertainty_ms": round(offset.uncertainty_ns / NS_PER_MS, 3) if offset else 0.0,
            "mapped": self.mapped,
            "fallbacks": self.fallbacks,
            "drift_corrections": self.drift_corrections,
            "late_corrections": self.late_corrections,
            "max_lag_ms": round(self.max_lag_ns / NS_PER_MS, 3),
        }

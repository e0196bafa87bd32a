"""Alignment of two streams with skewed clocks, transit jitter, drops, gaps and reconnects."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grimjobs.clock import NS_PER_S
from grimjobs.viewer.align import (
    NS_PER_MS,
    Aligner,
    RateMeter,
    RingBuffer,
    StreamClock,
    detect_gaps,
)
from grimjobs.viewer.model import EngineState, apply_update

MS = NS_PER_MS
RETAIL_SKEW = 7_000 * NS_PER_S  # the retail machine booted 7000 s before the viewer's
ENGINE_SKEW = -123 * NS_PER_S


# -- ring buffer -----------------------------------------------------------------------------


def test_ring_is_bounded_and_keeps_the_newest() -> None:
    ring: RingBuffer[int] = RingBuffer(10)
    for i in range(1000):
        ring.append(i * 10, i)
        assert len(ring) <= 10 + 10 // 4 + 1
    ring.trimmed()
    assert list(ring.items) == list(range(990, 1000))
    assert ring.evicted == 990


def test_ring_nearest_at_or_before_and_between() -> None:
    ring: RingBuffer[str] = RingBuffer(100)
    for t, name in ((100, "a"), (200, "b"), (400, "c")):
        ring.append(t, name)
    assert ring.nearest(0) == (100, "a")
    assert ring.nearest(149) == (100, "a")
    assert ring.nearest(150) == (100, "a")  # a tie goes to the earlier one
    assert ring.nearest(151) == (200, "b")
    assert ring.nearest(10_000) == (400, "c")
    assert ring.at_or_before(99) is None
    assert ring.at_or_before(399) == (200, "b")
    assert ring.at_or_before(400) == (400, "c")
    assert [name for _, name in ring.between(150, 400)] == ["b", "c"]
    assert RingBuffer[int](3).nearest(5) is None


def test_ring_inserts_late_items_in_order() -> None:
    ring: RingBuffer[int] = RingBuffer(100)
    for t in (10, 30, 20, 5, 40):
        ring.append(t, t)
    assert list(ring.times) == [5, 10, 20, 30, 40]
    assert list(ring.items) == [5, 10, 20, 30, 40]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=60), st.integers(-100, 10_100))
def test_ring_nearest_matches_brute_force(times: list[int], query: int) -> None:
    ring: RingBuffer[int] = RingBuffer(1000)
    for t in times:
        ring.append(t, t)
    found = ring.nearest(query)
    assert found is not None
    best = min(abs(t - query) for t in times)
    assert abs(found[0] - query) == best
    before = ring.at_or_before(query)
    earlier = [t for t in times if t <= query]
    assert (before[0] if before else None) == (max(earlier) if earlier else None)


# -- clocks ----------------------------------------------------------------------------------


def test_clock_offset_is_the_smallest_transit_in_the_baseline() -> None:
    clock = StreamClock(baseline_ns=2 * NS_PER_S)
    # the first message was delayed 30 ms (connection setup); later ones only 1 ms
    clock.observe(host_ns=RETAIL_SKEW + 0, local_ns=30 * MS)
    assert clock.measured_offset_ns == 30 * MS - RETAIL_SKEW
    for i in range(1, 10):
        clock.observe(RETAIL_SKEW + i * 100 * MS, i * 100 * MS + 1 * MS)
    assert clock.measured_offset_ns == 1 * MS - RETAIL_SKEW
    assert clock.to_local(RETAIL_SKEW + 500 * MS) == 501 * MS
    # after the baseline window the offset is fixed: a faster message later is drift, not baseline
    clock.observe(RETAIL_SKEW + 5 * NS_PER_S, 5 * NS_PER_S)
    assert clock.measured_offset_ns == 1 * MS - RETAIL_SKEW
    assert clock.drift_ns == -1 * MS


def test_shared_mode_uses_host_time_but_still_measures() -> None:
    clock = StreamClock(mode="shared")
    clock.observe(1_000, 1_500)
    assert clock.to_local(2_000) == 2_000
    assert clock.measured_offset_ns == 500


def test_drift_of_a_clock_running_fast() -> None:
    clock = StreamClock(baseline_ns=NS_PER_S, drift_window_ns=2 * NS_PER_S)
    # producer clock runs 1000 ppm fast: 1 ms per second
    for i in range(0, 200):
        local = i * 50 * MS
        host = ENGINE_SKEW + local + local // 1000
        clock.observe(host, local + 2 * MS)
    # ~9.95 s elapsed: the offset moved by about -9 ms since the 1 s baseline
    assert -10 * MS <= clock.drift_ns <= -8 * MS


# -- rates and gaps --------------------------------------------------------------------------


def test_rate_meter_tracks_a_changing_rate() -> None:
    meter = RateMeter(window_ns=NS_PER_S)
    t = 0
    for _ in range(90):
        t += NS_PER_S // 30
        meter.add(t)
    assert meter.rate() == pytest.approx(30, rel=0.02)
    for _ in range(60):
        t += NS_PER_S // 15
        meter.add(t)
    assert meter.rate() == pytest.approx(15, rel=0.02)


def test_detect_gaps_offline_with_varying_rate() -> None:
    # 30 fps, then 20 fps (rate change is not a gap), then a 2 s pause menu, then 30 fps
    times = [i * 33 * MS for i in range(30)]
    times += [times[-1] + (i + 1) * 50 * MS for i in range(20)]
    pause_start = times[-1]
    times += [pause_start + 2 * NS_PER_S + i * 33 * MS for i in range(30)]
    gaps = detect_gaps(np.array(times), "video")
    assert len(gaps) == 1
    assert gaps[0].start_ns == pause_start
    assert gaps[0].duration_ns() == 2 * NS_PER_S
    assert detect_gaps(np.array([5]), "video") == []


def feed_retail(
    aligner: Aligner[int, int],
    frames: list[int],
    start_local: int,
    fps: float,
    jitter_ms: float,
    rng: random.Random,
    skew: int = RETAIL_SKEW,
) -> int:
    """Frames with the given ids at `fps` (producer time), arriving with 1 ms + jitter latency."""
    local = start_local
    period = int(NS_PER_S / fps)
    for frame_id in frames:
        local += period
        arrival = local + MS + int(rng.uniform(0, jitter_ms) * MS)
        aligner.retail.add(local + skew, arrival, frame_id, item_id=frame_id)
    return local


def test_two_skewed_streams_align_on_the_viewer_clock() -> None:
    rng = random.Random(1)
    aligner: Aligner[int, int] = Aligner()
    aligner.retail.connect(0)
    aligner.engine.connect(0)
    # Engine states every 10 ms, whose value is the "true" time in ms; retail frames at 30 fps.
    for i in range(1, 301):
        true = i * 10 * MS
        aligner.engine.add(true + ENGINE_SKEW, true + 2 * MS + int(rng.uniform(0, 3) * MS), i * 10)
    feed_retail(aligner, list(range(90)), 0, 30, 4, rng)
    # every frame's nearest state is the one from the same true moment (within the 10 ms grid
    # plus the latency difference of the two baselines)
    for t_local, frame_id in zip(aligner.retail.ring.times, aligner.retail.ring.items, strict=True):
        true_ms = (frame_id + 1) * 1000 / 30
        _state_time, state, delta = aligner.nearest_state(t_local) or (0, -1, 0)
        assert abs(state - true_ms) <= 6, (frame_id, state, true_ms)
        assert abs(delta) <= 6 * MS
    offset, drift = aligner.inter_stream()
    assert offset is not None and drift is not None
    assert offset == pytest.approx((1 * MS - RETAIL_SKEW) - (2 * MS - ENGINE_SKEW), abs=1 * MS)
    assert abs(drift) < 5 * MS
    hud = aligner.hud(now_ns=3 * NS_PER_S, displayed_ns=aligner.retail.ring.times[-1])
    assert not [w for w in hud.warnings if "OUT OF SYNC" in w], hud.warnings
    assert hud.retail.fps == pytest.approx(30, rel=0.05)
    assert hud.engine.fps == pytest.approx(100, rel=0.05)
    assert hud.retail.dropped == 0


def test_dropped_frames_and_id_resets() -> None:
    rng = random.Random(2)
    aligner: Aligner[int, int] = Aligner()
    aligner.retail.connect(0)
    ids = [0, 1, 2, 5, 6, 10, 11]  # 2 + 3 dropped
    feed_retail(aligner, ids, 0, 30, 0, rng)
    assert aligner.retail.dropped == 5
    hud = aligner.hud(now_ns=400 * MS, displayed_ns=None)
    assert "retail: 5 dropped" in hud.warnings
    # reconnect: ids restart, which is a new epoch, not drops; the gap is recorded as a reconnect
    aligner.retail.disconnect(300 * MS)
    aligner.retail.connect(900 * MS)
    feed_retail(aligner, [0, 1, 2], 900 * MS, 30, 0, rng, skew=RETAIL_SKEW + 50 * NS_PER_S)
    assert aligner.retail.dropped == 5
    assert aligner.retail.epochs == 2
    assert [g.kind for g in aligner.retail.gaps] == ["reconnect"]
    assert aligner.retail.id_resets == 0


def test_pause_menu_gap_is_recorded_and_ongoing_stall_warned() -> None:
    rng = random.Random(3)
    aligner: Aligner[int, int] = Aligner()
    aligner.retail.connect(0)
    end = feed_retail(aligner, list(range(30)), 0, 30, 0, rng)
    # the game shows its pause menu for 3 s: no frames
    feed_retail(aligner, list(range(30, 60)), end + 3 * NS_PER_S, 30, 0, rng)
    gaps = list(aligner.retail.gaps)
    assert len(gaps) == 1 and gaps[0].kind == "stall"
    assert gaps[0].duration_ns() == pytest.approx(3 * NS_PER_S + NS_PER_S // 30, abs=2 * MS)
    last_arrival = aligner.retail.last_item_local_ns
    assert last_arrival is not None
    # silence that is still going on: warned, with its length
    assert aligner.retail.stall_ns(last_arrival + 50 * MS) == 0
    hud = aligner.hud(now_ns=last_arrival + 2 * NS_PER_S, displayed_ns=None)
    assert any(w.startswith("retail: no data for 2.0 s") for w in hud.warnings), hud.warnings


def test_out_of_sync_warnings() -> None:
    aligner: Aligner[int, int] = Aligner()
    aligner.retail.connect(0)
    aligner.engine.connect(0)
    for i in range(10):
        aligner.retail.add(i * 33 * MS, i * 33 * MS, i, item_id=i)
    aligner.engine.add(0, 0, 0)
    hud = aligner.hud(now_ns=300 * MS, displayed_ns=9 * 33 * MS)
    assert hud.state_delta_ns == -9 * 33 * MS
    assert any("OUT OF SYNC: nearest state" in w for w in hud.warnings)
    # the engine clock then drifts by 40 ms
    for i in range(1, 60):
        aligner.engine.add(i * 100 * MS, i * 100 * MS + 40 * MS, i)
    _offset, drift = aligner.inter_stream()
    assert drift == -40 * MS
    hud = aligner.hud(now_ns=6 * NS_PER_S, displayed_ns=None)
    assert any("clock drift -40.0 ms" in w for w in hud.warnings), hud.warnings


def test_heartbeat_age_and_rate_warning() -> None:
    aligner: Aligner[int, int] = Aligner()
    aligner.engine.connect(0)
    aligner.engine.heartbeat(5, 10)
    hud = aligner.hud(now_ns=10 + 4 * NS_PER_S, displayed_ns=None)
    assert hud.engine.heartbeat_age_ns == 4 * NS_PER_S
    assert any("last heartbeat 4.0 s ago" in w for w in hud.warnings)
    aligner.retail.connect(0)
    aligner.retail.nominal_fps = 60
    for i in range(40):
        aligner.retail.add(i * 33 * MS, i * 33 * MS, i, item_id=i)
    hud = aligner.hud(now_ns=40 * 33 * MS, displayed_ns=None)
    assert any("fps vs nominal 60" in w for w in hud.warnings), hud.warnings


@settings(max_examples=60, deadline=None)
@given(
    st.integers(-(10**15), 10**15),
    st.integers(-(10**15), 10**15),
    st.floats(0, 20),
    st.integers(0, 2**31),
)
def test_any_skew_any_jitter_pairs_within_the_jitter(
    skew_a: int, skew_b: int, jitter_ms: float, seed: int
) -> None:
    """Whatever the producers' clocks read, the viewer pairs each frame with the state of the same
    true moment, to within the transit jitter plus half the state period."""
    rng = random.Random(seed)
    aligner: Aligner[int, int] = Aligner(frame_capacity=1000)
    aligner.retail.connect(0)
    aligner.engine.connect(0)
    for i in range(0, 200):
        true = i * 10 * MS
        aligner.engine.add(true + skew_b, true + MS + int(rng.uniform(0, jitter_ms) * MS), true)
    for i in range(0, 60):
        true = i * 33 * MS
        aligner.retail.add(true + skew_a, true + MS + int(rng.uniform(0, jitter_ms) * MS), true, item_id=i)
    for t_local, true in zip(aligner.retail.ring.times, aligner.retail.ring.items, strict=True):
        found = aligner.nearest_state(t_local)
        assert found is not None
        assert abs(found[1] - true) <= 5 * MS + int(2 * jitter_ms * MS) + MS


# -- engine state folding --------------------------------------------------------------------


def test_state_updates_fold_as_deltas() -> None:
    state = EngineState()
    state = apply_update(
        state,
        {
            "seq": 1,
            "host_time_ns": 5,
            "position": [1.0, 2.0, 0.0],
            "yaw": 90.0,
            "active_setup": "mo_ddtws",
            "coverage": [{"key": "hook.walk", "value": 3}],
            "events": ["actor.walk"],
        },
    )
    state = apply_update(
        state,
        {
            "seq": 2,
            "host_time_ns": 9,
            "active_hotspot": "computer",
            "coverage": [{"key": "hook.talk", "value": 1}],
        },
    )
    assert state.position == (1.0, 2.0, 0.0) and state.yaw == 90.0
    assert state.active_setup == "mo_ddtws" and state.active_hotspot == "computer"
    assert dict(state.coverage) == {"hook.walk": 3, "hook.talk": 1}
    assert state.events == () and state.seq == 2 and state.updates == 2
    # malformed fields are ignored, not fatal
    state = apply_update(state, {"seq": 3, "position": "nope", "yaw": "x", "coverage": [{"key": 1}]})
    assert state.position == (1.0, 2.0, 0.0) and state.seq == 3

"""The one capture loop: accounting, limits, control bounds, and the record/stream configurations.

Real pieces throughout: the synthetic source, PyAV encoding, GrimStream over loopback sockets with
the real client. Assertions are invariants (every slot accounted for), never speed.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from grimjobs.capture.base import CaptureSettings, CaptureSource, SourceGap
from grimjobs.capture.pattern import decode_index
from grimjobs.capture.synthetic import SyntheticSettings, SyntheticSource
from grimjobs.clock import now_ns
from grimjobs.frames import FrameFormat, FramePool, FrameRef
from grimjobs.pipeline.loop import CaptureLoop, DurationHistogram, slot_limit
from grimjobs.pipeline.streaming import stream_frames
from grimjobs.playback import MAX_SEEK_FRAME, MAX_STEP_FRAMES, LoopController, SlotAction
from grimjobs.stream import protocol as p
from grimjobs.stream.client import StreamClient
from grimjobs.stream.publisher import GrimStreamPublisher, GrimStreamSettings
from tests.stream.test_stream_jobs import frames_of


def uds_url() -> str:
    return f"unix://{tempfile.gettempdir()}/grim-loop-{os.getpid()}-{time.monotonic_ns()}.sock"


def control_handler(controller: LoopController) -> Callable[[p.Control, str], None]:
    def on_control(control: p.Control, peer: str) -> None:
        controller.apply(control)

    return on_control


def accounted(stats: dict[str, object]) -> int:
    return sum(int(stats[k]) for k in ("captured", "dropped_late", "dropped_queue_full", "gap_slots"))  # type: ignore[call-overload]


def run_loop(
    source: CaptureSource,
    controller: LoopController | None = None,
    consume: Callable[[FrameRef], None] | None = None,
) -> tuple[CaptureLoop, list[tuple[int, int]]]:
    fmt = source.open()
    pool = FramePool(fmt, 6)
    frames: queue.SimpleQueue[FrameRef | None] = queue.SimpleQueue()
    loop = CaptureLoop(source, pool, frames, threading.Event(), controller)
    got: list[tuple[int, int]] = []

    def drain() -> None:
        while (ref := frames.get()) is not None:
            got.append((ref.index, ref.t_ns))
            if consume is not None:
                consume(ref)
            ref.release()

    t = threading.Thread(target=drain)
    t.start()
    loop.run(now_ns())
    t.join()
    source.close()
    return loop, got


# --- the controller: pure, exhaustive on the bounds ------------------------------------------


def test_controller_bounds_every_control_field() -> None:
    c = LoopController()
    c.attach(True, threading.Event())
    for frames in (0, -1, MAX_STEP_FRAMES + 1, 2**32 - 1, 2**64 - 1):
        assert c.step(frames) is not None and c.pending_steps == 0 and not c.paused
    for frame in (-1, MAX_SEEK_FRAME + 1, 2**64 - 16):
        assert c.seek(frame) is not None
    assert c.next_slot() == (SlotAction.CAPTURE, None)  # nothing refused changed anything
    assert c.refused == 8
    assert c.apply(p.Control.step(2**32 - 1)) is not None
    assert c.apply(p.Control.seek(2**64 - 16)) is not None
    assert c.apply(p.Control("seek")) is not None
    assert c.apply(p.Control.step(MAX_STEP_FRAMES)) is None and c.pending_steps == MAX_STEP_FRAMES
    c.apply(p.Control.step(MAX_STEP_FRAMES))  # pending steps never grow past the bound
    assert c.pending_steps == MAX_STEP_FRAMES
    assert c.apply(p.Control.resume()) is None
    assert c.pending_steps == 0 and not c.paused  # resume clears pending steps
    assert c.apply(p.Control.seek(MAX_SEEK_FRAME)) is None
    assert c.next_slot() == (SlotAction.CAPTURE, MAX_SEEK_FRAME)


def test_controller_pause_step_seek_rules() -> None:
    c = LoopController()
    c.attach(False, threading.Event())
    assert c.seek(5) is not None  # a live source cannot seek
    c.pause()
    assert c.next_slot() == (SlotAction.PAUSED, None)
    assert c.step(2) is None
    assert [c.next_slot()[0] for _ in range(3)] == [SlotAction.CAPTURE, SlotAction.CAPTURE, SlotAction.PAUSED]
    r = LoopController()
    r.attach(True, threading.Event())
    r.pause()
    r.seek(40)  # paused: the frame sought to is shown once, without using a step
    assert r.next_slot() == (SlotAction.CAPTURE, 40)
    assert r.next_slot() == (SlotAction.PAUSED, None)
    stop = threading.Event()
    e = LoopController()
    e.end("hotkey")
    e.attach(False, stop)
    assert stop.is_set() and e.end_reason == "hotkey"


def test_histogram_quantiles_within_a_bin() -> None:
    h = DurationHistogram()
    values = [1_000_000 * (i % 10 + 1) for i in range(1000)]  # 1..10 ms
    for v in values:
        h.add(v)
    d = h.as_dict()
    assert d["max"] == 10.0 and d["mean"] == pytest.approx(5.5)
    assert 5.0 <= d["p50"] <= 5.0 * 1.05 + 1e-9
    assert 10.0 * 0.95 <= d["p99"] <= 10.0
    assert DurationHistogram().as_dict() == {"mean": 0.0, "p50": 0.0, "p99": 0.0, "max": 0.0}


def test_slot_limit_is_one_definition_for_max_frames_and_duration() -> None:
    assert slot_limit(30, None, None) is None
    assert slot_limit(30, 10, None) == 10
    assert slot_limit(30, None, 1.0) == 30
    assert slot_limit(30, None, 1.01) == 31
    assert slot_limit(30, 20, 1.0) == 20
    assert slot_limit(7, None, 0.001) == 1
    with pytest.raises(ValueError, match="duration"):
        slot_limit(30, None, float("inf"))


# --- the loop on the real synthetic source ---------------------------------------------------


class GappySource(SyntheticSource):
    def _grab(self, out: np.ndarray, slot: int) -> int:
        if slot in (3, 4, 5):
            raise SourceGap
        return super()._grab(out, slot)


@pytest.mark.parametrize("paced", [True, False])
def test_every_slot_is_captured_dropped_or_a_gap(paced: bool) -> None:
    settings = {"width": 128, "height": 32, "fps": 100, "max_frames": 40, "paced": paced}
    loop, got = run_loop(GappySource(SyntheticSettings.model_validate(settings)))
    stats = loop.stats()
    assert stats["slots"] == 40 and accounted(stats) == 40 and loop.end_reason == "max_frames"
    assert stats["captured"] == len(got)
    assert next(g for g in stats["gaps"] if g["cause"] == "source")["slots"] == 3
    assert stats["gap_slots"] == sum(g["slots"] for g in stats["gaps"])
    assert {3, 4, 5}.isdisjoint(i for i, _ in got)
    times = [t for _, t in got]
    assert times == sorted(times)


def test_paused_span_is_a_gap_with_cause_paused_not_a_drop() -> None:
    settings = SyntheticSettings.model_validate({"width": 128, "height": 32, "fps": 100, "max_frames": 60})
    c = LoopController()
    seen: list[int] = []

    def consume(ref: FrameRef) -> None:
        seen.append(ref.index)
        if len(seen) == 5:
            c.pause()
            threading.Timer(0.15, c.resume).start()

    loop, got = run_loop(SyntheticSource(settings), c, consume)
    stats = loop.stats()
    assert accounted(stats) == 60 == stats["slots"]
    paused = [g for g in stats["gaps"] if g["cause"] == "paused"]
    assert paused and sum(g["slots"] for g in paused) >= 1
    for g in paused:
        assert g["end_ns"] > g["start_ns"]
    # random access: the content stood still while paused (positions continue without a hole)
    indices = [i for i, _ in got]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    assert indices[-1] - indices[0] + 1 == len(indices) + stats["dropped_late"] + stats["dropped_queue_full"]


def test_capture_error_ends_the_loop_with_its_end_marker() -> None:
    class Failing(SyntheticSource):
        def _grab(self, out: np.ndarray, slot: int) -> int:
            if slot == 4:
                raise RuntimeError("device unplugged")
            return super()._grab(out, slot)

    settings = SyntheticSettings.model_validate({"width": 128, "height": 32, "fps": 100, "max_frames": 20})
    loop, got = run_loop(Failing(settings))  # returns: the consumer got the end marker
    assert loop.end_reason == "capture error: RuntimeError: device unplugged"
    assert loop.slots == 4 == accounted(loop.stats()) and len(got) == loop.captured


# --- the stream configuration honours the same limits ------------------------------------------


@pytest.mark.parametrize("limit", [{"max_frames": 45}, {"duration": 0.45}])
def test_stream_configuration_counts_slots_like_record(limit: dict[str, float]) -> None:
    settings = SyntheticSettings.model_validate(
        {"width": 128, "height": 32, "fps": 100, "paced": False, **limit}
    )
    pub = GrimStreamPublisher(GrimStreamSettings.model_validate({"url": uds_url()}))
    try:
        result = stream_frames(SyntheticSource(settings), pub, threading.Event(), LoopController())
    finally:
        pub.close()
    assert result["slots"] == 45 and accounted(result) == 45
    assert result["end_reason"] == ("max_frames" if "max_frames" in limit else "duration")
    assert result["frames"] == result["captured"]


def test_stream_control_step_cannot_unpace_and_resume_clears_steps() -> None:
    url = uds_url()
    settings = SyntheticSettings.model_validate({"width": 128, "height": 32, "fps": 20})
    pub = GrimStreamPublisher(GrimStreamSettings.model_validate({"url": url}))
    controller = LoopController()
    pub.on_control = control_handler(controller)
    pub.start()
    stop = threading.Event()
    result: dict[str, object] = {}
    t = threading.Thread(
        target=lambda: result.update(stream_frames(SyntheticSource(settings), pub, stop, controller))
    )
    client = StreamClient(url)
    try:
        t.start()
        frames_of(client, 2)
        client.send(p.Control.step(2**32 - 1))  # refused: out of bounds, still playing paced
        client.send(p.Control.seek(2**64 - 16))  # refused
        client.send(p.Control.step(MAX_STEP_FRAMES))
        client.send(p.Control.resume())
        deadline = time.monotonic() + 5
        while controller.refused < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert controller.refused == 2 and controller.pending_steps == 0 and not controller.paused
        got = frames_of(client, 3)
        assert all(f.frame_id < 10_000 for f in got)
    finally:
        stop.set()
        t.join(5)
        client.close()
        pub.close()
    assert accounted(result) == result["slots"]


def test_stream_pause_step_seek_on_a_random_access_source() -> None:
    url = uds_url()
    source = SyntheticSource(SyntheticSettings.model_validate({"width": 320, "height": 240, "fps": 60}))
    pub = GrimStreamPublisher(GrimStreamSettings.model_validate({"url": url}))
    controller = LoopController()
    pub.on_control = control_handler(controller)
    pub.start()
    stop = threading.Event()
    result: dict[str, object] = {}
    t = threading.Thread(target=lambda: result.update(stream_frames(source, pub, stop, controller)))
    client = StreamClient(url)

    def index_of(frame: p.Frame) -> int | None:
        rgba = np.frombuffer(frame.data, np.uint8).reshape(240, 320, 4)
        return decode_index(np.ascontiguousarray(rgba[..., :3]))

    try:
        t.start()
        first = frames_of(client, 5)
        assert [index_of(f) for f in first] == [f.frame_id for f in first]
        client.send(p.Control.pause())
        time.sleep(0.3)
        while client.poll(0.05) is not None:
            pass
        assert not any(isinstance(client.poll(0.05), p.Frame) for _ in range(5))
        client.send(p.Control.seek(500))
        (sought,) = frames_of(client, 1)
        assert sought.frame_id == 500 and index_of(sought) == 500
        client.send(p.Control.step())
        assert frames_of(client, 1)[0].frame_id == 501
        client.send(p.Control.resume())
        assert frames_of(client, 3)[0].frame_id >= 502
    finally:
        stop.set()
        t.join(5)
        client.close()
        pub.close()
    assert result["end_reason"] == "stopped"
    assert accounted(result) == result["slots"]
    assert any(g["cause"] == "paused" for g in result["gaps"])  # type: ignore[attr-defined]


def test_capture_settings_refuse_an_infinite_duration() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        CaptureSettings.model_validate({"duration": float("inf")})
    assert FrameFormat(2, 2, "rgb24").nbytes == 12


def test_gap_runs_merge_by_cause_and_adjacency() -> None:
    settings = SyntheticSettings.model_validate({"width": 128, "height": 32})
    loop = CaptureLoop(
        SyntheticSource(settings),
        FramePool(FrameFormat(128, 32, "rgb24"), 2),
        queue.SimpleQueue(),
        threading.Event(),
    )
    loop._gap(3, "paused", 100, 200)
    loop._gap(4, "paused", 200, 500, slots=3)  # a late wake-up while paused: several slots at once
    loop._gap(7, "source", 500, 600)
    loop._gap(9, "source", 700, 800)  # not adjacent: a new run
    assert [g.as_dict() for g in loop.gaps] == [
        {"start_ns": 100, "end_ns": 500, "slots": 4, "cause": "paused"},
        {"start_ns": 500, "end_ns": 600, "slots": 1, "cause": "source"},
        {"start_ns": 700, "end_ns": 800, "slots": 1, "cause": "source"},
    ]
    assert loop.gap_slots == 6

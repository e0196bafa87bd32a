"""The stream job, telemetry tailing, state replay, CONTROL and recording a stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from grimjobs.capture.base import SourceGap
from grimjobs.capture.pattern import decode_index
from grimjobs.capture.synthetic import SyntheticSettings, SyntheticSource
from grimjobs.pipeline.streaming import stream_frames
from grimjobs.playback import LoopController
from grimjobs.stream import protocol as p
from grimjobs.stream.client import StreamClient
from grimjobs.stream.engine import EnginePublisher, StateReplayer, load_state_log
from grimjobs.stream.publisher import GrimStreamPublisher, GrimStreamSettings
from grimjobs.stream.telemetry import JsonlTailer, TelemetryForwarder
from tests.conftest import ROOT


def uds_url() -> str:
    return f"unix://{tempfile.gettempdir()}/grim-job-{os.getpid()}-{time.monotonic_ns()}.sock"


def frames_of(client: StreamClient, n: int, timeout_s: float = 10.0) -> list[p.Frame]:
    out: list[p.Frame] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < n and time.monotonic() < deadline:
        ev = client.poll(0.1)
        if isinstance(ev, p.Frame):
            out.append(ev)
    assert len(out) == n, f"got {len(out)} of {n} frames"
    return out


def index_of(frame: p.Frame, w: int, h: int) -> int:
    rgba = np.frombuffer(frame.data, np.uint8).reshape(h, w, 4)
    index = decode_index(np.ascontiguousarray(rgba[..., :3]))
    assert index is not None
    return index


def test_tailer_follows_late_creation_truncation_rotation_and_torn_lines(tmp_path: Path) -> None:
    path = tmp_path / "telemetry_events.jsonl"
    tail = JsonlTailer(path)
    assert tail.poll() == []  # not created yet
    path.write_text('{"seq": 0, "label": "a"}\nnot json\n{"seq": 1, "la')
    assert tail.poll() == [{"seq": 0, "label": "a"}] and tail.malformed == 1
    with path.open("a") as f:
        f.write('bel": "b"}\n')
    assert tail.poll() == [{"seq": 1, "label": "b"}]
    path.write_text('{"seq": 0, "label": "c"}\n')  # truncated and rewritten
    assert tail.poll() == [{"seq": 0, "label": "c"}] and tail.truncations == 1
    with path.open("a") as f:
        f.write('{"seq": 1, "label": "d"}\n')
    path.rename(tmp_path / "old.jsonl")
    path.write_text('{"seq": 0, "label": "e"}\n')
    assert tail.poll() == [{"seq": 1, "label": "d"}, {"seq": 0, "label": "e"}] and tail.rotations == 1
    tail.close()


def test_forwarder_keeps_seq_marks_labels_and_coalesces_under_load(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    sent: list[p.Message] = []
    fwd = TelemetryForwarder(JsonlTailer(path), sent.append, ["hook."], coalesce_above=3)
    path.write_text(
        "".join(json.dumps({"seq": 10 + i, "label": "hook.x" if i == 0 else "y"}) + "\n" for i in range(2))
    )
    fwd.poll()
    assert [(m.seq, m.label) for m in sent if isinstance(m, p.Telemetry)] == [(10, "hook.x"), (11, "y")]
    assert [m.label for m in sent if isinstance(m, p.TimelineMark)] == ["hook.x"]
    sent.clear()
    with path.open("a") as f:
        f.writelines(json.dumps({"seq": 12 + i, "label": "z", "data": {"i": i}}) + "\n" for i in range(10))
    fwd.poll()
    (batch,) = sent
    assert isinstance(batch, p.Telemetry) and batch.label == "telemetry.batch" and batch.seq == 21
    assert [e["seq"] for e in batch.data] == list(range(12, 22))


def test_telemetry_integers_beyond_64_bits_become_floats_and_encode(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"seq": 0, "label": "x", "data": {"big": 2**70, "ok": 2**64 - 1}}) + "\n")
    sent: list[p.Message] = []
    TelemetryForwarder(JsonlTailer(path), sent.append, [], coalesce_above=3).poll()
    (message,) = sent
    assert isinstance(message, p.Telemetry) and message.data == {"big": float(2**70), "ok": 2**64 - 1}
    assert p.decode_message(message.encode()) == message


def test_engine_publisher_and_state_replay_at_original_pace(tmp_path: Path) -> None:
    log = tmp_path / "state.jsonl"
    rows = [{"seq": i, "host_time_ns": 1_000_000_000 + i * 50_000_000, "frame": i} for i in range(6)]
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\nbroken\n")
    updates = load_state_log(log)
    assert [u.frame for u in updates] == list(range(6))
    with EnginePublisher(uds_url(), build="test") as engine:
        client = StreamClient(engine.url)
        hello = None
        while not isinstance(hello, p.Hello):
            hello = client.poll(1.0)
        assert hello.producer == "engine"
        replay = StateReplayer(updates, engine.server.send)
        engine.mark("replay.start", {"n": 6})
        stop = threading.Event()
        t0 = time.monotonic()
        replay.run(stop)
        took = time.monotonic() - t0
        got: list[p.Message] = []
        while len([m for m in got if isinstance(m, p.StateUpdate)]) < 6:
            ev = client.poll(2.0)
            assert ev is not None
            if isinstance(ev, p.StateUpdate | p.TimelineMark):
                got.append(ev)
        client.close()
    assert isinstance(got[0], p.TimelineMark) and got[0].label == "replay.start"
    states = [m for m in got if isinstance(m, p.StateUpdate)]
    assert [s.frame for s in states] == list(range(6)) and [s.seq for s in states] == list(range(6))
    gaps = np.diff([s.host_time_ns for s in states]) / 1e6
    assert took > 0.2 and all(30 < g < 200 for g in gaps)  # 50 ms pacing kept (loose bounds)


def test_state_replayer_pause_step_seek() -> None:
    updates = [p.StateUpdate(seq=i, host_time_ns=i * 10_000_000, frame=i) for i in range(20)]
    sent: list[p.StateUpdate] = []
    replay = StateReplayer(updates, sent.append)  # type: ignore[arg-type]
    replay.control(p.Control.pause())
    replay.control(p.Control.seek(10))
    replay.control(p.Control.step(2))
    stop = threading.Event()
    t = threading.Thread(target=replay.run, args=(stop,))
    t.start()
    time.sleep(0.3)
    assert [u.frame for u in sent] == [10, 11]
    replay.control(p.Control.resume())
    t.join(5)
    assert [u.frame for u in sent] == list(range(10, 20))


def test_stream_job_cli_serves_frames() -> None:
    url = uds_url()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grimjobs",
            "stream",
            f"stream.url={url}",
            "capture.width=320",
            "capture.height=240",
            "capture.duration=20",
            "hydra.run.dir=" + tempfile.mkdtemp(),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        client = StreamClient(url, reconnect_delay_s=0.1)
        frames = frames_of(client, 3, timeout_s=20)
        assert client.config == p.StreamConfig(320, 240, 1280, nominal_fps=30.0)
        assert [index_of(f, 320, 240) for f in frames] == [f.frame_id for f in frames]
        client.close()
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    # SIGTERM ends the stream at the next slot, with the loop's counters in one line.
    assert proc.returncode == 0, err[-2000:]
    assert "stream ended (stopped)" in err.decode()


class _GappySource(SyntheticSource):
    """The synthetic pattern with nothing to show on some slots, as a minimized window has."""

    def _grab(self, out: np.ndarray, slot: int) -> int:
        if slot in (2, 3):
            raise SourceGap
        return super()._grab(out, slot)


def test_stream_frames_skips_slots_without_a_frame() -> None:
    settings = {"width": 128, "height": 32, "fps": 60, "paced": False, "max_frames": 6}
    source = _GappySource(SyntheticSettings.model_validate(settings))
    pub = GrimStreamPublisher(GrimStreamSettings.model_validate({"url": uds_url()}))
    try:
        result = stream_frames(source, pub, threading.Event(), LoopController())
    finally:
        pub.close()
    # max_frames counts slots (as in record): 6 slots, 2 of them gaps, 4 frames sent
    assert (result["slots"], result["captured"], result["gap_slots"]) == (6, 4, 2)
    assert (result["frames"], result["end_reason"]) == (4, "max_frames")


def test_state_replayer_shares_the_loops_control_bounds() -> None:
    updates = [p.StateUpdate(seq=i, host_time_ns=i * 10_000_000, frame=i) for i in range(5)]
    replay = StateReplayer(updates, lambda m: None)
    replay.control(p.Control.step(2**32 - 1))  # refused, as the capture loop refuses it
    replay.control(p.Control.seek(2**64 - 16))
    assert not replay.paused and replay.index == 0
    replay.control(p.Control.step(3))
    assert replay.paused
    replay.control(p.Control.resume())  # clears pending steps
    assert not replay.paused and replay._steps == 0

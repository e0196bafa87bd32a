"""Synthetic session folders, clean or with one chosen defect, for tests and benchmarks.

Everything is written through the real formats: sync.csv and actions.bin by the session writers'
encoders, capture.mp4 as a real fragmented MP4 (PyAV, the recorder's container options), so a
generated session is indistinguishable from a recorded one to every reader.

    from tests.validation.fixtures import SessionSpec, write_session, tear_tail
    session = write_session(tmp_path / "s", SessionSpec(frames=90, input_hz=100))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from grimjobs.session import ACTIONS, CAPTURE, SYNC
from grimjobs.session.actions import (
    REASON_CONNECT,
    REASON_DISCONNECT,
    REASON_EVENT,
    REASON_SAMPLE,
    ActionsWriter,
    InputSnapshot,
)
from grimjobs.session.sync import write_sync_table

START_NS = 5_000_000_000_000  # a plausible CLOCK_MONOTONIC value (about 83 minutes after boot)


@dataclass(slots=True)
class SessionSpec:
    frames: int = 90
    fps: float = 30.0
    width: int = 64
    height: int = 48
    start_ns: int = START_NS
    seed: int = 0
    jitter_ms: float = 0.0  # uniform capture-time jitter around the nominal time
    gaps: dict[int, float] = field(default_factory=dict)  # frame index -> extra seconds before it
    drift_ppm: float = 0.0  # pts run fast by this many parts per million of elapsed time
    video: str = "encode"  # encode: every frame a distinct picture; copy: one packet muxed per frame
    #                        (fast for hour-long sessions; decodes as a frozen picture); none
    picture: str = "moving"  # moving, frozen, black
    keyframe_interval: int = 30
    input_hz: float = 60.0  # periodic samples per second (0: events only)
    events_per_s: float = 4.0  # button presses / releases and stick moves per second
    disconnect_at: float | None = None  # fraction of the session where the pad disconnects...
    reconnect_at: float | None = None  # ...and comes back
    stale_disconnect: bool = False  # the disconnect record (and after) still shows buttons held
    out_of_order: int = 0  # records swapped with their neighbour


def frame_times(spec: SessionSpec) -> np.ndarray:
    """Capture time of every frame in ns: nominal, jittered, with gaps."""
    rng = np.random.default_rng(spec.seed)
    nominal = 1e9 / spec.fps
    times = np.arange(spec.frames) * nominal
    if spec.jitter_ms:
        times += rng.uniform(-spec.jitter_ms, spec.jitter_ms, spec.frames) * 1e6
    extra = np.zeros(spec.frames)
    for index, seconds in spec.gaps.items():
        extra[index:] += seconds * 1e9
    times = np.maximum.accumulate(times + extra)
    return spec.start_ns + np.round(times).astype(np.int64) + np.arange(spec.frames)  # strictly increasing


def frame_pts(times: np.ndarray, drift_ppm: float = 0.0) -> np.ndarray:
    """pts in 1/90000 as the recorder computes them, optionally drifting."""
    elapsed = (times - times[0]).astype(np.float64) * (1 + drift_ppm * 1e-6)
    pts = np.floor(elapsed * 90_000 / 1e9).astype(np.int64)
    return np.maximum.accumulate(pts + np.arange(len(pts))) - np.arange(len(pts)) + 0  # never repeats


def _picture(spec: SessionSpec, index: int, rng: np.random.Generator) -> np.ndarray:
    if spec.picture == "black":
        return np.zeros((spec.height, spec.width, 3), np.uint8)
    if spec.picture == "frozen":
        index = 0
    y, x = np.mgrid[0 : spec.height, 0 : spec.width]
    shade = ((x * 4 + y * 2 + index * 7) % 256).astype(np.uint8)
    block = ((x // 8 + y // 8 + index) % 2 * 120).astype(np.uint8)
    return np.dstack((shade, block, 255 - shade))


def write_video(path: Path, pts: np.ndarray, spec: SessionSpec) -> None:
    """A fragmented MP4 with one packet per pts (H.264, time base 1/90000)."""
    import av

    from grimjobs.encoder.base import TIME_BASE
    from grimjobs.encoder.pyav import FRAGMENTED_MP4

    with av.open(str(path), mode="w", format="mp4", container_options=FRAGMENTED_MP4) as container:
        stream = container.add_stream("libx264", options={"preset": "ultrafast", "tune": "zerolatency"})
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE
        stream.codec_context.framerate = Fraction(spec.fps).limit_denominator(1001)
        stream.codec_context.gop_size = 1 if spec.video == "copy" else spec.keyframe_interval
        rng = np.random.default_rng(spec.seed)
        if spec.video == "copy":
            frame = av.VideoFrame.from_ndarray(_picture(spec, 0, rng), format="rgb24")
            frame.pts, frame.time_base = 0, TIME_BASE
            packets = [*stream.encode(frame), *stream.encode(None)]
            template = packets[0]
            data = bytes(template)
            for index, value in enumerate(pts.tolist()):
                packet = av.Packet(data)
                packet.stream = stream
                packet.pts = packet.dts = value
                packet.time_base = TIME_BASE
                # Every packet is an IDR picture; flagging only every keyframe_interval-th one as a
                # keyframe gives the recorder's fragment layout (one fragment per keyframe interval).
                packet.is_keyframe = index % spec.keyframe_interval == 0
                container.mux(packet)
            return
        for index, value in enumerate(pts):
            frame = av.VideoFrame.from_ndarray(_picture(spec, index, rng), format="rgb24")
            frame.pts, frame.time_base = int(value), TIME_BASE
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def synthetic_inputs(spec: SessionSpec, start_ns: int, end_ns: int) -> list[InputSnapshot]:
    """Periodic samples plus events (button presses, stick moves) between start and end."""
    rng = np.random.default_rng(spec.seed + 1)
    span = end_ns - start_ns
    seconds = span / 1e9
    event_times = np.sort(rng.integers(start_ns, end_ns, int(seconds * spec.events_per_s) + 1))
    sample_times = (
        np.arange(start_ns, end_ns, int(1e9 / spec.input_hz)) if spec.input_hz else np.zeros(0, np.int64)
    )
    times = np.concatenate((event_times, sample_times))
    reasons = np.concatenate(
        (np.full(len(event_times), REASON_EVENT), np.full(len(sample_times), REASON_SAMPLE))
    )
    order = np.argsort(times, kind="stable")
    times, reasons = times[order], reasons[order]
    buttons: set[int] = set()
    axes = [0.0] * 6
    disconnect_ns = start_ns + int(span * spec.disconnect_at) if spec.disconnect_at is not None else None
    reconnect_ns = start_ns + int(span * spec.reconnect_at) if spec.reconnect_at is not None else None
    out = [InputSnapshot(start_ns - 1_000_000, tuple(axes), (), reason=REASON_CONNECT)]
    connected = True
    choices = rng.integers(0, 1 << 30, len(times))
    for t, reason, choice in zip(times.tolist(), reasons.tolist(), choices.tolist(), strict=True):
        if connected and disconnect_ns is not None and t >= disconnect_ns:
            connected, at, disconnect_ns = False, disconnect_ns, None
            held = tuple(sorted(buttons)) if spec.stale_disconnect else ()
            out.append(
                InputSnapshot(
                    at,
                    (0.0,) * 6 if not spec.stale_disconnect else tuple(axes),
                    held,
                    reason=REASON_DISCONNECT,
                )
            )
            if not spec.stale_disconnect:
                buttons.clear()
                axes = [0.0] * 6
        if not connected and reconnect_ns is not None and t >= reconnect_ns:
            connected, at, reconnect_ns = True, reconnect_ns, None
            out.append(InputSnapshot(at, (0.0,) * 6, (), reason=REASON_CONNECT))
        if not connected and not spec.stale_disconnect:
            continue  # a disconnected pad writes nothing
        if reason == REASON_EVENT and connected:
            if choice % 3 == 0:
                axes[choice % 6] = round(((choice >> 4) % 201 - 100) / 100, 2)
            else:
                button = (choice >> 3) % 15
                buttons.symmetric_difference_update({button})
        out.append(InputSnapshot(t, tuple(axes), tuple(sorted(buttons)), reason=reason))
    for k in range(spec.out_of_order):
        i = 1 + (k * 7919) % max(len(out) - 2, 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return out


def write_actions(path: Path, snapshots: Iterable[InputSnapshot]) -> int:
    writer = ActionsWriter(path)
    try:
        for snapshot in snapshots:
            writer.write(snapshot)
        return writer.records
    finally:
        writer.close()


def write_session(path: Path, spec: SessionSpec | None = None) -> Path:
    """A complete session folder (capture.mp4, sync.csv, actions.bin; no summary.json)."""
    spec = spec or SessionSpec()
    path.mkdir(parents=True, exist_ok=True)
    times = frame_times(spec)
    pts = frame_pts(times, spec.drift_ppm)
    write_sync_table(path / SYNC, times, pts)
    if spec.video != "none":
        write_video(path / CAPTURE, pts, spec)
    write_actions(path / ACTIONS, synthetic_inputs(spec, int(times[0]), int(times[-1])))
    return path


# Defects applied to a written session --------------------------------------------------------


def tear_tail(file: Path, keep_fraction_of_last: float = 0.5) -> int:
    """Cut a file inside its last record / row, as a killed recorder leaves it. Returns bytes cut."""
    data = file.read_bytes()
    if file.name == SYNC:
        last_row = data.rstrip(b"\n").rfind(b"\n") + 1
        cut = last_row + max(1, int((len(data) - last_row) * keep_fraction_of_last))
    else:
        cut = len(data) - 3
    file.write_bytes(data[:cut])
    return len(data) - cut


def cut_file(file: Path, keep_fraction: float) -> None:
    """Keep only the first part of a file (a capture.mp4 whose last fragments were never written)."""
    data = file.read_bytes()
    file.write_bytes(data[: int(len(data) * keep_fraction)])


def write_recorder_summary(
    path: Path,
    *,
    paced: bool = True,
    dropped_late: int = 0,
    dropped_queue_full: int = 0,
    gaps: list[tuple[int, int, str]] | None = None,
    layout: str = "new",
    end_reason: str = "duration",
    duration: float | None = None,
    duplicates: int | None = None,
    longest_duplicate_run: int | None = None,
) -> dict[str, object]:
    """summary.json as the recorder writes it for the session at `path` (from its sync.csv).

    layout "new": with `capture.loop` (the loop's exact per-cause counts and its gap list, each
    gap `(first frame index after which it starts, frames it lasts, cause)`); "old": only the
    top-level `dropped` and the source's stats, as recordings made before capture.loop existed.
    """
    import json

    from grimjobs.session import SUMMARY
    from grimjobs.session.sync import read_sync

    sync = read_sync(path / SYNC)
    times = sync.monotonic_ns
    fps = 30.0
    gap_list: list[dict[str, int | str]] = []
    for after, slots, cause in gaps or []:
        gap_list.append(
            {
                "start_ns": int(times[after]) + 1,
                "end_ns": int(times[after + 1]) - 1,
                "slots": slots,
                "cause": cause,
            }
        )
    stats: dict[str, object] = {}
    if duplicates is not None:
        stats["duplicates"] = duplicates
    if longest_duplicate_run is not None:
        stats["longest_duplicate_run"] = longest_duplicate_run
    capture: dict[str, object] = {
        "config": {"fps": fps, "paced": paced, "duration": duration, "max_frames": None},
        "stats": stats,
    }
    if layout == "new":
        capture["loop"] = {
            "paced": paced,
            "fps": fps,
            "slots": len(times) + dropped_late + dropped_queue_full + sum(int(g["slots"]) for g in gap_list),
            "captured": len(times),
            "dropped_late": dropped_late,
            "dropped_queue_full": dropped_queue_full,
            "gap_slots": sum(int(g["slots"]) for g in gap_list),
            "gaps": gap_list,
            "grab_ms": {"mean": 1.0, "max": 3.0},
            "wake_late_ms_max": 0.5,
        }
    summary: dict[str, object] = {
        "frames": len(times),
        "dropped": dropped_late + dropped_queue_full,
        "duration_s": float(times[-1] - times[0]) / 1e9,
        "nominal_fps": fps,
        "end_reason": end_reason,
        "capture": capture,
    }
    (path / SUMMARY).write_text(json.dumps(summary, indent=2))
    return summary

"""Generated sessions: sync.csv and actions.bin written with the session writers, plus a tiny real
H.264 MP4 whose frame pts follow the capture times (as the recorder writes them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from grimjobs.session import ACTIONS, CAPTURE, SUMMARY, SYNC
from grimjobs.session.actions import ActionsWriter, InputSnapshot
from grimjobs.session.sync import SyncWriter

MS = 1_000_000
PTS_RATE = 90000


def make_session(
    folder: Path,
    frame_ns: Sequence[int],
    snapshots: Sequence[InputSnapshot],
    video: bool = True,
    nominal_fps: float = 30.0,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    first = frame_ns[0]
    pts = [round((t - first) * PTS_RATE / 1e9) for t in frame_ns]
    sync = SyncWriter(folder / SYNC)
    for index, (t, p) in enumerate(zip(frame_ns, pts, strict=True)):
        sync.write(index, t, p)
    sync.close()
    actions = ActionsWriter(folder / ACTIONS)
    for snapshot in snapshots:
        actions.write(snapshot)
    actions.close()
    if video:
        write_video(folder / CAPTURE, pts)
    (folder / SUMMARY).write_text(
        json.dumps({"frames": len(frame_ns), "nominal_fps": nominal_fps, "dropped": 0}), encoding="utf-8"
    )
    return folder


def write_video(path: Path, pts: Sequence[int], width: int = 64, height: int = 48) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, PTS_RATE)
        stream.time_base = Fraction(1, PTS_RATE)
        stream.options = {"preset": "ultrafast", "bf": "0"}
        for index, p in enumerate(pts):
            image = np.full((height, width, 3), (index * 7) % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = p
            frame.time_base = Fraction(1, PTS_RATE)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def frames_at(*times_ms: float, origin_ns: int = 10_000 * MS) -> list[int]:
    return [origin_ns + round(t * MS) for t in times_ms]

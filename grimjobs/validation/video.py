"""What capture.mp4 holds, by demuxing (no decoding), plus a bounded sample of decoded frames.

PyAV is imported here only, so validating the other files works without it loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(slots=True)
class VideoInfo:
    readable: bool
    error: str | None = None  # why demuxing stopped early (a torn tail) or could not start
    codec: str | None = None
    width: int = 0
    height: int = 0
    pixel_format: str | None = None
    time_base: Fraction | None = None
    average_rate: float | None = None
    packets: int = 0
    keyframes: int = 0
    pts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    duration_s: float = 0.0  # last pts - first pts, in seconds

    def params(self) -> dict[str, Any]:
        return {
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "pixel_format": self.pixel_format,
            "time_base": str(self.time_base) if self.time_base else None,
            "average_rate": round(self.average_rate, 3) if self.average_rate else None,
        }


def demux(path: Path) -> VideoInfo:
    """Count the video packets and collect their pts without decoding anything.

    A file cut off mid-fragment (a killed recorder) demuxes up to the damage; the error is kept.
    """
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        return VideoInfo(readable=False, error=f"cannot open: {exc}")
    with container:
        if not container.streams.video:
            return VideoInfo(readable=False, error="no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        info = VideoInfo(
            readable=True,
            codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            pixel_format=ctx.pix_fmt,
            time_base=stream.time_base,
            average_rate=float(stream.average_rate) if stream.average_rate else None,
        )
        pts: list[int] = []
        ends: list[int] = []
        keyframes = 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0:  # the flush packet at the end
                    continue
                pts.append(packet.pts if packet.pts is not None else -1)
                ends.append(packet.pos + packet.size if packet.pos is not None and packet.pos >= 0 else 0)
                keyframes += packet.is_keyframe
        except (av.error.FFmpegError, OSError) as exc:
            info.error = f"demux stopped after {len(pts)} packets: {exc}"
        pts_array = np.asarray(pts, np.int64)
        torn_at = mp4_torn_at(path)
        if torn_at is not None:
            # FFmpeg hands out the last packet of a cut-off fragment clipped at the end of the file.
            size = path.stat().st_size
            whole = np.asarray(ends, np.int64) < size
            partial = int((~whole).sum())
            pts_array = pts_array[whole]
            info.error = (
                f"ends in a box cut off at byte {size} (box starts at byte {torn_at}); "
                f"{partial} partial frame(s) left out"
            )
        info.pts = np.sort(pts_array)
        info.packets = len(pts_array)
        info.keyframes = keyframes
        if len(pts) > 1 and info.time_base is not None:
            info.duration_s = float((info.pts[-1] - info.pts[0]) * info.time_base)
    return info


def mp4_torn_at(path: Path) -> int | None:
    """Offset of the first top-level MP4 box that runs past the end of the file, or None.

    A recorder killed mid-fragment leaves its last `moof`/`mdat` box shorter than its header says.
    Only box headers are read (two per fragment), never the media data.
    """
    size = path.stat().st_size
    offset = 0
    with open(path, "rb") as file:
        while offset < size:
            file.seek(offset)
            header = file.read(16)
            if len(header) < 8:
                return offset
            box_size = int.from_bytes(header[:4], "big")
            if box_size == 1:
                if len(header) < 16:
                    return offset
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                return None  # "extends to the end of the file"
            if box_size < 8 or offset + box_size > size:
                return offset
            offset += box_size
    return None


@dataclass(slots=True)
class FrameSample:
    pairs: int = 0  # consecutive decoded frame pairs compared
    duplicates: int = 0  # pairs with (almost) no pixel change: a frozen picture
    frames: int = 0
    black: int = 0
    error: str | None = None


def sample_frames(
    path: Path, windows: int, frames_per_window: int, duplicate_level: float, black_level: float
) -> FrameSample:
    """Decode `frames_per_window` consecutive frames at `windows` evenly spaced keyframes.

    The cost is bounded by windows x frames_per_window decodes whatever the session's length.
    Frames are compared as small grayscale thumbnails: a mean absolute difference at or below
    `duplicate_level` (0-255) is a duplicate; a mean luma at or below `black_level` is black.
    """
    import av

    sample = FrameSample()
    if windows <= 0 or frames_per_window <= 0:
        return sample
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            time_base = stream.time_base
            duration = float(stream.duration * time_base) if stream.duration and time_base else None
            if duration is None and container.duration:
                duration = container.duration / 1_000_000
            starts = np.linspace(0, max((duration or 0) - 0.5, 0), windows) if windows > 1 else [0.0]
            previous_window_end = -1
            for start_s in starts:
                offset = int(start_s / stream.time_base) if stream.time_base else 0
                container.seek(offset, stream=stream, backward=True, any_frame=False)
                previous: np.ndarray | None = None
                taken = 0
                for frame in container.decode(stream):
                    if frame.pts is not None and frame.pts <= previous_window_end:
                        continue  # windows overlap on a short video: do not count a frame twice
                    thumb = frame.reformat(width=64, height=36, format="gray").to_ndarray().astype(np.int16)
                    sample.frames += 1
                    sample.black += float(thumb.mean()) <= black_level
                    if previous is not None:
                        sample.pairs += 1
                        sample.duplicates += float(np.abs(thumb - previous).mean()) <= duplicate_level
                    previous = thumb
                    previous_window_end = frame.pts if frame.pts is not None else previous_window_end
                    taken += 1
                    if taken >= frames_per_window:
                        break
    except (av.error.FFmpegError, OSError, IndexError) as exc:
        sample.error = str(exc)
    return sample

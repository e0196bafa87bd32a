"""The shared PyAV video sink behind every codec config.

The container is fragmented MP4 with a fragment per keyframe: the file on disk is playable up to
the last completed fragment at every moment, so a crash loses at most one keyframe interval.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from grimjobs.encoder.base import TIME_BASE, EncoderStats, VideoEncoder
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat

# flush_packets: hand each finished fragment to the OS at once. Without it FFmpeg's 32 KB write
# buffer holds the newest fragments back, and a kill -9 loses them however often keyframes come.
FRAGMENTED_MP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}


class PyAVEncoder(VideoEncoder):
    """Subclasses name the codec and translate their settings into codec options."""

    codec: str = ""

    def codec_options(self, fps: float) -> dict[str, str]:
        return {}

    def container_options(self) -> dict[str, str]:
        """MP4 muxer options; codecs with a keyframe every frame (FFV1) cut fragments by time."""
        return dict(FRAGMENTED_MP4)

    @property
    def pixel_format(self) -> str:
        return str(getattr(self.settings, "pixel_format", "yuv420p"))

    def gop_frames(self, fps: float) -> int:
        seconds = float(getattr(self.settings, "gop_seconds", 2.0))
        return max(1, int(fps * seconds))

    def open(self, path: Path, fmt: FrameFormat, fps: float) -> None:
        import av

        if self.codec not in av.codecs_available:
            raise UserError(
                f"encoder: this PyAV build has no {self.codec!r} encoder; choose another encoder="
            )
        self._path = path
        self._container: Any = av.open(
            str(path), mode="w", format="mp4", container_options=self.container_options()
        )
        self._options = self.codec_options(fps)
        stream: Any = self._container.add_stream(self.codec, options=self._options)
        stream.width, stream.height = fmt.width, fmt.height
        stream.pix_fmt = self.pixel_format
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE
        stream.codec_context.framerate = _fraction(fps)
        stream.codec_context.gop_size = self.gop_frames(fps)
        # Frame and slice threading, as the ffmpeg CLI does: PyAV's default (slices only) makes
        # libx264 split every frame across threads, ~10% slower on 2 cores. Frame threads add a few
        # frames of encoder delay; crash loss is still bounded by the fragment (keyframe) interval.
        stream.codec_context.thread_type = "AUTO"
        if self.settings.threads:
            stream.codec_context.thread_count = self.settings.threads
        self._stream = stream
        self._pixel_format_in = fmt.pixel_format
        # One input frame for the whole recording, filled in place: from_ndarray would allocate a
        # frame-sized buffer per frame. Safe only because converting to the codec's pixel format
        # gives the encoder a frame of its own; without a conversion the encoder may keep ours.
        self._input: tuple[Any, np.ndarray] | None = None
        if fmt.pixel_format != self.pixel_format:
            frame = av.VideoFrame(fmt.width, fmt.height, fmt.pixel_format)
            plane = frame.planes[0]
            rows = np.frombuffer(memoryview(plane), np.uint8).reshape(fmt.height, plane.line_size)
            self._input = (frame, rows[:, : fmt.width * fmt.channels].reshape(fmt.shape))
        self._frames = 0
        self._encode_seconds = 0.0
        self._pts_offset: int | None = None

    def encode(self, pixels: np.ndarray, pts: int) -> None:
        import av

        started = time.perf_counter()
        if self._input is not None:
            frame, view = self._input
            np.copyto(view, pixels)
        else:
            frame = av.VideoFrame.from_ndarray(pixels, format=self._pixel_format_in)
        frame.pts = pts
        frame.time_base = TIME_BASE
        self._mux(self._stream.encode(frame))
        self._encode_seconds += time.perf_counter() - started
        self._frames += 1

    def _mux(self, packets: list[Any]) -> None:
        if packets and self._pts_offset is None:
            # MP4 fragments carry no edit list, so the muxer shifts every timestamp by -first dts
            # (the B-frame delay) to keep dts >= 0. Remember the shift: sync.csv stores file pts.
            first_dts = packets[0].dts
            self._pts_offset = max(0, -first_dts) if first_dts is not None else 0
        self._container.mux(packets)

    @property
    def pts_offset(self) -> int | None:
        return self._pts_offset

    def close(self) -> EncoderStats:
        started = time.perf_counter()
        self._mux(self._stream.encode(None))
        self._container.close()
        if self._pts_offset is None:
            self._pts_offset = 0
        self._encode_seconds += time.perf_counter() - started
        return EncoderStats(
            frames=self._frames,
            bytes=self.bytes_written,
            encode_seconds=self._encode_seconds,
            codec=self.codec,
            options=dict(self._options),
        )

    @property
    def bytes_written(self) -> int:
        try:
            return os.path.getsize(self._path)
        except OSError:
            return 0


def _fraction(fps: float) -> Any:
    from fractions import Fraction

    return Fraction(fps).limit_denominator(1001)

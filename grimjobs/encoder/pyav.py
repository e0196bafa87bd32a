"""The shared PyAV video sink behind every codec config.

The container is fragmented MP4 cut by time: a fragment at every keyframe and at the latest every
`encoder.fragment_seconds` of video (`frag_duration`), each handed to the OS when it is finished
(`flush_packets`). The file on disk is playable up to the last completed fragment at every moment,
so a crash loses at most one fragment plus what the encoder still holds (its delay, measured per
recording as `delay_frames`).

Keyframes are placed by time, not by frame count: a frame whose pts is `gop_seconds` or more past
the previous keyframe is sent as an I picture (`frame.pict_type`, which libx264/libx265/SVT-AV1/
NVENC turn into an IDR/key frame). Counting frames would stretch the interval whenever frames are
dropped or the window is gone (a gap). The codec's own frame-count GOP (`gop_size`) is set well
beyond that, as a backstop only.
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


def fragmented_mp4(fragment_seconds: float) -> dict[str, str]:
    """Muxer options: a fragment per keyframe and at most `fragment_seconds` long. The muxer
    closes a fragment when the next packet would make it longer (`frag_duration`, microseconds)."""
    return {**FRAGMENTED_MP4, "frag_duration": str(round(fragment_seconds * 1_000_000))}


class PyAVEncoder(VideoEncoder):
    """Subclasses name the codec and translate their settings into codec options."""

    codec: str = ""

    def codec_options(self, fps: float) -> dict[str, str]:
        return {}

    def container_options(self) -> dict[str, str]:
        """MP4 muxer options: fragments cut at keyframes and by time."""
        return fragmented_mp4(self.settings.fragment_seconds)

    @property
    def pixel_format(self) -> str:
        return str(getattr(self.settings, "pixel_format", "yuv420p"))

    @property
    def gop_seconds(self) -> float | None:
        """Seconds between keyframes (placed by time), None for intra-only codecs."""
        return float(getattr(self.settings, "gop_seconds", 2.0))

    def gop_frames(self, fps: float) -> int:
        """The codec's frame-count GOP: a backstop beyond the time-placed keyframes, so at a
        steady rate the keyframe comes from time (the forced I picture) and never a frame early."""
        seconds = self.gop_seconds
        return 1 if seconds is None else max(1, int(fps * seconds) * 2)

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
        # frames of encoder delay (measured: delay_frames), which a crash loses on top of a fragment.
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
        self._delay_frames: int | None = None
        gop = self.gop_seconds
        self._gop_pts = None if gop is None else round(gop * TIME_BASE.denominator)
        self._next_key_pts: int | None = None  # None: the next frame is the first, a keyframe anyway
        self._forced_keyframes = 0
        from av.video.frame import PictureType

        self._picture_i, self._picture_auto = PictureType.I, PictureType.NONE

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
        frame.pict_type = self._picture_type(pts)
        packets = self._stream.encode(frame)
        if packets and self._delay_frames is None:
            self._delay_frames = self._frames  # frames in before the first packet came out
        self._mux(packets)
        self._encode_seconds += time.perf_counter() - started
        self._frames += 1

    def _picture_type(self, pts: int) -> Any:
        """I when this frame is due a keyframe by time, else the codec decides."""
        if self._gop_pts is None:
            return self._picture_auto
        if self._next_key_pts is None:
            self._next_key_pts = pts + self._gop_pts  # the first frame is a keyframe anyway
            return self._picture_auto
        if pts >= self._next_key_pts:
            # The next one is due gop_seconds after this one, not after the missed due time: a
            # gap of several seconds must not cause a burst of keyframes.
            self._next_key_pts = pts + self._gop_pts
            self._forced_keyframes += 1
            return self._picture_i
        return self._picture_auto

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
            delay_frames=self._delay_frames if self._delay_frames is not None else self._frames,
            keyframes=self._forced_keyframes,
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

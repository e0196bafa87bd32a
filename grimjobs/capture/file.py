"""An existing video as a capture source (encoder sweeps, reproducible tests).

Paced (`paced: true`), the file plays in real time: slot k shows the file's frame on screen at
k / fps seconds into the file (repeated frames are counted as duplicates when the file's rate is
lower than capture.fps; skipped ones when it is higher). Unpaced, every frame of the file is
delivered in order as fast as the pipeline takes them, stamped with the file's own timing
(first grab + the frame's time in the file), so the recording keeps the file's frame rate.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from grimjobs.capture.base import CaptureSettings, CaptureSource, SourceEnded
from grimjobs.capture.scale import Fitter, ScaleFilter
from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat


class FileSettings(CaptureSettings):
    path: str | None = Field(None, description="video file to read (anything FFmpeg decodes)")
    start: float = Field(0.0, ge=0, description="seconds into the file to start at")
    scale_filter: ScaleFilter = Field("fast_bilinear", description="swscale filter for the output size")


class FileSource(CaptureSource):
    Settings = FileSettings
    settings: FileSettings

    def _open(self) -> FrameFormat:
        import av

        s = self.settings
        if s.path is None:
            raise UserError("capture.path is not set: use capture=file capture.path=<video file>")
        path = Path(s.path).expanduser()
        if not path.is_file():
            raise UserError(f"capture.path={s.path!r}: no such file; give the path of an existing video")
        try:
            self._container: Any = av.open(str(path))
        except av.FFmpegError as exc:
            raise UserError(f"capture.path={s.path!r} cannot be opened as a video: {exc}") from None
        if not self._container.streams.video:
            self._container.close()
            raise UserError(f"capture.path={s.path!r} has no video stream")
        stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        self._file_fps = float(rate) if rate else s.fps
        if s.start > 0:
            assert stream.time_base is not None
            self._container.seek(round(s.start / float(stream.time_base)), stream=stream)
        self._frames: Iterator[Any] = self._container.decode(stream)
        self._current: Any = None  # the decoded frame on "screen" now
        self._upcoming: Any = None  # the next decoded frame, read ahead for paced playback
        self._decoded = 0
        self._first_time: float | None = None
        self._t0_ns: int | None = None
        self.duplicates = 0
        self.skipped = 0
        self._shown_serial = -1
        self._serial = -1
        self._fitter = Fitter(s.width, s.height, "rgb24", s.scale_filter)
        return FrameFormat(s.width, s.height, "rgb24")

    def _next(self) -> Any:
        try:
            frame = next(self._frames)
        except StopIteration:
            return None
        if frame.time is not None and frame.time < self.settings.start:
            return self._next()  # the seek lands on a keyframe before `start`
        self._decoded += 1
        return frame

    def _time(self, frame: Any) -> float:
        """Seconds from the first delivered frame of the file."""
        t = float(frame.time) if frame.time is not None else self._decoded / self._file_fps
        if self._first_time is None:
            self._first_time = t
        return t - self._first_time

    def _grab(self, out: np.ndarray, slot: int) -> int:
        s = self.settings
        if not s.paced:
            frame = self._next()
            if frame is None:
                raise SourceEnded("end of file")
            if self._t0_ns is None:
                self._t0_ns = now_ns()
            t_ns = self._t0_ns + round(self._time(frame) * NS_PER_S)
            self._fitter.fit_frame(frame, out)
            return t_ns
        t_ns = now_ns()
        target = slot / s.fps  # where in the file this slot is
        if self._current is None:
            self._current = self._next()
            if self._current is None:
                raise SourceEnded("the file has no frames")
            self._serial += 1
            self._time(self._current)
        while True:
            if self._upcoming is None:
                self._upcoming = self._next()
                if self._upcoming is None:
                    if target > self._time(self._current) + 1.0 / self._file_fps:
                        raise SourceEnded("end of file")
                    break
            if self._time(self._upcoming) > target:
                break
            self._current, self._upcoming = self._upcoming, None
            self._serial += 1
        shown_before = self._shown_serial
        if self._serial == shown_before:
            self.duplicates += 1
        elif shown_before >= 0:
            self.skipped += self._serial - shown_before - 1
        self._shown_serial = self._serial
        self._fitter.fit_frame(self._current, out)
        return t_ns

    def stats(self) -> dict[str, Any]:
        return {
            "decoded": getattr(self, "_decoded", 0),
            "duplicates": getattr(self, "duplicates", 0),
            "skipped": getattr(self, "skipped", 0),
        }

    def _close(self) -> None:
        self._container.close()

"""The capture source interface.

A source fills frame buffers with pixels and says when it took them; it never encodes, writes or
paces (the capture loop in `grimjobs.pipeline.loop` schedules it). Lifecycle as a camera:
`open()` -> `grab()`... -> `close()`, or a `with` block.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, ClassVar, Self

import numpy as np
from pydantic import Field, field_validator

from grimjobs.frames import FrameFormat
from grimjobs.settings import Settings


class CaptureSettings(Settings):
    """Keys every `conf/capture/*.yaml` has."""

    width: int = Field(1280, ge=16, le=7680, description="output width in pixels (even)")
    height: int = Field(720, ge=16, le=4320, description="output height in pixels (even)")
    fps: float = Field(30.0, gt=0, le=240, description="frames per second to capture")
    duration: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="seconds to record; null for no limit"
    )
    max_frames: int | None = Field(None, ge=1, description="capture slots to record; null for no limit")
    paced: bool = Field(True, description="false: as fast as the pipeline takes frames")

    @field_validator("width", "height")
    @classmethod
    def _even(cls, value: int) -> int:
        # yuv420p subsamples chroma 2x2, so odd sizes cannot be encoded without cropping.
        if value % 2:
            raise ValueError("must be even (yuv420p video)")
        return value


class SourceEnded(Exception):
    """The source has no more frames (end of file, window gone with on_lost=stop)."""


class SourceGap(Exception):
    """No frame for this slot (the captured window is minimized or gone and `on_lost` says
    continue): the capture loop counts the slot as a gap and asks again at the next slot, so the
    gap shows in sync.csv as missing time, never as a made-up frame."""


class SourceError(RuntimeError):
    """The source failed in a way the recording cannot continue from."""


class CaptureSource(ABC):
    Settings: ClassVar[type[CaptureSettings]] = CaptureSettings
    # True when grab(out, slot) renders that slot's own frame (a test pattern, file playback), so a
    # live stream can really seek and step it; live sources pause by not sending instead.
    random_access: ClassVar[bool] = False

    def __init__(self, settings: CaptureSettings) -> None:
        self.settings = settings
        self._format: FrameFormat | None = None

    @property
    def format(self) -> FrameFormat:
        if self._format is None:
            raise RuntimeError(f"{type(self).__name__} is not open; call open() first")
        return self._format

    @property
    def is_open(self) -> bool:
        return self._format is not None

    def open(self) -> FrameFormat:
        if self._format is not None:
            raise RuntimeError(f"{type(self).__name__} is already open")
        self._format = self._open()
        return self._format

    def grab(self, out: np.ndarray, slot: int) -> int:
        """Fill `out` (shape `format.shape`, uint8) with the current frame.

        `slot` is the capture schedule index the frame is taken for. Returns the recording-clock
        time (`grimjobs.clock.now_ns`) at the moment of capture. Raises `SourceEnded` when there
        are no more frames, `SourceGap` when there is no frame for this slot but may be later.
        """
        if self._format is None:
            raise RuntimeError(f"{type(self).__name__} is not open; call open() first")
        return self._grab(out, slot)

    def close(self) -> None:
        if self._format is not None:
            self._close()
            self._format = None

    def stats(self) -> dict[str, Any]:
        """Source-specific counters for summary.json (duplicates, gaps, ...); JSON-ready values."""
        return {}

    @abstractmethod
    def _open(self) -> FrameFormat: ...

    @abstractmethod
    def _grab(self, out: np.ndarray, slot: int) -> int: ...

    def _close(self) -> None:  # noqa: B027 - most sources have nothing to release
        pass

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

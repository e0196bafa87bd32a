"""What every screen source shares: output fitting, stale-frame counting, a region setting."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from grimjobs.capture.base import CaptureSettings, CaptureSource
from grimjobs.capture.scale import Fitter, ScaleFilter
from grimjobs.capture.stale import DEFAULT_ROW_STEP, StaleDetector
from grimjobs.frames import FrameFormat
from grimjobs.settings import Settings


class Region(Settings):
    """A rectangle in pixels, relative to the monitor (or display) it is on."""

    left: int = Field(0, ge=0)
    top: int = Field(0, ge=0)
    width: int = Field(..., ge=2)
    height: int = Field(..., ge=2)


class ScreenSettings(CaptureSettings):
    scale_filter: ScaleFilter = Field(
        "fast_bilinear", description="swscale filter when the captured size differs from width x height"
    )
    duplicate_row_step: int = Field(
        DEFAULT_ROW_STEP, ge=1, le=64, description="compare every n-th row to detect stale frames"
    )


class ScreenSource(CaptureSource):
    """A source that captures packed pixels of some size and fits them into the output size."""

    Settings: ClassVar[type[CaptureSettings]] = ScreenSettings
    settings: ScreenSettings
    pixel_format = "bgra"  # what X11 (mss, x11grab as bgr0) and DXGI hand out

    def _output_format(self) -> FrameFormat:
        s = self.settings
        self.fitter = Fitter(s.width, s.height, self.pixel_format, s.scale_filter)
        self.stale = StaleDetector(s.duplicate_row_step)
        return FrameFormat(s.width, s.height, self.pixel_format)

    def _deliver(self, captured: np.ndarray, out: np.ndarray) -> None:
        """Count a repeat of the previous picture, then fit `captured` into `out`."""
        self.stale.check(captured)
        self.fitter.fit(captured, out)

    def stats(self) -> dict[str, Any]:
        if not hasattr(self, "stale"):
            return {}
        stats: dict[str, Any] = dict(self.stale.stats())
        stats["resizes"] = self.fitter.resizes
        if self.fitter.source_size is not None:
            width, height = self.fitter.source_size
            stats["captured_size"] = f"{width}x{height}"
        return stats

"""A deterministic animated test pattern as a capture source (no display needed)."""

from __future__ import annotations

from typing import Self

import numpy as np
from pydantic import Field, model_validator

from grimjobs.capture.base import CaptureSettings, CaptureSource
from grimjobs.capture.pattern import PatternRenderer, min_size
from grimjobs.clock import now_ns
from grimjobs.frames import FrameFormat


class SyntheticSettings(CaptureSettings):
    seed: int = Field(0, ge=0, description="seed of the animation (the index band is the same)")

    @model_validator(mode="after")
    def _big_enough(self) -> Self:
        min_w, min_h = min_size()
        if self.width < min_w or self.height < min_h:
            raise ValueError(
                f"the test pattern needs at least {min_w}x{min_h}, got {self.width}x{self.height}"
            )
        return self


class SyntheticSource(CaptureSource):
    """Frame for schedule slot k shows pattern index k, so drops appear as gaps in decoded indices."""

    Settings = SyntheticSettings
    settings: SyntheticSettings
    random_access = True  # grab(out, slot) renders slot's frame: the stream job can seek/step it

    def _open(self) -> FrameFormat:
        s = self.settings
        self._renderer = PatternRenderer(s.width, s.height, channels=3, seed=s.seed)
        return FrameFormat(s.width, s.height, "rgb24")

    def _grab(self, out: np.ndarray, slot: int) -> int:
        t_ns = now_ns()  # the moment this frame "is on screen"
        self._renderer.render(slot, out)
        return t_ns

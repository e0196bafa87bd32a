"""AV1 with SVT-AV1 (libsvtav1)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from grimjobs.encoder.base import EncoderSettings
from grimjobs.encoder.pyav import PyAVEncoder
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat

# SVT-AV1 refuses pictures smaller than this (per side).
MIN_SIDE = 64


class SvtAv1Settings(EncoderSettings):
    crf: int = Field(35, ge=0, le=63, description="constant rate factor: 0 best .. 63 worst")
    preset: int = Field(10, ge=0, le=13, description="speed preset: 0 slowest/best .. 13 fastest")
    gop_seconds: float = Field(2.0, gt=0, le=2.0, description="seconds between keyframes, at most 2")
    pixel_format: Literal["yuv420p", "yuv420p10le"] = "yuv420p"


class SvtAv1Encoder(PyAVEncoder):
    Settings = SvtAv1Settings
    settings: SvtAv1Settings
    codec = "libsvtav1"

    def codec_options(self, fps: float) -> dict[str, str]:
        s = self.settings
        return {"crf": str(s.crf), "preset": str(s.preset)}

    def open(self, path: Path, fmt: FrameFormat, fps: float) -> None:
        if fmt.width < MIN_SIDE or fmt.height < MIN_SIDE:
            raise UserError(
                f"encoder=svtav1 needs a picture of at least {MIN_SIDE}x{MIN_SIDE}, the capture gives "
                f"{fmt.width}x{fmt.height}; raise capture.width/capture.height or choose another encoder="
            )
        # SVT-AV1 logs its whole configuration to stderr at level 3; 1 keeps errors only. A user's
        # own SVT_LOG wins.
        os.environ.setdefault("SVT_LOG", "1")
        super().open(path, fmt, fps)

"""H.264 with libx264."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from grimjobs.encoder.base import EncoderSettings
from grimjobs.encoder.pyav import PyAVEncoder

X264Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"
]


class X264Settings(EncoderSettings):
    crf: float = Field(23, ge=0, le=51, description="constant rate factor: 0 lossless .. 51 worst")
    preset: X264Preset = "veryfast"
    gop_seconds: float = Field(2.0, gt=0, le=2.0, description="seconds between keyframes, at most 2")
    pixel_format: Literal["yuv420p", "yuv422p", "yuv444p"] = "yuv420p"
    # 0 by default: fragments are cut by time (encoder.fragment_seconds), and with B-frames a cut
    # can fall between a P-frame and the B-frames shown before it, so a crash would leave holes
    # just before the file's last frame instead of a clean prefix of sync.csv.
    bframes: int = Field(0, ge=0, le=16, description="B-frames between references (0: none, crash-clean)")
    tune: (
        Literal["film", "animation", "grain", "stillimage", "psnr", "ssim", "fastdecode", "zerolatency"]
        | None
    ) = None


class X264Encoder(PyAVEncoder):
    Settings = X264Settings
    settings: X264Settings
    codec = "libx264"

    def codec_options(self, fps: float) -> dict[str, str]:
        s = self.settings
        options = {"crf": f"{s.crf:g}", "preset": s.preset, "bf": str(s.bframes)}
        if s.tune:
            options["tune"] = s.tune
        return options

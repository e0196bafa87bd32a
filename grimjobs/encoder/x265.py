"""H.265/HEVC with libx265."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from grimjobs.encoder.base import EncoderSettings
from grimjobs.encoder.pyav import PyAVEncoder
from grimjobs.encoder.x264 import X264Preset

# x265 kept x264's preset names and their order of speed.
X265Preset = X264Preset


class X265Settings(EncoderSettings):
    crf: float = Field(28, ge=0, le=51, description="constant rate factor: 0 best .. 51 worst")
    preset: X265Preset = "veryfast"
    gop_seconds: float = Field(2.0, gt=0, le=2.0, description="seconds between keyframes, at most 2")
    pixel_format: Literal["yuv420p", "yuv422p", "yuv444p"] = "yuv420p"
    # 0 by default: fragments are cut by time (encoder.fragment_seconds), and with B-frames a cut
    # can fall between a P-frame and the B-frames shown before it, so a crash would leave holes
    # just before the file's last frame instead of a clean prefix of sync.csv.
    bframes: int = Field(0, ge=0, le=16, description="B-frames between references (0: none, crash-clean)")
    tune: Literal["psnr", "ssim", "grain", "fastdecode", "zerolatency", "animation"] | None = None


class X265Encoder(PyAVEncoder):
    Settings = X265Settings
    settings: X265Settings
    codec = "libx265"

    def codec_options(self, fps: float) -> dict[str, str]:
        s = self.settings
        # libx265 prints a banner of [info] lines per stream; keep stderr for the status line.
        options = {
            "crf": f"{s.crf:g}",
            "preset": s.preset,
            "x265-params": f"log-level=error:bframes={s.bframes}",
        }
        if s.tune:
            options["tune"] = s.tune
        return options

"""FFV1: mathematically lossless intra-frame video, for reference recordings and quality ceilings.

FFV1 has no rate control (no crf, no preset): every frame is a keyframe and the pixels decode
exactly as given in `pixel_format`. `bgr0` keeps the captured RGB exactly (no chroma subsampling);
the yuv formats are lossless relative to the RGB->YUV conversion.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from grimjobs.encoder.base import EncoderSettings
from grimjobs.encoder.pyav import FRAGMENTED_MP4, PyAVEncoder


class Ffv1Settings(EncoderSettings):
    pixel_format: Literal["yuv420p", "yuv422p", "yuv444p", "bgr0"] = "yuv420p"
    # Every FFV1 frame is a keyframe, so a fragment per keyframe would be a fragment per frame;
    # fragments of this length keep the container overhead small and bound what a crash loses.
    fragment_seconds: float = Field(0.5, ge=0.05, le=2.0, description="seconds of video per MP4 fragment")
    slices: Literal[4, 6, 9, 12, 16, 24, 30] = Field(4, description="slices per frame (parallel coding)")
    slice_crc: bool = Field(True, description="a CRC per slice, so damage is detected when decoding")


class Ffv1Encoder(PyAVEncoder):
    Settings = Ffv1Settings
    settings: Ffv1Settings
    codec = "ffv1"

    def codec_options(self, fps: float) -> dict[str, str]:
        s = self.settings
        # level 3 is the version with slices and CRCs (multithreaded coding).
        return {"level": "3", "slices": str(s.slices), "slicecrc": "1" if s.slice_crc else "0"}

    @property
    def gop_seconds(self) -> float | None:
        return None  # intra only: every frame is a keyframe

    def container_options(self) -> dict[str, str]:
        # frag_keyframe would cut a fragment per frame; min_frag_duration holds fragments until
        # they are this long, so here they are cut by time alone.
        microseconds = round(self.settings.fragment_seconds * 1_000_000)
        return {**FRAGMENTED_MP4, "min_frag_duration": str(microseconds)}

"""H.264 on an NVIDIA GPU (h264_nvenc).

Written against FFmpeg's h264_nvenc options: presets p1 (fastest) .. p7 (best), constant-quality
VBR (`rc=vbr` with `cq`). Opening needs an NVIDIA GPU and driver; without one, `open()` fails with
one line before anything is recorded.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Literal

from pydantic import Field

from grimjobs.encoder.base import EncoderSettings
from grimjobs.encoder.pyav import PyAVEncoder
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat

NvencPreset = Literal["p1", "p2", "p3", "p4", "p5", "p6", "p7"]


class NvencSettings(EncoderSettings):
    crf: int = Field(23, ge=0, le=51, description="constant quality (NVENC cq): 0 = auto, 1 best .. 51 worst")
    preset: NvencPreset = "p4"
    tune: Literal["hq", "ll", "ull", "lossless"] = "hq"
    gop_seconds: float = Field(2.0, gt=0, le=2.0, description="seconds between keyframes, at most 2")
    pixel_format: Literal["yuv420p", "nv12", "yuv444p"] = "yuv420p"
    gpu: int = Field(0, ge=0, le=15, description="index of the NVIDIA GPU to encode on")


class NvencEncoder(PyAVEncoder):
    Settings = NvencSettings
    settings: NvencSettings
    codec = "h264_nvenc"

    def codec_options(self, fps: float) -> dict[str, str]:
        s = self.settings
        return {
            "preset": s.preset,
            "tune": s.tune,
            "rc": "vbr",
            "cq": str(s.crf),
            "gpu": str(s.gpu),
            # B-frames as in x264's defaults; the container's dts shift is handled by pts_offset.
            "bf": "2",
        }

    def open(self, path: Path, fmt: FrameFormat, fps: float) -> None:
        import av

        super().open(path, fmt, fps)
        # PyAV opens a codec lazily at the first frame; open it now, so a machine without an
        # NVIDIA GPU or driver fails before the recording starts instead of at its first frame.
        try:
            self._stream.codec_context.open()
        except av.error.FFmpegError as exc:
            with contextlib.suppress(Exception):
                self._container.close()
            path.unlink(missing_ok=True)
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UserError(
                f"encoder=nvenc: h264_nvenc cannot open GPU {self.settings.gpu} ({reason}); this needs an "
                "NVIDIA GPU with its driver; choose another encoder= (x264, x265, svtav1, ffv1)"
            ) from None

"""The video encoder interface: frames in (with their capture time), a playable file out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from grimjobs.frames import FrameFormat
from grimjobs.settings import Settings

# sync.csv pts are in this time base: fine enough for any frame rate, and what MPEG uses.
TIME_BASE = Fraction(1, 90_000)


def pts_from_ns(elapsed_ns: int) -> int:
    """Presentation timestamp (TIME_BASE units) for a frame captured `elapsed_ns` after the first."""
    return elapsed_ns * TIME_BASE.denominator // 1_000_000_000


# What a crash may lose, at most, is one fragment plus the encoder's delay (docs/ENCODING.md).
DEFAULT_FRAGMENT_SECONDS = 0.25


class EncoderSettings(Settings):
    queue_size: int = Field(8, ge=1, le=256, description="frames waiting for the encoder before drops")
    threads: int = Field(0, ge=0, le=64, description="encoder threads, 0 = codec default")
    fragment_seconds: float = Field(
        DEFAULT_FRAGMENT_SECONDS,
        ge=0.05,
        le=2.0,
        description="seconds of video per MP4 fragment: a crash loses at most this plus the encoder delay",
    )


@dataclass(frozen=True, slots=True)
class EncoderStats:
    frames: int
    bytes: int
    encode_seconds: float  # wall time spent inside the encoder calls
    codec: str
    options: dict[str, str]
    # Frames the encoder held before its first packet came out (lookahead, B-frames, frame
    # threads): video that is in no fragment yet, on top of the open fragment, when a crash hits.
    delay_frames: int = 0
    keyframes: int = 0  # keyframes placed by time (forced), see PyAVEncoder.encode

    def as_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "bytes": self.bytes,
            "encode_seconds": round(self.encode_seconds, 6),
            "codec": self.codec,
            "options": dict(self.options),
            "delay_frames": self.delay_frames,
            "forced_keyframes": self.keyframes,
        }


class VideoEncoder(ABC):
    Settings: ClassVar[type[EncoderSettings]] = EncoderSettings

    def __init__(self, settings: EncoderSettings) -> None:
        self.settings = settings

    @abstractmethod
    def open(self, path: Path, fmt: FrameFormat, fps: float) -> None:
        """Create the file; `fmt` is the format of the pixels `encode` will receive."""

    @abstractmethod
    def encode(self, pixels: np.ndarray, pts: int) -> None:
        """Encode one frame with presentation time `pts` (TIME_BASE units, strictly increasing)."""

    @abstractmethod
    def close(self) -> EncoderStats:
        """Flush delayed frames and finalize the file. Safe to call once after open."""

    @property
    @abstractmethod
    def pts_offset(self) -> int | None:
        """What the container adds to every pts we pass in (known once the first packet is out,
        None before). sync.csv stores `pts + pts_offset`: the pts a reader of the file sees."""

    @property
    @abstractmethod
    def bytes_written(self) -> int:
        """Size of the output so far (for the status line)."""

"""What flows from a capture source to its sinks: a frame format and a pooled frame reference."""

from __future__ import annotations

from dataclasses import dataclass

# PyAV pixel format name -> bytes per pixel, for the packed formats sources produce.
BYTES_PER_PIXEL: dict[str, int] = {"rgb24": 3, "bgr24": 3, "rgba": 4, "bgra": 4, "bgr0": 4, "rgb0": 4}


@dataclass(frozen=True, slots=True)
class FrameFormat:
    """Packed pixels of one frame as they leave a capture source."""

    width: int
    height: int
    pixel_format: str  # a PyAV/FFmpeg name: rgb24, bgra, rgba, ...

    @property
    def channels(self) -> int:
        return BYTES_PER_PIXEL[self.pixel_format]

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

    @property
    def nbytes(self) -> int:
        return self.width * self.height * self.channels

"""What flows from a capture source to its sinks: a frame format and pooled frame buffers.

A `FramePool` is a fixed set of buffers shared by the capture thread and the sinks. Buffers are
allocated once; the hot path only hands out and takes back references. A sink that must keep a
frame after it returns (a live stream sending it later) retains it and releases it when done, so
no frame is copied to outlive the encoder.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

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


class FrameRef:
    """One pooled buffer with the capture facts of the frame it holds."""

    __slots__ = ("_pool", "_refs", "index", "pixels", "t_ns")

    def __init__(self, pool: FramePool, pixels: np.ndarray) -> None:
        self._pool = pool
        self._refs = 0
        self.pixels = pixels
        self.index = -1  # position in the video (sync.csv frame_index), set when encoded
        self.t_ns = 0  # recording-clock time at the moment of capture

    def retain(self) -> None:
        with self._pool._lock:
            self._refs += 1

    def release(self) -> None:
        with self._pool._lock:
            self._refs -= 1
            if self._refs == 0:
                self._pool._free.append(self)
                self._pool._lock.notify()
            elif self._refs < 0:
                raise RuntimeError("FrameRef released more often than retained")


class FramePool:
    def __init__(self, fmt: FrameFormat, size: int) -> None:
        if size < 2:
            raise ValueError("a frame pool needs at least 2 buffers")
        self.format = fmt
        self._lock = threading.Condition()
        self._all = [FrameRef(self, np.zeros(fmt.shape, dtype=np.uint8)) for _ in range(size)]
        self._free: deque[FrameRef] = deque(self._all)

    def acquire(self, timeout_s: float = 0.0) -> FrameRef | None:
        """A free buffer with one reference, or None when every buffer stayed in use for
        `timeout_s` (for a paced capture, a drop)."""
        with self._lock:
            if not self._free and (
                timeout_s <= 0 or not self._lock.wait_for(lambda: bool(self._free), timeout_s)
            ):
                return None
            ref = self._free.popleft()
            ref._refs = 1
            return ref

    @property
    def size(self) -> int:
        return len(self._all)

    @property
    def in_use(self) -> int:
        with self._lock:
            return len(self._all) - len(self._free)

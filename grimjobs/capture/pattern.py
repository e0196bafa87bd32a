"""The synthetic test pattern: an animated picture that carries its own frame index.

Pure numpy. The index is drawn as a band of large black/white blocks across the top of the frame
(24 index bits then an 8-bit check), big enough to survive lossy encoding, so a test can decode a
video and prove which source frame each video frame is. Below the band, a seeded animation (a
scrolling gradient and a moving square) gives the encoder real motion to work on.
"""

from __future__ import annotations

import numpy as np

INDEX_BITS = 24
CHECK_BITS = 8
BLOCKS = INDEX_BITS + CHECK_BITS
MIN_BLOCK = 4
_LOW, _HIGH = 16, 235  # video-range black and white: no clipping after yuv conversion


def _check(index: int) -> int:
    """An 8-bit check over the index bytes, so a misread band is rejected rather than misread."""
    b0, b1, b2 = index & 0xFF, (index >> 8) & 0xFF, (index >> 16) & 0xFF
    return (b0 * 7 + b1 * 13 + b2 * 29 + 0x5A) & 0xFF


def block_size(width: int, height: int) -> int:
    return max(MIN_BLOCK, min(width // BLOCKS, height // 8))


def min_size() -> tuple[int, int]:
    return BLOCKS * MIN_BLOCK, 8 * MIN_BLOCK


class PatternRenderer:
    """Renders frame `index` into a caller's buffer with no per-frame allocation."""

    def __init__(self, width: int, height: int, channels: int = 3, seed: int = 0) -> None:
        min_w, min_h = min_size()
        if width < min_w or height < min_h:
            raise ValueError(f"the test pattern needs at least {min_w}x{min_h} pixels")
        self.width, self.height, self.channels = width, height, channels
        self.block = block_size(width, height)
        rng = np.random.default_rng(seed)
        # A horizontal gradient twice as wide as the frame; frame k shows a window into it, so the
        # background scrolls without being recomputed.
        period = width
        x = np.arange(width + period, dtype=np.float64)
        phase = rng.uniform(0, 2 * np.pi, size=channels)
        wave = 0.5 + 0.5 * np.sin(2 * np.pi * x[:, None] / period + phase[None, :])
        rows = np.linspace(0.6, 1.0, height, dtype=np.float64)[:, None, None]
        self._background = (40 + 160 * rows * wave[None, :, :]).astype(np.uint8)
        self._period = period
        self._speed = int(rng.integers(3, 9))
        self._square = max(8, height // 6)
        self._square_color = rng.integers(0, 256, size=channels, dtype=np.uint8)
        self._bits = np.zeros(BLOCKS, dtype=bool)

    def render(self, index: int, out: np.ndarray) -> None:
        h, w = self.height, self.width
        offset = (index * self._speed) % self._period
        np.copyto(out, self._background[:, offset : offset + w, :])
        # A square bouncing diagonally: real motion for the encoder's motion search.
        size = self._square
        top = self.block * 2
        span_x, span_y = max(1, w - size), max(1, h - size - top)
        px = (index * 7) % (2 * span_x)
        py = (index * 5) % (2 * span_y)
        px = px if px < span_x else 2 * span_x - px
        py = top + (py if py < span_y else 2 * span_y - py)
        out[py : py + size, px : px + size, :] = self._square_color
        self._draw_index(index, out)

    def _draw_index(self, index: int, out: np.ndarray) -> None:
        value = (index & ((1 << INDEX_BITS) - 1)) | (_check(index & 0xFFFFFF) << INDEX_BITS)
        b = self.block
        band = out[:b, : b * BLOCKS, :]
        blocks = band.reshape(b, BLOCKS, b, self.channels)
        for bit in range(BLOCKS):
            blocks[:, bit, :, :] = _HIGH if (value >> bit) & 1 else _LOW
        out[b : 2 * b, :, :] = _LOW  # a quiet row under the band keeps ringing away from it


def decode_index(image: np.ndarray) -> int | None:
    """The frame index drawn in `image` (H x W x C, any channel order), or None if unreadable."""
    h, w = image.shape[:2]
    b = block_size(w, h)
    lo, hi = b // 4, b - b // 4
    gray = (
        image[lo:hi, : b * BLOCKS].astype(np.float32).mean(axis=-1)
        if image.ndim == 3
        else (image[lo:hi, : b * BLOCKS].astype(np.float32))
    )
    columns = gray.reshape(hi - lo, BLOCKS, b)[:, :, lo:hi].mean(axis=(0, 2))
    # A drawn band is clearly black or clearly white even after lossy coding; anything in between
    # is not our band (noise, a different picture), however its bits would read.
    if np.any((columns > _LOW + 50) & (columns < _HIGH - 50)):
        return None
    bits = columns > (_LOW + _HIGH) / 2
    value = int(np.dot(bits.astype(np.int64), 1 << np.arange(BLOCKS, dtype=np.int64)))
    index = value & ((1 << INDEX_BITS) - 1)
    if (value >> INDEX_BITS) != _check(index):
        return None
    return index

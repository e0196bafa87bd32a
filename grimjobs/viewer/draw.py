"""Drawing on an RGB uint8 numpy image (H x W x 3): rectangles, lines, discs, text, scaling.

Pure numpy, no window or font library: the same pixels come out headless, under Xvfb and on a
desktop. Every primitive clips to the image, so callers can draw partly off-canvas.
"""

from __future__ import annotations

import base64
import itertools
import zlib
from functools import cache

import numpy as np

from grimjobs.viewer import font_data

Color = tuple[int, int, int]

CELL_W = font_data.CELL_WIDTH
CELL_H = font_data.CELL_HEIGHT
LINE_H = CELL_H + 1


@cache
def _glyphs() -> np.ndarray:
    """[glyph, row, column] coverage in 0..1 as float32 (decoded once)."""
    raw = zlib.decompress(base64.b64decode("".join(font_data.GLYPHS_ZLIB_B64)))
    count = font_data.LAST - font_data.FIRST + 1
    glyphs = np.frombuffer(raw, dtype=np.uint8).reshape(count, CELL_H, CELL_W)
    return glyphs.astype(np.float32) / 255.0


def text_width(text: str, scale: int = 1) -> int:
    return len(text) * CELL_W * scale


def draw_text(image: np.ndarray, x: int, y: int, text: str, color: Color, scale: int = 1) -> int:
    """Draw `text` with its top-left at (x, y); returns the x after the last character.

    Characters outside printable ASCII are drawn as '?'. `scale` repeats pixels (2 = double size).
    """
    if not text:
        return x
    glyphs = _glyphs()
    codes = np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8).astype(np.int64)
    codes = np.where((codes < font_data.FIRST) | (codes > font_data.LAST), ord("?"), codes) - font_data.FIRST
    # One strip for the whole string: [rows, chars * cell width] coverage.
    strip = glyphs[codes].transpose(1, 0, 2).reshape(CELL_H, len(codes) * CELL_W)
    if scale > 1:
        strip = strip.repeat(scale, axis=0).repeat(scale, axis=1)
    _blend_mask(image, x, y, strip, color)
    return x + strip.shape[1]


def _blend_mask(image: np.ndarray, x: int, y: int, mask: np.ndarray, color: Color) -> None:
    """Alpha-blend `color` into image through `mask` (0..1 coverage) placed at (x, y), clipped."""
    h, w = image.shape[:2]
    mh, mw = mask.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + mw, w), min(y + mh, h)
    if x0 >= x1 or y0 >= y1:
        return
    alpha = mask[y0 - y : y1 - y, x0 - x : x1 - x, None]
    region = image[y0:y1, x0:x1]
    blended = region * (1.0 - alpha) + np.asarray(color, dtype=np.float32) * alpha
    region[...] = blended.astype(np.uint8)


def fill_rect(image: np.ndarray, x: int, y: int, w: int, h: int, color: Color, alpha: float = 1.0) -> None:
    ih, iw = image.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, iw), min(y + h, ih)
    if x0 >= x1 or y0 >= y1:
        return
    region = image[y0:y1, x0:x1]
    if alpha >= 1.0:
        region[...] = color
    else:
        region[...] = (region * (1.0 - alpha) + np.asarray(color, dtype=np.float32) * alpha).astype(np.uint8)


def rect_outline(image: np.ndarray, x: int, y: int, w: int, h: int, color: Color, thickness: int = 1) -> None:
    fill_rect(image, x, y, w, thickness, color)
    fill_rect(image, x, y + h - thickness, w, thickness, color)
    fill_rect(image, x, y, thickness, h, color)
    fill_rect(image, x + w - thickness, y, thickness, h, color)


def fill_circle(image: np.ndarray, cx: float, cy: float, radius: float, color: Color) -> None:
    ih, iw = image.shape[:2]
    x0, x1 = max(int(cx - radius), 0), min(int(cx + radius) + 2, iw)
    y0, y1 = max(int(cy - radius), 0), min(int(cy + radius) + 2, ih)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.ogrid[y0:y1, x0:x1]
    inside = (xs - cx) ** 2 + (ys - cy) ** 2 <= radius * radius
    image[y0:y1, x0:x1][inside] = color


def circle_outline(
    image: np.ndarray, cx: float, cy: float, radius: float, color: Color, thickness: float = 1.5
) -> None:
    ih, iw = image.shape[:2]
    r_out = radius + thickness / 2
    x0, x1 = max(int(cx - r_out), 0), min(int(cx + r_out) + 2, iw)
    y0, y1 = max(int(cy - r_out), 0), min(int(cy + r_out) + 2, ih)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.ogrid[y0:y1, x0:x1]
    distance = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)
    ring = np.abs(distance - radius) <= thickness / 2
    image[y0:y1, x0:x1][ring] = color


def draw_line(
    image: np.ndarray, x0: float, y0: float, x1: float, y1: float, color: Color, thickness: int = 1
) -> None:
    """A line sampled at every pixel step along its longer axis, `thickness` pixels wide."""
    steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    xs = np.rint(np.linspace(x0, x1, steps)).astype(np.int64)
    ys = np.rint(np.linspace(y0, y1, steps)).astype(np.int64)
    draw_points(image, xs, ys, color, thickness)


def draw_points(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, color: Color, thickness: int = 1) -> None:
    h, w = image.shape[:2]
    half = thickness // 2
    for dy in range(-half, thickness - half):
        for dx in range(-half, thickness - half):
            px, py = xs + dx, ys + dy
            keep = (px >= 0) & (px < w) & (py >= 0) & (py < h)
            image[py[keep], px[keep]] = color


def polyline(image: np.ndarray, points: np.ndarray, color: Color, thickness: int = 1) -> None:
    """Connect consecutive (x, y) rows of `points` (N x 2 floats)."""
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        draw_line(image, float(ax), float(ay), float(bx), float(by), color, thickness)


class Scaler:
    """Nearest-neighbour scaling of frames of one size into a box, keeping the aspect ratio.

    The index arrays are computed once per (source size, box) pair, so scaling a frame is one
    fancy-indexing gather with no per-frame arithmetic.
    """

    def __init__(self) -> None:
        self._key: tuple[int, int, int, int] | None = None
        self._rows = np.zeros(0, dtype=np.int64)
        self._cols = np.zeros(0, dtype=np.int64)

    def fit(self, src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
        """The scaled size of a src_w x src_h frame inside box_w x box_h."""
        if src_w <= 0 or src_h <= 0:
            return 0, 0
        factor = min(box_w / src_w, box_h / src_h)
        return max(1, int(src_w * factor)), max(1, int(src_h * factor))

    def scale(self, frame: np.ndarray, box_w: int, box_h: int) -> np.ndarray:
        src_h, src_w = frame.shape[:2]
        key = (src_w, src_h, box_w, box_h)
        if key != self._key:
            out_w, out_h = self.fit(src_w, src_h, box_w, box_h)
            self._rows = (np.arange(out_h) * src_h // out_h).astype(np.int64)
            self._cols = (np.arange(out_w) * src_w // out_w).astype(np.int64)
            self._key = key
        return frame[self._rows[:, None], self._cols[None, :], :3]

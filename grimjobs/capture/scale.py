"""Fitting captured pixels into the recording's fixed output size.

A capture region rarely has the output's size (a 1920x1080 monitor recorded at 1280x720, a window
the user resizes mid-recording, a video file), so every source hands its picture to a `Fitter`:
the picture is scaled to the largest size that fits the output with its aspect ratio kept, and
centered between black bars (letterbox). Equal sizes are a single copy into the pooled buffer;
other sizes go through swscale (PyAV's reformatter) reading the captured buffer in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

ScaleFilter = Literal["fast_bilinear", "bilinear", "bicubic", "area", "point"]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a `src_w` x `src_h` picture lands inside the output: offset and scaled size."""

    x: int
    y: int
    width: int
    height: int


def letterbox(src_w: int, src_h: int, out_w: int, out_h: int) -> Placement:
    """The largest even-sized rectangle with the source's aspect ratio that fits the output,
    centered. Even sizes and offsets keep yuv420p chroma sites aligned with the picture."""
    if src_w <= 0 or src_h <= 0:
        raise ValueError(f"source size must be positive, got {src_w}x{src_h}")
    # Compare src_w/src_h with out_w/out_h in integers to avoid float ties.
    if src_w * out_h >= src_h * out_w:  # wider than the output: full width, bars top and bottom
        width = out_w
        height = min(out_h, max(2, round(out_w * src_h / src_w / 2) * 2))
    else:  # taller: full height, bars left and right
        height = out_h
        width = min(out_w, max(2, round(out_h * src_w / src_h / 2) * 2))
    x = (out_w - width) // 2 // 2 * 2
    y = (out_h - height) // 2 // 2 * 2
    return Placement(x, y, width, height)


def inner(image: np.ndarray, place: Placement) -> np.ndarray:
    """The view of an output frame that holds the picture (without the bars)."""
    return image[place.y : place.y + place.height, place.x : place.x + place.width]


class Fitter:
    """Scales captured frames into output buffers. Keeps the last placement so a source whose
    size never changes computes nothing per frame; clears the bars on every frame because the
    pooled output buffers rotate and may hold an earlier, differently placed picture."""

    def __init__(
        self, out_w: int, out_h: int, pixel_format: str, scale_filter: ScaleFilter = "fast_bilinear"
    ) -> None:
        self.out_w, self.out_h = out_w, out_h
        self.pixel_format = pixel_format
        self.interpolation = scale_filter.upper()
        self._src_size: tuple[int, int] | None = None
        self.place = Placement(0, 0, out_w, out_h)
        self.resizes = 0  # how often the source size changed after the first frame
        self._reformatter: Any = None

    def placement(self, src_w: int, src_h: int) -> Placement:
        if self._src_size != (src_w, src_h):
            if self._src_size is not None:
                self.resizes += 1
            self._src_size = (src_w, src_h)
            self.place = letterbox(src_w, src_h, self.out_w, self.out_h)
        return self.place

    @property
    def source_size(self) -> tuple[int, int] | None:
        """(width, height) of the last picture fitted; None before the first."""
        return self._src_size

    def fit(self, src: np.ndarray, out: np.ndarray) -> None:
        """Write `src` (H x W x C in this fitter's pixel format) into `out` (the output shape)."""
        src_h, src_w = src.shape[:2]
        place = self.placement(src_w, src_h)
        self._clear_bars(out, place)
        if (src_w, src_h) == (place.width, place.height):
            np.copyto(inner(out, place), src)
            return
        self._scale_into(self._as_frame(src), out, place)

    def fit_frame(self, frame: Any, out: np.ndarray) -> None:
        """Write a decoded PyAV frame (any size and pixel format) into `out`, converted to this
        fitter's pixel format."""
        place = self.placement(frame.width, frame.height)
        self._clear_bars(out, place)
        self._scale_into(frame, out, place)

    def _scale_into(self, frame: Any, out: np.ndarray, place: Placement) -> None:
        if self._reformatter is None:
            from av.video.reformatter import VideoReformatter

            # One reformatter for the whole recording: it keeps its swscale context between frames
            # (VideoFrame.reformat would build a new one, filter tables and all, every frame).
            self._reformatter = VideoReformatter()
        scaled = self._reformatter.reformat(
            frame,
            width=place.width,
            height=place.height,
            format=self.pixel_format,
            interpolation=self.interpolation,
        )
        np.copyto(inner(out, place), plane_view(scaled, place.width, place.height, out.shape[2]))

    def _as_frame(self, src: np.ndarray) -> Any:
        import av

        if src.flags.c_contiguous:  # wrap the captured buffer itself, no copy
            return av.VideoFrame.from_numpy_buffer(src, format=self.pixel_format)
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(src), format=self.pixel_format)

    @staticmethod
    def _clear_bars(out: np.ndarray, place: Placement) -> None:
        # Compare sizes, not offsets: a bar of 2 rows (or columns) has offset 0 and sits on one side.
        if place.height < out.shape[0]:
            out[: place.y] = 0
            out[place.y + place.height :] = 0
        if place.width < out.shape[1]:
            out[place.y : place.y + place.height, : place.x] = 0
            out[place.y : place.y + place.height, place.x + place.width :] = 0


def plane_view(frame: Any, width: int, height: int, channels: int) -> np.ndarray:
    """A view (no copy) of a packed PyAV frame's pixels, skipping the rows' alignment padding."""
    plane = frame.planes[0]
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(height, plane.line_size)
    return rows[:, : width * channels].reshape(height, width, channels)

"""PSNR and SSIM of a frame against its reference through FFmpeg's filters, via PyAV's filter graph.

    distorted --------------------------> psnr -> ssim -> sink   (metadata: lavfi.psnr.*, lavfi.ssim.*)
    reference -> split --(0)------------>  ^       ^
                       \\--(1)--------------------- '

Both inputs must have the same size and pixel format: `compare_format` picks the format both are
converted to (the video's own format, so a lossless codec scores exactly identical).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from grimjobs.quality.metrics import FrameScore

# Packed RGB is not accepted by the psnr/ssim filters; the planar form holds the same samples.
_PLANAR_RGB = dict.fromkeys(("rgb24", "bgr24", "rgba", "bgra", "bgr0", "rgb0"), "gbrp")
_TIME_BASE = Fraction(1, 90_000)


def compare_format(video_format: str) -> str:
    """The pixel format frames of a video in `video_format` are compared in."""
    return _PLANAR_RGB.get(video_format, video_format)


def peak_value(pixel_format: str) -> float:
    """The largest sample value of a pixel format (255 for 8-bit, 1023 for 10-bit)."""
    import av

    bits = av.VideoFormat(pixel_format).components[0].bits
    return float((1 << bits) - 1)


class FrameComparer:
    """Scores pairs of frames; one filter graph for a whole video."""

    def __init__(self, width: int, height: int, pixel_format: str) -> None:
        import av
        from av.filter import Graph

        self.width, self.height, self.pixel_format = width, height, pixel_format
        graph = Graph()
        self._distorted = graph.add_buffer(
            width=width,
            height=height,
            format=av.VideoFormat(pixel_format),
            time_base=_TIME_BASE,
            name="distorted",
        )
        self._reference = graph.add_buffer(
            width=width,
            height=height,
            format=av.VideoFormat(pixel_format),
            time_base=_TIME_BASE,
            name="reference",
        )
        split = graph.add("split")
        psnr = graph.add("psnr")
        ssim = graph.add("ssim")
        self._sink = graph.add("buffersink")
        self._reference.link_to(split)
        self._distorted.link_to(psnr, 0, 0)
        split.link_to(psnr, 0, 1)
        psnr.link_to(ssim, 0, 0)
        split.link_to(ssim, 1, 1)
        ssim.link_to(self._sink)
        graph.configure()
        self._graph = graph
        self._next_pts = 0
        self._closed = False

    def _prepare(self, frame: Any) -> Any:
        if frame.format.name != self.pixel_format:
            frame = frame.reformat(format=self.pixel_format)
        if (frame.width, frame.height) != (self.width, self.height):
            raise ValueError(
                f"frame is {frame.width}x{frame.height}, the comparison is {self.width}x{self.height}"
            )
        return frame

    def push(self, distorted: Any, reference: Any) -> list[FrameScore]:
        """Compare one pair of `av.VideoFrame`s (any pixel format: converted as needed). Returns
        the scores the graph has ready (normally this pair's)."""
        distorted, reference = self._prepare(distorted), self._prepare(reference)
        distorted.pts = reference.pts = self._next_pts
        distorted.time_base = reference.time_base = _TIME_BASE
        self._next_pts += 1
        self._distorted.push(distorted)
        self._reference.push(reference)
        return self._drain()

    def finish(self) -> list[FrameScore]:
        """Flush the graph: the scores still held back."""
        if self._closed:
            return []
        self._closed = True
        self._distorted.push(None)
        self._reference.push(None)
        return self._drain()

    def _drain(self) -> list[FrameScore]:
        import av

        scores: list[FrameScore] = []
        while True:
            try:
                frame = self._sink.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return scores
            scores.append(FrameScore.from_metadata(dict(frame.metadata)))


def frame_from_pixels(pixels: Any, pixel_format: str) -> Any:
    """An `av.VideoFrame` over a packed numpy image (H x W x C uint8)."""
    import av

    return av.VideoFrame.from_ndarray(pixels, format=pixel_format)

"""The synthetic pattern's frame index survives real lossy encoding (PyAV libx264)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from grimjobs.capture.pattern import PatternRenderer, decode_index


@pytest.mark.parametrize(("width", "height", "crf"), [(1280, 720, 35), (320, 180, 30), (128, 96, 23)])
def test_index_survives_x264(tmp_path: Path, width: int, height: int, crf: int) -> None:
    path = tmp_path / "p.mp4"
    renderer = PatternRenderer(width, height, seed=3)
    frame = np.zeros((height, width, 3), np.uint8)
    indices = [0, 1, 2, 3, 50, 51, 999, 65_535, 1_000_000, 16_777_215]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30, options={"crf": str(crf), "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for pts, index in enumerate(indices):
            renderer.render(index, frame)
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts, video_frame.time_base = pts, Fraction(1, 30)
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))
    with av.open(str(path)) as container:
        decoded = [decode_index(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    assert decoded == indices


def test_a_frame_without_the_band_is_rejected_not_misread() -> None:
    rng = np.random.default_rng(0)
    misreads = 0
    for _ in range(200):
        noise = rng.integers(0, 256, size=(180, 320, 3), dtype=np.uint8)
        misreads += decode_index(noise) is not None
    assert misreads == 0
    assert decode_index(np.zeros((180, 320, 3), np.uint8)) is None


def test_render_is_deterministic_per_seed_and_animated() -> None:
    a, b = np.zeros((180, 320, 3), np.uint8), np.zeros((180, 320, 3), np.uint8)
    PatternRenderer(320, 180, seed=1).render(10, a)
    PatternRenderer(320, 180, seed=1).render(10, b)
    assert np.array_equal(a, b)
    PatternRenderer(320, 180, seed=1).render(11, b)
    assert not np.array_equal(a[40:], b[40:])  # the picture moves, not only the index band

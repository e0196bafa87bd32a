"""The fragmented-MP4 sample-table reader agrees with PyAV's demuxer packet for packet."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from grimjobs.validation.video import demux, fragment_samples, mp4_torn_at
from tests.validation.fixtures import cut_file


def encode_with_bframes(path: Path, frames: int = 75) -> None:
    """The recorder's own encoder (x264 veryfast) with B-frames turned on, on the synthetic pattern."""
    from grimjobs.capture.pattern import PatternRenderer, min_size
    from grimjobs.encoder.x264 import X264Encoder
    from grimjobs.frames import FrameFormat

    width, height = min_size()
    width, height = max(width, 160) // 2 * 2, max(height, 96) // 2 * 2
    encoder = X264Encoder(X264Encoder.Settings.model_validate({"bframes": 3}))
    encoder.open(path, FrameFormat(width, height, "rgb24"), 30.0)
    renderer = PatternRenderer(width, height)
    pixels = np.zeros((height, width, 3), np.uint8)
    for index in range(frames):
        renderer.render(index, pixels)
        encoder.encode(pixels, index * 3000)
    encoder.close()


def pyav_packets(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.array(
            [
                (p.pts, (p.pos or 0) + p.size, p.is_keyframe)
                for p in container.demux(container.streams.video[0])
                if p.size
            ],
            np.int64,
        )


def test_sample_tables_match_pyav_with_bframes(tmp_path: Path) -> None:
    path = tmp_path / "b.mp4"
    encode_with_bframes(path)
    samples = fragment_samples(path)
    assert samples is not None
    pts, ends, keys = samples
    reference = pyav_packets(path)
    assert (pts == reference[:, 0]).all() and (ends == reference[:, 1]).all()
    assert not (np.diff(pts) > 0).all()  # B-frames: decode order is not presentation order
    assert (keys == reference[:, 2].astype(bool)).all() and keys.sum() == 2 and mp4_torn_at(path) is None
    info = demux(path)
    assert info.packets == 75 and not info.error
    assert (np.diff(info.pts) == 3000).all()  # presentation order, every frame once


def test_cut_file_lists_only_whole_frames(tmp_path: Path) -> None:
    path = tmp_path / "b.mp4"
    encode_with_bframes(path)
    cut_file(path, 0.7)
    info = demux(path)
    assert info.error and "cut off" in info.error
    assert 0 < info.packets < 75
    whole = pyav_packets(path)
    whole = whole[whole[:, 1] < path.stat().st_size]
    assert set(info.pts.tolist()) <= set(whole[:, 0].tolist())

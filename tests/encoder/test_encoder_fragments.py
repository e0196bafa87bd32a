"""Crash-loss structure of capture.mp4: keyframes placed by time, fragments cut by time.

Frames go straight into the real encoders (PyAV/libx264, libx265, FFV1) with an irregular
schedule: steady frames, a run of dropped frames, a 5 s gap (a minimized window). Read back from
the file itself: every fragment is at most `fragment_seconds` long (the muxer wrote it so; load
cannot change it), keyframes are never more than `gop_seconds` apart in time (frame counting
would stretch them across the drops), and the validator's fragment parser agrees with PyAV on
which samples are keyframes.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from grimjobs.encoder.base import TIME_BASE
from grimjobs.encoder.ffv1 import Ffv1Encoder
from grimjobs.encoder.pyav import PyAVEncoder
from grimjobs.encoder.x264 import X264Encoder
from grimjobs.encoder.x265 import X265Encoder
from grimjobs.frames import FrameFormat
from grimjobs.validation.video import fragment_samples
from tests.encoder.mp4boxes import fragments

FPS = 30.0
TICKS = TIME_BASE.denominator  # pts ticks per second


def schedule() -> list[int]:
    """pts of the frames: 3 s steady, then every 3rd frame dropped for 3 s, a 5 s gap, 2 s steady."""
    period = TICKS / FPS
    slots = list(range(90))
    slots += [s for s in range(90, 180) if s % 3]
    slots += list(range(330, 390))
    return [round(s * period) for s in slots]


def encode(encoder: PyAVEncoder, path: Path) -> list[int]:
    fmt = FrameFormat(160, 96, "rgb24")
    encoder.open(path, fmt, FPS)
    # A textured picture panning sideways: motion the encoder predicts (fresh noise every frame
    # would make x264 cut a scene, an extra I frame, every few frames).
    base = np.random.default_rng(7).integers(0, 255, fmt.shape, np.uint8)
    pts = schedule()
    for step, value in enumerate(pts):
        encoder.encode(np.roll(base, 2 * step, axis=1), value)
    stats = encoder.close()
    assert stats.frames == len(pts)
    assert 0 <= stats.delay_frames <= len(pts)
    return pts


@pytest.mark.parametrize("encoder_type", [X264Encoder, X265Encoder, Ffv1Encoder])
def test_fragments_and_keyframes_by_time(tmp_path: Path, encoder_type: type[PyAVEncoder]) -> None:
    encoder = encoder_type(encoder_type.Settings.model_validate({}))
    path = tmp_path / "capture.mp4"
    pts = encode(encoder, path)
    fragment_ticks = round(encoder.settings.fragment_seconds * TICKS)

    parts, complete = fragments(path)
    assert complete, "a box runs past the end of a finalized file"
    assert sum(len(p) for p in parts) == len(pts)
    for durations in parts[:-1]:
        # The muxer closes a fragment once the next packet would make it longer than
        # frag_duration; a sample that spans the 5 s gap is one long sample, alone at most.
        assert sum(durations[:-1]) < fragment_ticks or len(durations) == 1, durations

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        keys_pyav = sorted(int(p.pts or 0) for p in packets if p.is_keyframe)
        file_pts = sorted(int(p.pts or 0) for p in packets)
        assert all(p.pts is not None for p in packets)
    assert len(file_pts) == len(pts)
    samples = fragment_samples(path)
    assert samples is not None
    sample_pts, _ends, sample_keys = samples
    assert sorted(sample_pts[sample_keys].tolist()) == keys_pyav

    if encoder.gop_seconds is None:
        assert len(keys_pyav) == len(pts)  # intra only
        return
    gop_ticks = round(encoder.gop_seconds * TICKS)
    # Every frame less than gop_seconds after the keyframe before it: the first frame at or past
    # the due time is a keyframe, however many frames were dropped (counting frames would have
    # stretched the interval by the drops). Across the 5 s gap the first frame after it is a key.
    shift = file_pts[0] - pts[0]
    keys = [k - shift for k in keys_pyav]
    assert keys[0] == pts[0]
    previous_key = np.asarray(keys)[np.searchsorted(keys, pts, side="right") - 1]
    since_key = np.asarray(pts) - previous_key
    assert since_key.max() < gop_ticks, since_key.max() / TICKS
    after_gap = pts[pts.index(round(330 * TICKS / FPS))]
    assert after_gap in keys

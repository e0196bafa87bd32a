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
    rng = np.random.default_rng(7)
    pts = schedule()
    for value in pts:
        encoder.encode(rng.integers(0, 255, fmt.shape, np.uint8), value)
    stats = encoder.close()
    assert stats.frames == len(pts)
    assert 0 <= stats.delay_frames <= len(pts)
    return pts


def fragments(path: Path) -> list[list[int]]:
    """Sample durations (TIME_BASE ticks) per moof, read from the trun boxes."""
    data = path.read_bytes()
    found: list[list[int]] = []
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        assert size >= 8, f"bad box at {offset}"
        if kind == b"moof":
            found.append(_durations(data, offset + 8, offset + size))
        offset += size
    assert offset == len(data), "a box runs past the end of a finalized file"
    return found


def _durations(data: bytes, start: int, end: int) -> list[int]:
    durations: list[int] = []
    default = 0
    offset = start
    while offset < end:
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        if kind == b"traf":
            inner = offset + 8
            while inner < offset + size:
                isize = int.from_bytes(data[inner : inner + 4], "big")
                ikind = data[inner + 4 : inner + 8]
                body = inner + 8
                flags = int.from_bytes(data[body + 1 : body + 4], "big")
                if ikind == b"tfhd":
                    cursor = body + 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
                    if flags & 0x08:
                        default = int.from_bytes(data[cursor : cursor + 4], "big")
                elif ikind == b"trun":
                    count = int.from_bytes(data[body + 4 : body + 8], "big")
                    cursor = body + 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
                    fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
                    for _ in range(count):
                        if 0x100 in fields:
                            durations.append(int.from_bytes(data[cursor : cursor + 4], "big"))
                        else:
                            durations.append(default)
                        cursor += 4 * len(fields)
                inner += isize
        offset += size
    return durations


@pytest.mark.parametrize("encoder_type", [X264Encoder, X265Encoder, Ffv1Encoder])
def test_fragments_and_keyframes_by_time(tmp_path: Path, encoder_type: type[PyAVEncoder]) -> None:
    encoder = encoder_type(encoder_type.Settings())
    path = tmp_path / "capture.mp4"
    pts = encode(encoder, path)
    fragment_ticks = round(encoder.settings.fragment_seconds * TICKS)

    parts = fragments(path)
    assert sum(len(p) for p in parts) == len(pts)
    for durations in parts[:-1]:
        # The muxer closes a fragment once the next packet would make it longer than
        # frag_duration; a sample that spans the 5 s gap is one long sample, alone at most.
        assert sum(durations[:-1]) < fragment_ticks or len(durations) == 1, durations

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        keys_pyav = sorted(p.pts for p in packets if p.is_keyframe)
        file_pts = sorted(p.pts for p in packets)
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

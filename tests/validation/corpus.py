"""Source videos for the frozen / black corpus: content that looks like real footage.

Each is a short lossless (FFV1) video the `file` capture source replays through the real record
path, so the recorded capture.mp4 is what the recorder's encoder makes of that content:
- moving: the whole picture changes every frame;
- sprite: a small sprite moving on a static, textured background (point-and-click footage);
- dark: a dark scene (luma well below mid-gray) with a dim moving object;
- frozen: moving content that holds one picture for `FROZEN_FRAMES` frames in the middle;
- black: black frames only.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

WIDTH, HEIGHT, FPS = 320, 180, 30
FRAMES = 60
FROZEN_FROM, FROZEN_FRAMES = 20, 24  # frames 20..43 repeat frame 20: a 0.8 s freeze at 0.67 s
KINDS = ("moving", "sprite", "dark", "frozen", "black")


def _background(seed: int, low: int, high: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    texture = rng.integers(low, high, (HEIGHT // 4, WIDTH // 4, 3), dtype=np.uint8)
    return np.repeat(np.repeat(texture, 4, axis=0), 4, axis=1)  # blocky, so the encoder keeps it still


def picture(kind: str, index: int) -> np.ndarray:
    if kind == "black":
        return np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    if kind == "frozen" and FROZEN_FROM <= index < FROZEN_FROM + FROZEN_FRAMES:
        index = FROZEN_FROM
    if kind in ("moving", "frozen"):
        y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
        shade = ((x * 2 + y + index * 9) % 256).astype(np.uint8)
        return np.dstack((shade, 255 - shade, (shade // 2 + 60).astype(np.uint8)))
    if kind == "sprite":
        out = _background(1, 60, 200)
        size, colour = 8, (250, 240, 40)
    elif kind == "dark":
        out = _background(2, 10, 38)
        size, colour = 16, (60, 50, 45)
    else:
        raise ValueError(kind)
    x0 = 10 + (index * 3) % (WIDTH - 20 - size)
    y0 = HEIGHT // 2
    out[y0 : y0 + size, x0 : x0 + size] = colour
    return out


def write_source(path: Path, kind: str) -> Path:
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("ffv1", rate=Fraction(FPS))
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv444p"
        for index in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(picture(kind, index), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path

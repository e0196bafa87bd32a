"""Test helpers: a generated session (real PyAV mp4 + the session writers), reading text back out
of a rendered image, and decoding the pattern index shown in the left pane."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grimjobs.capture.pattern import PatternRenderer, decode_index
from grimjobs.clock import now_ns
from grimjobs.session import ACTIONS, CAPTURE, SYNC
from grimjobs.session.actions import REASON_CONNECT, ActionsWriter, InputSnapshot
from grimjobs.session.sync import SyncWriter
from grimjobs.stream.engine import EnginePublisher
from grimjobs.stream.server import SharedFrame, StreamServer
from grimjobs.viewer import draw
from grimjobs.viewer.draw import CELL_H, CELL_W, _glyphs
from grimjobs.viewer.render import Renderer

WIDTH, HEIGHT, FRAMES = 320, 180, 30
PERIOD_NS = 33_333_333
GAP_AFTER = 14  # frames 0..14, a 1 s hole (a pause menu), then 15..29
GAP_NS = 1_000_000_000
T0 = 5_000_000_000
PRESS_FRAME, RELEASE_FRAME = 5, 20
LEFT_X = 0.75


@dataclass(frozen=True)
class GeneratedSession:
    path: Path
    times: list[int]


def frame_time(index: int) -> int:
    return T0 + index * PERIOD_NS + (GAP_NS if index > GAP_AFTER else 0)


def write_session(folder: Path) -> GeneratedSession:
    """30 pattern frames at 30 fps with a 1 s gap; A held + left stick right from frame 5 to 19."""
    import av

    folder.mkdir(parents=True, exist_ok=True)
    renderer = PatternRenderer(WIDTH, HEIGHT)
    pixels = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    container = av.open(str(folder / CAPTURE), mode="w", format="mp4")
    stream = container.add_stream("libx264", rate=30, options={"preset": "ultrafast", "crf": "18", "bf": "0"})
    stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    from fractions import Fraction

    stream.time_base = Fraction(1, 90000)
    sync = SyncWriter(folder / SYNC)
    times = []
    for index in range(FRAMES):
        renderer.render(index, pixels)
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        t = frame_time(index)
        frame.pts = (t - T0) * 90000 // 1_000_000_000
        frame.time_base = Fraction(1, 90000)
        container.mux(stream.encode(frame))
        sync.write(index, t, int(frame.pts))
        times.append(t)
    container.mux(stream.encode(None))
    container.close()
    sync.close()
    actions = ActionsWriter(folder / ACTIONS)
    actions.write(InputSnapshot(T0 - 1000, axes=[0.0] * 6, reason=REASON_CONNECT))
    actions.write(
        InputSnapshot(
            frame_time(PRESS_FRAME) - 5_000_000,
            axes=[LEFT_X, 0, 0, 0, 0, 0],
            pressed_buttons=[0],
            pressed_keys=[44],
        )
    )
    actions.write(InputSnapshot(frame_time(RELEASE_FRAME) - 5_000_000, axes=[0.0] * 6))
    actions.close()
    return GeneratedSession(folder, times)


def left_pane_index(
    image: np.ndarray, renderer: Renderer, width: int = WIDTH, height: int = HEIGHT
) -> int | None:
    """The pattern index of the frame shown in the left pane (scaled back to its source size)."""
    x, y, w, h = renderer.frame_rect(width, height)
    crop = image[y : y + h, x : x + w]
    rows = (np.arange(height) * h // height).astype(np.int64)
    cols = (np.arange(width) * w // width).astype(np.int64)
    return decode_index(crop[rows[:, None], cols[None, :]])


def read_text(
    image: np.ndarray, x: int, y: int, chars: int, color: draw.Color, background: draw.Color
) -> str:
    """OCR for our own monospace font: the best-matching glyph for each cell of a text line."""
    glyphs = _glyphs()  # [n, CELL_H, CELL_W] coverage
    bg = np.asarray(background, dtype=np.float32)
    fg = np.asarray(color, dtype=np.float32)
    templates = bg + glyphs[..., None] * (fg - bg)  # [n, h, w, 3]
    out = []
    for i in range(chars):
        cell = image[y : y + CELL_H, x + i * CELL_W : x + (i + 1) * CELL_W].astype(np.float32)
        if cell.shape[:2] != (CELL_H, CELL_W):
            break
        errors = np.abs(templates - cell[None]).sum(axis=(1, 2, 3))
        out.append(chr(32 + int(np.argmin(errors))))
    return "".join(out).rstrip()


def hud_line(image: np.ndarray, renderer: Renderer, row: int, color: draw.Color) -> str:
    from grimjobs.viewer.render import BACKGROUND, PAD

    top = renderer.pane_y + renderer.pane_h + PAD // 2
    return read_text(
        image, PAD, top + row * draw.LINE_H, (renderer.width - 2 * PAD) // CELL_W, color, BACKGROUND
    )


# -- live producers (the project's own GrimStream servers on loopback) -------------------------

W, H = 256, 144
POSITIONS = [(0.0, 0.0, 0.0), (0.5, 0.25, 0.0), (1.0, 1.0, 0.0), (1.5, 0.5, 0.0)]


@dataclass
class Producers:
    retail: StreamServer
    engine: EnginePublisher
    controls: list[tuple[str, str]] = field(default_factory=list)
    pattern: PatternRenderer = field(default_factory=lambda: PatternRenderer(W, H, channels=4))
    sent: int = 0

    def publish(
        self, count: int, period_s: float = 0.004, delivered: Callable[[int], bool] | None = None
    ) -> None:
        """Send `count` pattern frames. With `delivered(frame_id)`, wait for each one to arrive
        before the next (the server is latest-wins: a busy machine would otherwise drop some)."""
        for _ in range(count):
            pixels = np.full((H, W, 4), 255, dtype=np.uint8)
            self.pattern.render(self.sent, pixels)
            pixels[..., 3] = 255
            frame = SharedFrame(self.sent, now_ns(), pixels)
            frame.retain()
            self.retail.publish_frame(frame)
            frame.release()
            self.sent += 1
            if delivered is not None:
                wait_for(functools.partial(delivered, self.sent - 1))
            else:
                time.sleep(period_s)

    def serve(self, stop: threading.Event) -> None:
        """Until `stop`: once a viewer is connected to both, the states, then a frame every 30 ms."""
        while not stop.is_set():
            if self.retail.subscriber_count and self.engine.server.subscriber_count:
                if self.sent == 0:
                    time.sleep(0.2)  # let the viewer's viewer_ready reach the engine
                    self.states()
                self.publish(1, period_s=0.03)
            else:
                time.sleep(0.01)

    def states(self) -> None:
        for i, position in enumerate(POSITIONS):
            self.engine.state(
                frame=i,
                position=position,
                yaw=90.0,
                active_setup="mo_ddtws",
                active_hotspot="computer" if i == len(POSITIONS) - 1 else None,
                coverage={"hook.walk": i + 1},
                events=["actor.walk"] if i == 1 else [],
            )
        self.engine.mark("hook.computer.use")


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)

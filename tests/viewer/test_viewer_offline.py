"""Offline view of a generated session: the right frame, the input in effect, the gap, the HUD,
headless through `python -m grimjobs view` exactly as a user runs it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grimjobs.viewer.offline import VideoReader, load_session
from grimjobs.viewer.png import read_png
from grimjobs.viewer.render import PRESSED, RELEASED, STICK, TEXT, WARN, Renderer
from grimjobs.viewer.views import OfflineView
from tests.conftest import run_grimjobs
from tests.viewer.helpers import (
    FRAMES,
    GAP_AFTER,
    HEIGHT,
    LEFT_X,
    PRESS_FRAME,
    RELEASE_FRAME,
    WIDTH,
    GeneratedSession,
    hud_line,
    left_pane_index,
    write_session,
)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSession:
    return write_session(tmp_path_factory.mktemp("viewer") / "session")


def test_video_reader_random_access(session: GeneratedSession) -> None:
    from grimjobs.capture.pattern import decode_index

    video = VideoReader(session.path / "capture.mp4", cache_frames=4)
    try:
        assert len(video) == FRAMES
        for index in (0, 1, 2, 25, 3, 29, 28, 10, 10, 0):
            assert decode_index(video.frame(index)) == index
    finally:
        video.close()


def test_input_in_effect_is_never_a_later_one(session: GeneratedSession) -> None:
    data = load_session(session.path, 250_000_000, 4.0)
    assert data.frames == FRAMES and not data.warnings
    assert len(data.gaps) == 1 and data.gaps[0].end_ns == session.times[GAP_AFTER + 1]
    for index, t in enumerate(session.times):
        found = data.snapshot_at(t)
        assert found is not None
        _, snapshot = found
        assert snapshot.monotonic_ns <= t
        held = PRESS_FRAME <= index < RELEASE_FRAME
        assert (0 in snapshot.pressed_buttons) == held, index


def render_offline(session: GeneratedSession, frame: int, renderer: Renderer) -> np.ndarray:
    data = load_session(session.path, 250_000_000, 4.0)
    video = VideoReader(session.path / "capture.mp4")
    try:
        view = OfflineView(data, video, start_frame=frame)
        return renderer.render(view.scene()).copy()
    finally:
        video.close()


def test_pressed_button_and_stick_are_drawn_on_the_frame(session: GeneratedSession) -> None:
    renderer = Renderer()
    held = render_offline(session, PRESS_FRAME + 2, renderer)
    released = render_offline(session, RELEASE_FRAME + 1, renderer)
    assert left_pane_index(held, renderer) == PRESS_FRAME + 2
    assert left_pane_index(released, renderer) == RELEASE_FRAME + 1
    layout = renderer.gamepad_layout(WIDTH, HEIGHT)
    ax, ay = layout.button_center(0) or (0, 0)
    assert tuple(held[int(ay), int(ax)]) == PRESSED
    assert tuple(released[int(ay), int(ax)]) == RELEASED
    bx, by = layout.button_center(1) or (0, 0)  # B was never pressed
    assert tuple(held[int(by), int(bx)]) == RELEASED
    # the left stick dot sits at LEFT_X of the stick radius to the right of the centre
    cx, cy = layout.stick_center(right=False)
    dot = (round(cx + LEFT_X * layout.stick_radius), round(cy))
    assert tuple(held[dot[1], dot[0]]) == STICK
    assert tuple(released[dot[1], dot[0]]) != STICK
    assert tuple(released[int(cy), int(cx)]) == STICK
    assert "keys Space" in " ".join(
        hud for hud in [_right_pane_text(held, renderer, line) for line in range(4)]
    )


def _right_pane_text(image: np.ndarray, renderer: Renderer, line: int) -> str:
    from grimjobs.viewer.draw import LINE_H
    from grimjobs.viewer.render import PAD, PANE_BACKGROUND
    from tests.viewer.helpers import read_text

    x, y, _, _ = renderer.right_box()
    return read_text(image, x + PAD, y + PAD + LINE_H + line * LINE_H, 60, TEXT, PANE_BACKGROUND)


def test_headless_screenshot_through_the_cli(session: GeneratedSession, tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    start = GAP_AFTER - 1
    result = run_grimjobs(
        "view", f"path={session.path}", f"screenshot={out}", f"frame={start}", "frames=3",
        f"hydra.run.dir={tmp_path / 'run'}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    image = read_png(out)
    renderer = Renderer()
    assert image.shape == (720, 1280, 3)
    shown = start + 2  # frames=3 renders start, start+1, start+2: the first frame after the gap
    assert shown == GAP_AFTER + 1
    assert left_pane_index(image, renderer) == shown
    assert hud_line(image, renderer, 0, TEXT).startswith(f"session session  {FRAMES} frames")
    assert hud_line(image, renderer, 1, TEXT).startswith(f"frame {shown}/{FRAMES - 1}  t=+")
    assert "interval 1033.3 ms" in hud_line(image, renderer, 1, TEXT)
    # the hole before this frame is shown, not hidden
    warnings = " ".join(hud_line(image, renderer, row, WARN) for row in range(6))
    assert "GAP: 1033 ms without frames before this one" in warnings  # the whole interval
    # and on the scrubber, in red
    from grimjobs.viewer.render import GAP

    sx, sy, sw, sh = renderer.scrubber_box()
    bar = image[sy + sh - 4, sx : sx + sw]
    assert (bar == np.array(GAP, dtype=np.uint8)).all(axis=1).any()


def test_bad_path_is_one_line(tmp_path: Path) -> None:
    result = run_grimjobs("view", f"path={tmp_path / 'nope'}", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert "path=" in result.stderr and "Traceback" not in result.stderr
    bad = run_grimjobs("view", "screenshot=x.jpg", f"hydra.run.dir={tmp_path / 'run'}")
    assert bad.returncode == 2 and "screenshot" in bad.stderr and "Traceback" not in bad.stderr

"""The SDL2 window on a real X server: pixels reach it, and real X key presses drive the viewer."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from grimjobs.viewer.png import read_png
from grimjobs.viewer.render import Renderer
from tests.conftest import ROOT, XServer, require_tool
from tests.viewer.helpers import (
    HEIGHT,
    WIDTH,
    GeneratedSession,
    Producers,
    hud_line,
    left_pane_index,
    write_session,
)
from tests.viewer.helpers import H as LIVE_H
from tests.viewer.helpers import W as LIVE_W

pytestmark = pytest.mark.xvfb


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSession:
    return write_session(tmp_path_factory.mktemp("viewer_window") / "session")


def test_window_shows_the_rendered_image(xvfb: XServer) -> None:
    from grimjobs.viewer.window import Window

    window = Window(640, 360, "grimjobs view test")
    window.open()
    try:
        image = np.zeros((360, 640, 3), dtype=np.uint8)
        image[:, :320] = (200, 30, 40)
        image[100:120, 400:500] = (10, 220, 90)
        window.present(image)
        shown = window.read_back()
        assert np.array_equal(shown, image)
        assert [e for e in window.inputs(timeout_ms=10) if e.kind == "key"] == []  # no key was pressed
    finally:
        window.close()


def _find_window(env: dict[str, str], name: str, process: subprocess.Popen[str]) -> str:
    """The X window id of the viewer, from the window tree (xdotool's name search does not see
    the UTF-8 title SDL sets)."""
    xwininfo = require_tool("xwininfo")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the viewer exited early: {process.communicate()}")
        tree = subprocess.run([xwininfo, "-root", "-tree"], env=env, capture_output=True, text=True).stdout
        for line in tree.splitlines():
            if f'"{name}"' in line:
                return line.split()[0]
        time.sleep(0.1)
    raise AssertionError("the viewer window did not appear")


def _open_offline_viewer(
    env: dict[str, str], session: GeneratedSession, out: Path, tmp_path: Path
) -> subprocess.Popen[str]:
    """`grimjobs view path=<session>` in a window, paused, writing its last image to `out` on quit."""
    return subprocess.Popen(
        [sys.executable, "-m", "grimjobs", "view", f"path={session.path}", "paused=true", "window=true",
         f"screenshot={out}", "max_seconds=60", f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _quit(xdotool: str, env: dict[str, str], process: subprocess.Popen[str]) -> None:
    """Press q in the focused viewer window; it must exit cleanly (and write its screenshot)."""
    subprocess.run([xdotool, "key", "q"], env=env, check=True, timeout=10)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr


def _reap(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.communicate()


def test_keys_step_the_offline_view_in_a_window(
    xvfb: XServer, session: GeneratedSession, tmp_path: Path
) -> None:
    xdotool = require_tool("xdotool")
    env = xvfb.env()
    out = tmp_path / "window.png"
    process = _open_offline_viewer(env, session, out, tmp_path)
    try:
        window = _find_window(env, "grimjobs view", process)
        subprocess.run([xdotool, "windowfocus", "--sync", window], env=env, check=True, timeout=10)
        # real X key events through the X server: four steps forward, one back, then quit
        for key in ("Right", "Right", "Right", "Right", "Left"):
            subprocess.run([xdotool, "key", "--delay", "30", key], env=env, check=True, timeout=10)
        time.sleep(0.3)
        _quit(xdotool, env, process)
    finally:
        _reap(process)
    image = read_png(out)
    renderer = Renderer()
    assert left_pane_index(image, renderer, WIDTH, HEIGHT) == 3
    assert hud_line(image, renderer, 1, (220, 224, 230)).startswith("frame 3/29")


def test_scrubber_click_seeks(xvfb: XServer, session: GeneratedSession, tmp_path: Path) -> None:
    """A real mouse click at the end of the scrubber bar shows the last frame."""
    xdotool = require_tool("xdotool")
    env = xvfb.env()
    out = tmp_path / "click.png"
    process = _open_offline_viewer(env, session, out, tmp_path)
    renderer = Renderer()
    try:
        window = _find_window(env, "grimjobs view", process)
        subprocess.run([xdotool, "windowfocus", "--sync", window], env=env, check=True, timeout=10)
        bx, by, bw, bh = renderer.scrubber_box()
        x, y = bx + bw - 2, by + bh - 4
        subprocess.run(
            [xdotool, "mousemove", "--sync", "--window", window, str(x), str(y)],
            env=env,
            check=True,
            timeout=10,
        )
        subprocess.run([xdotool, "click", "1"], env=env, check=True, timeout=10)
        time.sleep(0.3)
        _quit(xdotool, env, process)
    finally:
        _reap(process)
    assert left_pane_index(read_png(out), renderer, WIDTH, HEIGHT) == 29


def test_live_view_in_a_window(xvfb: XServer, producers: Producers, tmp_path: Path) -> None:
    """The live view runs in a real window fed by real producers; `q` writes its last image."""
    import threading

    xdotool = require_tool("xdotool")
    env = xvfb.env()
    out = tmp_path / "live_window.png"
    process = subprocess.Popen(
        [sys.executable, "-m", "grimjobs", "view", f"retail={producers.retail.url}",
         f"engine={producers.engine.url}", "window=true", f"screenshot={out}", "max_seconds=60",
         f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=producers.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        window = _find_window(env, "grimjobs view", process)
        deadline = time.monotonic() + 20
        while producers.sent < 15 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join()
        time.sleep(0.3)  # let the window show the last frame
        subprocess.run([xdotool, "windowfocus", "--sync", window], env=env, check=True, timeout=10)
        _quit(xdotool, env, process)
    finally:
        stop.set()
        _reap(process)
    image = read_png(out)
    renderer = Renderer()
    assert left_pane_index(image, renderer, LIVE_W, LIVE_H) == producers.sent - 1
    assert hud_line(image, renderer, 0, (220, 224, 230)).startswith("retail connected  ")
    assert hud_line(image, renderer, 1, (220, 224, 230)).startswith("engine connected  ")

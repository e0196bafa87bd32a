"""Live view from real GrimStream producers on loopback (the project's StreamServer for retail
frames, EnginePublisher for engine state): both panes and the HUD checked, CONTROL on pause/step,
reconnect on `r`, and the headless CLI screenshot."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from grimjobs.clock import now_ns
from grimjobs.viewer.draw import LINE_H
from grimjobs.viewer.feeds import Feeds
from grimjobs.viewer.png import read_png
from grimjobs.viewer.render import MANNY, PAD, PANE_BACKGROUND, TEXT, Renderer
from grimjobs.viewer.views import LiveSettings, LiveView
from tests.conftest import run_grimjobs
from tests.viewer.helpers import POSITIONS, H, Producers, W, hud_line, left_pane_index, read_text, wait_for


def test_live_view_panes_hud_controls_and_reconnect(producers: Producers) -> None:
    view = LiveView(LiveSettings(), {"retail": producers.retail.url, "engine": producers.engine.url})
    feeds = Feeds(view, reconnect_delay_s=0.05)
    feeds.start()

    def delivered(frame_id: int) -> bool:
        return view.aligner.retail.last_id == frame_id

    try:
        wait_for(
            lambda: producers.retail.subscriber_count == 1 and producers.engine.server.subscriber_count == 1
        )
        wait_for(lambda: ("engine", "viewer_ready") in producers.controls)
        producers.states()
        producers.publish(20, delivered=delivered)
        wait_for(
            lambda: view.aligner.retail.last_id == producers.sent - 1 and view.aligner.engine.received == 4
        )
        renderer = Renderer()
        image = renderer.render(view.scene(now_ns())).copy()

        # left pane: the newest retail frame, decoded from its pixels
        assert left_pane_index(image, renderer, W, H) == producers.sent - 1
        # right pane: Manny where the newest state puts him, and its text
        bounds = view.scene(now_ns()).sim
        assert bounds is not None and bounds.bounds is not None
        here = renderer.world_to_map(np.array([POSITIONS[-1][:2]]), bounds.bounds)[0]
        assert tuple(image[int(here[1]), int(here[0])]) == MANNY
        mx, my, mw, _ = renderer.map_box()
        column = [
            read_text(image, mx + mw + 2 * PAD, my + row * LINE_H, 30, TEXT, PANE_BACKGROUND)
            for row in range(8)
        ]
        assert column[0] == "setup   mo_ddtws", column
        assert "computer" in read_text(image, mx + mw + 2 * PAD, my + LINE_H, 30, MANNY, PANE_BACKGROUND)
        assert any(line.strip().startswith("4 hook.walk") for line in column), column
        # HUD: both streams connected, with numbers
        retail_line = hud_line(image, renderer, 0, TEXT)
        engine_line = hud_line(image, renderer, 1, TEXT)
        assert retail_line.startswith("retail connected  "), retail_line
        assert "(nominal 30)" in retail_line and f"recv {producers.sent}" in retail_line
        assert "dropped 0" in retail_line, retail_line
        assert engine_line.startswith("engine connected  ") and "recv 4" in engine_line, engine_line
        assert hud_line(image, renderer, 2, TEXT).startswith("retail-engine clock offset ")

        # space pauses: CONTROL pause reaches both producers; right steps; space resumes
        view.key("space", now_ns())
        held = view.displayed
        assert held is not None and held.frame_id == producers.sent - 1
        wait_for(
            lambda: ("retail", "pause") in producers.controls and ("engine", "pause") in producers.controls
        )
        producers.publish(3, delivered=delivered)
        wait_for(lambda: view.aligner.retail.last_id == producers.sent - 1)
        paused = renderer.render(view.scene(now_ns())).copy()
        assert left_pane_index(paused, renderer, W, H) == held.frame_id  # frozen while paused
        view.key("left", now_ns())
        stepped = renderer.render(view.scene(now_ns())).copy()
        assert left_pane_index(stepped, renderer, W, H) == held.frame_id - 1
        wait_for(lambda: ("retail", "seek") in producers.controls)
        view.key("right", now_ns())
        view.key("right", now_ns())
        stepped = renderer.render(view.scene(now_ns())).copy()
        assert left_pane_index(stepped, renderer, W, H) == held.frame_id + 1
        view.key("space", now_ns())
        wait_for(lambda: ("retail", "resume") in producers.controls)

        # r: both feeds drop their connection and reconnect by themselves (a new epoch)
        view.key("r", now_ns())
        feeds.service()
        wait_for(lambda: view.aligner.retail.epochs == 2 and view.aligner.engine.epochs == 2)
        wait_for(lambda: producers.retail.subscriber_count == 1)
        producers.publish(2)
        wait_for(lambda: view.aligner.retail.last_id == producers.sent - 1)
        assert any(g.kind == "reconnect" for g in view.aligner.retail.gaps)
        final = renderer.render(view.scene(now_ns())).copy()
        assert left_pane_index(final, renderer, W, H) == producers.sent - 1
    finally:
        feeds.stop()


def test_live_view_survives_a_producer_that_is_not_there(tmp_path: Path) -> None:
    """Nothing listening: the view keeps retrying and says so in the pane and the HUD."""
    url = f"unix://{tmp_path / 'nobody.sock'}"
    view = LiveView(LiveSettings(), {"retail": url, "engine": None})
    feeds = Feeds(view, reconnect_delay_s=0.05)
    feeds.start()
    try:
        wait_for(lambda: view.status["retail"].startswith("disconnected"))
        renderer = Renderer()
        image = renderer.render(view.scene(now_ns())).copy()
        assert hud_line(image, renderer, 0, TEXT).startswith("retail disconnected: connect failed")
        assert hud_line(image, renderer, 1, TEXT) == "engine: off"
    finally:
        feeds.stop()


def test_headless_live_screenshot_through_the_cli(producers: Producers, tmp_path: Path) -> None:
    out = tmp_path / "live.png"
    stop = threading.Event()
    thread = threading.Thread(target=producers.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        result = run_grimjobs(
            "view", f"retail={producers.retail.url}", f"engine={producers.engine.url}", f"screenshot={out}",
            "frames=10", "timeout_s=30", f"hydra.run.dir={tmp_path / 'run'}",
        )  # fmt: skip
    finally:
        stop.set()
        thread.join()
    assert result.returncode == 0, result.stderr
    image = read_png(out)
    renderer = Renderer()
    index = left_pane_index(image, renderer, W, H)
    assert index is not None and 9 <= index < producers.sent
    assert hud_line(image, renderer, 0, TEXT).startswith("retail connected  ")
    assert hud_line(image, renderer, 1, TEXT).startswith("engine connected  ")
    assert (image == np.array(MANNY, dtype=np.uint8)).all(axis=2).any()  # Manny drawn on the map

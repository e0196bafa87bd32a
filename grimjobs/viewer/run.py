"""Running a view: in an SDL2 window (keys, scrubber clicks) or headless to a PNG.

`run_offline` / `run_live` take the validated `view` settings (grimjobs.viewer.settings.ViewSettings).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.errors import UserError
from grimjobs.session import CAPTURE
from grimjobs.viewer.align import NS_PER_MS, Thresholds
from grimjobs.viewer.png import write_png
from grimjobs.viewer.render import Renderer, Scene

if TYPE_CHECKING:
    from grimjobs.viewer.settings import ViewSettings

log = logging.getLogger("grimjobs.view")

FRAME_INTERVAL_S = 1 / 60  # window refresh: smooth enough, and leaves the CPU to the producers


class _View(Protocol):
    quit: bool

    def key(self, name: str, now_ns: int) -> None: ...


def _save(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_png(path, image)
    print(f"screenshot: {path}")


def _window_loop(
    settings: ViewSettings,
    renderer: Renderer,
    view: _View,
    scene_at: Callable[[int], Scene],
    on_click: Callable[[int, int], None] | None = None,
    service: Callable[[], None] | None = None,
) -> np.ndarray | None:
    """Show scenes until q / the window closes / max_seconds; returns the last image."""
    from grimjobs.viewer.window import Window

    window = Window(settings.width, settings.height, "grimjobs view")
    window.open()
    image: np.ndarray | None = None
    started = time.monotonic()
    try:
        while not view.quit:
            for event in window.inputs(timeout_ms=int(FRAME_INTERVAL_S * 1000)):
                if event.kind == "quit":
                    view.quit = True
                elif event.kind == "key":
                    view.key(event.name, now_ns())
                elif event.kind == "click" and on_click is not None:
                    on_click(event.x, event.y)
            if service is not None:
                service()
            image = renderer.render(scene_at(now_ns()))
            window.present(image)
            if settings.max_seconds and time.monotonic() - started >= settings.max_seconds:
                break
    finally:
        window.close()
    return None if image is None else image.copy()


# -- offline ----------------------------------------------------------------------------------


def run_offline(settings: ViewSettings) -> int:
    from grimjobs.viewer.offline import VideoReader, load_session
    from grimjobs.viewer.views import OfflineView

    assert settings.path is not None
    path = settings.path.expanduser()
    session = load_session(path, int(settings.align.gap_min_ms * NS_PER_MS), settings.align.gap_factor)
    video = VideoReader(path / CAPTURE)
    if len(video) == 0:
        raise UserError(f"path={path}: {CAPTURE} has no frames")
    if settings.frame >= len(video):
        raise UserError(f"frame={settings.frame}: the session has {len(video)} frames (0..{len(video) - 1})")
    for warning in session.warnings:
        log.warning("%s", warning)
    view = OfflineView(session, video, settings.frame, settings.speed, settings.loop)
    view.paused = settings.paused
    view.diff = settings.diff
    renderer = Renderer(settings.width, settings.height)
    try:
        if settings.use_window:

            def click(x: int, y: int) -> None:
                bx, by, bw, bh = renderer.scrubber_box()
                if bx <= x < bx + bw and by - 6 <= y < by + bh + 6:
                    view.paused = True
                    view.seek_fraction((x - bx) / max(1, bw))

            def scene_at(now: int) -> Scene:
                view.tick(now)
                return view.scene()

            image = _window_loop(settings, renderer, view, scene_at, on_click=click)
        else:
            # headless: render `frames` consecutive frames (the diff overlay needs the previous one)
            image = renderer.render(view.scene())
            for _ in range(settings.frames - 1):
                if view.index >= view.frames - 1:
                    break
                view.step()
                image = renderer.render(view.scene())
            image = image.copy()
    finally:
        video.close()
    if settings.screenshot is not None and image is not None:
        _save(settings.screenshot, image)
    return 0


# -- live -------------------------------------------------------------------------------------


def run_live(settings: ViewSettings) -> int:
    from grimjobs.viewer.feeds import Feeds
    from grimjobs.viewer.views import LiveSettings, LiveView

    a = settings.align
    live = LiveSettings(
        frame_capacity=a.frame_buffer,
        state_capacity=a.state_buffer,
        keep_frames=a.keep_frames,
        trail_seconds=a.trail_seconds,
        mode=a.mode,
        gap_min_ns=int(a.gap_min_ms * NS_PER_MS),
        gap_factor=a.gap_factor,
        thresholds=Thresholds(
            sync_tolerance_ns=int(a.sync_tolerance_ms * NS_PER_MS),
            drift_warn_ns=int(a.drift_warn_ms * NS_PER_MS),
            heartbeat_late_ns=int(a.heartbeat_late_s * NS_PER_S),
        ),
        plane=a.plane,
        movie_answer=settings.movie_answer,
        movie_root=settings.movie_root,
    )
    urls = {"retail": settings.retail, "engine": settings.engine}
    for name, url in urls.items():
        if url:
            _check_url(name, url)
    view = LiveView(live, urls)
    view.diff = settings.diff
    feeds = Feeds(view, settings.reconnect_delay_s, settings.max_payload)
    renderer = Renderer(settings.width, settings.height)
    feeds.start()
    status = 0
    try:
        if settings.paused:
            view.key("space", now_ns())
        if settings.use_window:
            image = _window_loop(settings, renderer, view, view.scene, service=feeds.service)
        else:
            status = _wait_for_frames(settings, view)
            image = renderer.render(view.scene(now_ns())).copy()
    finally:
        feeds.stop()
    if settings.screenshot is not None and image is not None:
        _save(settings.screenshot, image)
    return status


def _check_url(name: str, url: str) -> None:
    from grimjobs.stream.transport import parse_url

    parse_url(url, name)  # raises a one-line UserError naming the key


def _wait_for_frames(settings: ViewSettings, view: object) -> int:
    """Headless live: wait until `frames` frames (or states, without retail) have arrived."""
    from grimjobs.viewer.views import LiveView

    assert isinstance(view, LiveView)
    deadline = time.monotonic() + settings.timeout_s
    track = view.aligner.retail if settings.retail else view.aligner.engine
    need_engine = bool(settings.retail and settings.engine)
    tty = sys.stderr.isatty()
    while time.monotonic() < deadline:
        with view.lock:
            have = track.received
            engine_ok = not need_engine or view.aligner.engine.received > 0
        if have >= settings.frames and engine_ok:
            return 0
        if tty:
            print(f"\rwaiting for {track.name}: {have}/{settings.frames}", end="", file=sys.stderr)
        time.sleep(0.02)
    log.warning(
        "timeout_s=%s: got %d of %d %s messages",
        settings.timeout_s,
        track.received,
        settings.frames,
        track.name,
    )
    print(
        f"grimjobs view: only {track.received} of frames={settings.frames} arrived from {track.name} "
        f"within timeout_s={settings.timeout_s:g}; the screenshot shows what did",
        file=sys.stderr,
    )
    return 1

"""View models without sockets or windows: offline playback pace across a gap and seeking; live
ingest of decoded messages with skewed producer clocks, bad frames and label diffs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grimjobs.capture.pattern import PatternRenderer
from grimjobs.stream import protocol as p
from grimjobs.stream.client import Connected, Disconnected
from grimjobs.viewer.offline import VideoReader, load_session
from grimjobs.viewer.render import Renderer
from grimjobs.viewer.views import LiveSettings, LiveView, OfflineView
from tests.viewer.helpers import FRAMES, GAP_AFTER, GAP_NS, GeneratedSession, left_pane_index, write_session

MS = 1_000_000


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSession:
    return write_session(tmp_path_factory.mktemp("viewer_views") / "session")


def test_offline_plays_at_recorded_pace_and_the_gap_is_a_pause(session: GeneratedSession) -> None:
    data = load_session(session.path, 250 * MS, 4.0)
    video = VideoReader(session.path / "capture.mp4")
    try:
        view = OfflineView(data, video, start_frame=0)
        local = 10**12
        view.tick(local)  # starts the play clock
        view.tick(local + 100 * MS)
        assert view.index == 3  # 100 ms at 30 fps
        view.tick(local + (GAP_AFTER * 33_333_333) + 500 * MS)
        assert view.index == GAP_AFTER  # half-way through the 1 s hole: still the last frame before it
        view.tick(local + (GAP_AFTER + 1) * 33_333_333 + GAP_NS + MS)
        assert view.index == GAP_AFTER + 1
        view.key("space", local)
        assert view.paused
        view.tick(local + 10**10)
        assert view.index == GAP_AFTER + 1  # paused: time passes, the frame does not
        view.key("end", local)
        assert view.index == FRAMES - 1
        view.key("right", local)
        assert view.index == FRAMES - 1  # clamped
        view.seek_fraction(0.0)
        assert view.index == 0
        # the middle of the recorded span is inside the hole: the nearest frame is at its edge
        view.seek_fraction(0.5)
        assert view.index in (GAP_AFTER, GAP_AFTER + 1)
        view.key("q", local)
        assert view.quit
    finally:
        video.close()


def _frame_bytes(renderer: PatternRenderer, index: int, width: int, height: int, stride: int) -> bytes:
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    renderer.render(index, rgba)
    padded = np.zeros((height, stride), dtype=np.uint8)
    padded[:, : width * 4] = rgba.reshape(height, width * 4)
    return padded.tobytes()


def test_live_ingest_with_skewed_clocks_padding_and_diff() -> None:
    width, height = 256, 144
    stride = width * 4 + 64  # padded rows: the viewer must honour stride_bytes
    pattern = PatternRenderer(width, height, channels=4)
    view = LiveView(LiveSettings(), {"retail": "tcp://r", "engine": "tcp://e"})
    retail_clock, engine_clock = 10**15, 42  # two machines booted at very different times
    base = 10**12  # viewer clock
    view.ingest("retail", Connected("tcp://r", 1), base)
    view.ingest("engine", Connected("tcp://e", 1), base)
    view.ingest("retail", p.Hello(producer="retail", build="x"), base)
    view.ingest("retail", p.Frame(0, retail_clock, b"\0" * 10), base)  # before STREAM_CONFIG: unusable
    view.ingest(
        "retail", p.StreamConfig(width=width, height=height, stride_bytes=stride, nominal_fps=30.0), base
    )
    for i in range(1, 31):
        t = i * 33 * MS
        data = _frame_bytes(pattern, i, width, height, stride)
        view.ingest("retail", p.Frame(i, retail_clock + t, data), base + t + 2 * MS)
    for i in range(0, 100):
        t = i * 10 * MS
        view.ingest(
            "engine",
            p.StateUpdate(seq=i, host_time_ns=engine_clock + t, position=(i / 100, 0.0, 0.0), yaw=float(i)),
            base + t + 1 * MS,
        )
    view.ingest("retail", p.Telemetry(seq=1, label="hook.door", data=None, timestamp=None), base + 500 * MS)
    view.ingest(
        "engine", p.TimelineMark(seq=1, host_time_ns=engine_clock + 500 * MS, label="hook.walk"), base
    )
    view.ingest("retail", p.Rejected(kind=5, reason="STATE_UPDATE.seq: bad"), base)

    now = base + 1_100 * MS
    scene = view.scene(now)
    renderer = Renderer()
    image = renderer.render(scene)
    assert left_pane_index(image, renderer, width, height) == 30
    assert view.bad_frames == 1
    assert any("1 frames not matching STREAM_CONFIG" in w for w in scene.warnings)
    assert any("bad" in w for w in scene.warnings)
    # the state shown with frame 30 (t = 990 ms) is the one from 990 ms, whatever the clocks read
    assert scene.sim is not None and scene.sim.state is not None
    assert scene.sim.state.seq == 99
    assert not [w for w in scene.warnings if "OUT OF SYNC" in w]
    # the diff overlay lists labels only one side reported
    view.key("d", now)
    diff = view.scene(now).sim
    assert diff is not None
    assert "only retail: hook.door" in diff.diff_lines and "only engine: hook.walk" in diff.diff_lines
    # a disconnect is shown in the HUD and the pane keeps the last frame
    view.ingest("retail", Disconnected("tcp://r", "producer closed the connection"), now)
    scene = view.scene(now + 10 * MS)
    assert "retail: disconnected" in scene.warnings
    assert scene.hud[0].startswith("retail disconnected: producer closed")
    assert "offset -999000.000 s" in scene.hud[0]  # large offsets (another machine) in seconds


def test_missing_frame_view_says_why() -> None:
    view = LiveView(LiveSettings(), {"retail": None, "engine": "tcp://e"})
    scene = view.scene(10**9)
    assert scene.left.pixels is None and scene.left.missing == "retail stream off"
    assert scene.hud[0] == "retail: off"


def test_movie_start_is_acked_then_answered_per_setting_key_or_missing_file(tmp_path: Path) -> None:
    sent: list[tuple[str, p.MovieControl]] = []

    def record(stream: str, message: object) -> bool:
        assert isinstance(message, p.MovieControl)
        sent.append((stream, message))
        return True

    view = LiveView(LiveSettings(), {"retail": None, "engine": "tcp://e"})
    view.send = record
    view.ingest("engine", p.MovieStart("intro", "MoviesHD/intro.ogv"), 1)
    assert [(s, m.name, m.action) for s, m in sent] == [
        ("engine", "intro", "ack"),
        ("engine", "intro", "finished"),
    ]
    assert view.movie == "movie intro: finished"

    sent.clear()
    view = LiveView(LiveSettings(movie_answer="key"), {"retail": None, "engine": "tcp://e"})
    view.send = record
    view.ingest("engine", p.MovieStart("logos"), 1)  # relative_path omitted, as the reference allows
    assert [m.action for _, m in sent] == ["ack"]
    view.key("m", 2)
    assert [m.action for _, m in sent] == ["ack", "skipped"]
    assert view.movie == "movie logos: skipped" and not view.movie_pending

    sent.clear()
    view = LiveView(LiveSettings(movie_root=tmp_path), {"retail": None, "engine": "tcp://e"})
    view.send = record
    view.ingest("engine", p.MovieStart("intro", "MoviesHD/intro.ogv"), 1)
    answers = [m for _, m in sent]
    assert [m.action for m in answers] == ["ack", "error"]
    assert "intro.ogv not found" in (answers[1].message or "")
    # every answer is a valid reference MOVIE_CONTROL on the wire
    assert [p.decode_message(m.encode()) for m in answers] == answers

"""Fast tests of the capture logic that needs no display: fitting, stale frames, choosing a
window, the pacer's accounting, the file and dxcam sources."""

from __future__ import annotations

import queue
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grimjobs.capture.base import CaptureSettings, CaptureSource, SourceEnded, SourceGap
from grimjobs.capture.file import FileSettings, FileSource
from grimjobs.capture.pattern import PatternRenderer, decode_index
from grimjobs.capture.scale import Fitter, inner, letterbox
from grimjobs.capture.stale import StaleDetector
from grimjobs.capture.windows import WindowInfo, WindowSelector, parse_window_id, resolve_window
from grimjobs.clock import now_ns
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat, FramePool, FrameRef
from grimjobs.pipeline.loop import CaptureLoop


@given(
    st.integers(2, 4000),
    st.integers(2, 4000),
    st.integers(8, 1920).map(lambda v: v * 2),
    st.integers(8, 1080).map(lambda v: v * 2),
)
def test_capture_letterbox_fits_centered_even_and_keeps_aspect(sw: int, sh: int, ow: int, oh: int) -> None:
    p = letterbox(sw, sh, ow, oh)
    assert p.width % 2 == p.height % 2 == p.x % 2 == p.y % 2 == 0
    assert p.x >= 0 and p.x + p.width <= ow and p.y >= 0 and p.y + p.height <= oh
    assert p.width == ow or p.height == oh  # as large as fits
    assert abs((ow - p.width) - 2 * p.x) <= 2 and abs((oh - p.height) - 2 * p.y) <= 2
    if p.width == ow and p.height < oh:
        assert abs(p.height - ow * sh / sw) <= 2
    if p.height == oh and p.width < ow:
        assert abs(p.width - oh * sw / sh) <= 2


def test_capture_fitter_copies_same_size_and_letterboxes_other_sizes() -> None:
    src = np.random.default_rng(0).integers(0, 255, (180, 320, 4), dtype=np.uint8)
    out = np.full((180, 320, 4), 255, np.uint8)
    fitter = Fitter(320, 180, "bgra")
    fitter.fit(src, out)
    assert np.array_equal(out, src)
    # a 4:3 picture into 16:9: bars left and right are black, the picture is the scaled source
    renderer = PatternRenderer(480, 360, channels=4)
    square = np.zeros((360, 480, 4), np.uint8)
    renderer.render(1234, square)
    wide = Fitter(352, 192, "bgra")  # 4:3 into a wider output: 256x192 (blocks of 8 px) centered
    out = np.full((192, 352, 4), 255, np.uint8)
    wide.fit(square, out)
    place = wide.place
    assert (place.x, place.y, place.width, place.height) == (48, 0, 256, 192)
    assert out[:, :48].max() == 0 and out[:, 304:].max() == 0
    assert decode_index(inner(out, place)[..., :3]) == 1234
    wide.fit(src, out)  # the source changes size: placement follows, old picture's bars cleared
    p2 = wide.place
    assert wide.resizes == 1 and (p2.x, p2.width) == (4, 342)
    assert out[:, :4].max() == 0 and out[:, 346:].max() == 0
    # a non-contiguous view (a region of a larger capture) works too
    wide.fit(square[10:300, 20:400], out)
    assert wide.resizes == 2
    # a bar only 2 rows high lies entirely below the picture (offset 0) and is still cleared
    thin = Fitter(320, 182, "bgra")
    out = np.full((182, 320, 4), 255, np.uint8)
    thin.fit(src, out)
    assert thin.place.y == 0 and thin.place.height == 180
    assert np.array_equal(out[:180], src) and out[180:].max() == 0


def test_capture_stale_detector_counts_repeats() -> None:
    detector = StaleDetector(row_step=4)
    a = np.zeros((64, 64, 4), np.uint8)
    b = a.copy()
    b[10:20] = 7
    assert [detector.check(x) for x in (a, a, b, b, b, a)] == [False, True, False, True, True, False]
    assert detector.stats() == {"duplicates": 3, "longest_duplicate_run": 2}
    detector.reset()
    assert detector.check(a) is False


WINDOWS = [
    WindowInfo(0x100, "Grim Fandango Remastered", "GrimFandango", 1, 0, 0, 1920, 1080),
    WindowInfo(0x200, "xterm: grim", "xterm", 2, 0, 0, 800, 600),
    WindowInfo(0x300, "xterm: vim", "xterm", 3, 0, 0, 800, 600, aliases=("XTerm",)),
]


def test_capture_window_resolution_rules() -> None:
    assert resolve_window(WINDOWS, WindowSelector(title="grim fandango")).id == 0x100
    assert resolve_window(WINDOWS, WindowSelector(process="grimfandango.exe")).id == 0x100
    assert resolve_window(WINDOWS, WindowSelector(window_id=0x300)).id == 0x300
    assert (
        resolve_window(WINDOWS, WindowSelector(title="xterm", process="xterm", window_id=0x200)).id == 0x200
    )
    with pytest.raises(
        UserError, match=r"2 windows match: 0x200 'xterm: grim'.*0x300 'xterm: vim'.*window_id"
    ):
        resolve_window(WINDOWS, WindowSelector(title="XTERM"), interactive=False)
    with pytest.raises(UserError, match=r"no window matches; closest titles: 'Grim Fandango Remastered'"):
        resolve_window(WINDOWS, WindowSelector(title="grim fandago remastred"))
    with pytest.raises(UserError, match=r"capture\.title, capture\.window_id or capture\.process must"):
        resolve_window(WINDOWS, WindowSelector())
    assert parse_window_id("0x1A00003") == 0x1A00003 and parse_window_id("42") == 42
    with pytest.raises(UserError, match=r"capture\.window_id='abc'"):
        parse_window_id("abc")


def test_capture_window_chooser_asks_until_a_valid_number() -> None:
    prompts: list[str] = []
    answers = iter(["", "7", "2\n"])

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    chosen = resolve_window(WINDOWS, WindowSelector(title="xterm"), interactive=True, ask=ask)
    assert chosen.id == 0x300
    assert "1) 0x200 'xterm: grim'" in prompts[0] and "2) 0x300 'xterm: vim'" in prompts[0]

    def eof(prompt: str) -> str:
        raise EOFError

    with pytest.raises(UserError, match="no window chosen"):
        resolve_window(WINDOWS, WindowSelector(title="xterm"), interactive=True, ask=eof)


class ScriptedSource(CaptureSource):
    """Slow on some slots, no picture (a gap) on others."""

    def __init__(self, settings: CaptureSettings, slow: set[int], gaps: set[int], delay_s: float) -> None:
        super().__init__(settings)
        self.slow, self.gaps, self.delay_s = slow, gaps, delay_s

    def _open(self) -> FrameFormat:
        return FrameFormat(self.settings.width, self.settings.height, "rgb24")

    def _grab(self, out: np.ndarray, slot: int) -> int:
        if slot in self.gaps:
            raise SourceGap
        t = now_ns()
        if slot in self.slow:
            time.sleep(self.delay_s)
        out[0, 0, 0] = slot % 256
        return t


def run_loop(source: CaptureSource, pool_size: int, consume_s: float) -> tuple[CaptureLoop, list[int]]:
    source.open()
    pool = FramePool(source.format, pool_size)
    frames: queue.SimpleQueue[FrameRef | None] = queue.SimpleQueue()
    loop = CaptureLoop(source, pool, frames, threading.Event())
    slots: list[int] = []

    def consume() -> None:
        while (ref := frames.get()) is not None:
            slots.append(int(ref.pixels[0, 0, 0]))  # the slot, as the source drew it
            time.sleep(consume_s)
            ref.release()

    consumer = threading.Thread(target=consume)
    consumer.start()
    loop.run(now_ns())
    consumer.join()
    return loop, slots


def test_capture_pacer_accounts_for_every_slot() -> None:
    settings = CaptureSettings.model_validate({"width": 16, "height": 16, "fps": 50, "max_frames": 40})
    source = ScriptedSource(settings, slow={10}, gaps={20, 21, 22}, delay_s=0.07)
    loop, slots = run_loop(source, pool_size=4, consume_s=0.0)
    assert loop.slots == 40 and loop.end_reason == "max_frames"
    assert loop.captured + loop.dropped + loop.gap_slots == 40
    assert loop.gap_slots == 3 and not {20, 21, 22} & set(slots)
    assert loop.dropped_late >= 2  # a 70 ms grab at 20 ms per slot skips the next slots
    assert slots == sorted(slots) and loop.captured == len(slots)


def test_capture_pacer_drops_when_the_encoder_is_behind() -> None:
    settings = CaptureSettings.model_validate({"width": 16, "height": 16, "fps": 100, "max_frames": 30})
    loop, _slots = run_loop(ScriptedSource(settings, set(), set(), 0), pool_size=2, consume_s=0.03)
    assert loop.dropped_queue_full > 0
    assert loop.captured + loop.dropped == 30 == loop.slots


def write_pattern_video(path: Path, frames: int, fps: int) -> None:
    from omegaconf import DictConfig, OmegaConf

    from grimjobs.encoder.base import VideoEncoder
    from grimjobs.settings import build

    node = OmegaConf.load(Path(__file__).parents[2] / "conf/encoder/x264.yaml")
    assert isinstance(node, DictConfig)
    encoder = build(node, "encoder", VideoEncoder)
    encoder.open(path, FrameFormat(256, 144, "rgb24"), fps)
    renderer, image = PatternRenderer(256, 144), np.zeros((144, 256, 3), np.uint8)
    for i in range(frames):
        renderer.render(i, image)
        encoder.encode(image, i * 90000 // fps)
    encoder.close()


def test_capture_file_source_unpaced_and_paced(tmp_path: Path) -> None:
    video = tmp_path / "pattern.mp4"
    write_pattern_video(video, 20, 10)
    out = np.zeros((144, 256, 3), np.uint8)
    source = FileSource(
        FileSettings.model_validate(
            {"path": str(video), "width": 256, "height": 144, "fps": 10, "paced": False}
        )
    )
    with source:
        seen, times = [], []
        for slot in range(25):
            try:
                times.append(source.grab(out, slot))
            except SourceEnded:
                break
            seen.append(decode_index(out))
    assert seen == list(range(20))
    assert np.allclose(np.diff(times), 0.1e9, rtol=0.01)  # the file's own timing
    # paced at twice the file's rate: each file frame shows on two slots (counted as duplicates)
    paced = FileSource(
        FileSettings.model_validate(
            {"path": str(video), "width": 256, "height": 144, "fps": 20, "paced": True}
        )
    )
    with paced:
        shown = []
        for slot in range(10):
            paced.grab(out, slot)
            shown.append(decode_index(out))
        assert shown == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
        assert paced.stats()["duplicates"] == 5
    with pytest.raises(UserError, match=r"capture\.path='nope\.mp4': no such file"):
        FileSource(FileSettings.model_validate({"path": "nope.mp4"})).open()


@pytest.mark.skipif(sys.platform == "win32", reason="the Windows-only error is for other systems")
def test_capture_dxcam_is_windows_only() -> None:
    from grimjobs.capture.dxcam import DxcamSettings, DxcamSource

    with pytest.raises(UserError, match="Windows-only"):
        DxcamSource(DxcamSettings.model_validate({})).open()

"""Window capture on Windows multi-monitor layouts, through the real WindowSource, win32 and dxcam
modules over stubs of user32/dwmapi/dxcam/GDI (tests/windows/stubs.py): every layout and window
position records the right desktop pixels or a gap, never a traceback."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grimjobs.capture.dxcam as gdx
import grimjobs.capture.win32 as win32
import grimjobs.capture.window as window_mod
from grimjobs.capture.base import SourceError, SourceGap
from grimjobs.capture.window import WindowSource, clip
from grimjobs.capture.x11 import Geometry
from grimjobs.errors import UserError
from tests.windows import stubs
from tests.windows.stubs import Desktop, Monitor, StubMss, Window

D1, D2, D3 = r"\\.\DISPLAY1", r"\\.\DISPLAY2", r"\\.\DISPLAY3"
PRIMARY = Monitor(D1, 0, 0, 1920, 1080, primary=True)
# name: (monitors, DXGI output order as indices into monitors)
LAYOUTS: dict[str, tuple[list[Monitor], list[int]]] = {
    "single": ([PRIMARY], [0]),
    "right, DXGI output 0 not primary": ([PRIMARY, Monitor(D2, 1920, 0, 2560, 1440)], [1, 0]),
    "left of primary (negative x)": ([PRIMARY, Monitor(D2, -1280, 0, 1280, 1024)], [1, 0]),
    "above primary (negative y)": ([PRIMARY, Monitor(D2, 0, -1080, 1920, 1080)], [0, 1]),
    "three, mixed sizes": (
        [PRIMARY, Monitor(D2, -2560, -200, 2560, 1440), Monitor(D3, 1920, 300, 1280, 720)],
        [2, 0, 1],
    ),
    "portrait rotated, no OpenCV": ([PRIMARY, Monitor(D2, 1920, -400, 1080, 1920, rotation=90)], [0, 1]),
}


def monitor_of(desktop: Desktop, w: Window) -> int:
    user32 = stubs.StubUser32(desktop)
    return user32.MonitorFromWindow(w.hwnd, 2) - 1


def expected_region(desktop: Desktop, w: Window) -> tuple[int, int, int, int] | None:
    """Desktop rectangle a frame must show: the window clipped to the virtual screen, then to the
    monitor holding most of it, even-sized."""
    left, top, right, bottom = desktop.bounds()
    screen = Geometry(left, top, right - left, bottom - top, True)
    rect = clip(Geometry(w.x, w.y, w.width, w.height, True), screen)
    if rect is None:
        return None
    m = desktop.monitors[monitor_of(desktop, w)]
    x0, y0 = max(rect.x, m.left), max(rect.y, m.top)
    x1, y1 = min(rect.x + rect.width, m.left + m.width), min(rect.y + rect.height, m.top + m.height)
    width, height = (x1 - x0) // 2 * 2, (y1 - y0) // 2 * 2
    return None if width < 2 or height < 2 else (x0, y0, width, height)


def open_source(
    monkeypatch: pytest.MonkeyPatch,
    desktop: Desktop,
    order: list[int],
    has_cv2: bool = False,
    **extra: object,
) -> tuple[WindowSource, object, StubMss]:
    dx = stubs.stub_dxcam(desktop, order, has_cv2)
    gdi = StubMss(desktop)
    libs = stubs.libraries(desktop)
    monkeypatch.setattr(win32, "libraries", lambda: libs)
    monkeypatch.setitem(sys.modules, "dxcam", dx)
    monkeypatch.setattr(window_mod, "MssGrabber", lambda display: gdi)
    monkeypatch.setattr(gdx, "opencv_available", lambda: has_cv2)
    source = WindowSource(
        WindowSource.Settings.model_validate(
            {"title": "Grim", "backend": "dxcam", "width": 640, "height": 360, "fps": 60}
        )
    )
    with monkeypatch.context() as m:
        m.setattr(sys, "platform", "win32")
        source.open()
    return source, dx, gdi


def grab(source: WindowSource, desktop: Desktop) -> bool:
    """One slot: True for a frame, False for a gap. Anything else escapes and fails the test."""
    desktop.changes += 1
    out = np.empty((360, 640, 4), np.uint8)
    try:
        source.grab(out, 0)
    except SourceGap:
        return False
    return True


positions = st.tuples(
    st.integers(-3000, 4000), st.integers(-1600, 2000), st.integers(2, 1600), st.integers(2, 1000)
)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(positions, min_size=1, max_size=6))
def test_every_layout_records_frames_or_gaps(
    monkeypatch: pytest.MonkeyPatch, layout: str, moves: list[tuple[int, int, int, int]]
) -> None:
    monitors, order = LAYOUTS[layout]
    w = Window(0x10010, "Grim Fandango Remastered", 100, 100, 1280, 720)
    desktop = Desktop([Monitor(**vars(m)) for m in monitors], [w])
    with monkeypatch.context() as mp:
        source, _dx, _gdi = open_source(mp, desktop, order)
        try:
            for x, y, width, height in moves:
                w.x, w.y, w.width, w.height = x, y, width, height
                recorded = grab(source, desktop)
                assert recorded == (expected_region(desktop, w) is not None)
            stats = source.stats()
            assert stats["gap_slots"] == sum(g["slots"] for g in stats["gaps"])
        finally:
            source.close()


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@settings(max_examples=80, deadline=None)
@given(position=positions)
def test_frames_show_the_windows_own_pixels(layout: str, position: tuple[int, int, int, int]) -> None:
    """The crop is the window's desktop pixels: the DXGI output's origin is subtracted, whatever
    the output order and however negative the origin."""
    monitors, order = LAYOUTS[layout]
    x, y, width, height = position
    w = Window(7, "Grim", x, y, width, height)
    desktop = Desktop([Monitor(**vars(m)) for m in monitors], [w])
    libs = stubs.libraries(desktop)
    gdi = StubMss(desktop)
    grabber = gdx.DxcamWindowGrabber(
        lambda hwnd: win32.monitor_name(hwnd, libs), lambda: gdi, dxcam=stubs.stub_dxcam(desktop, order)
    )
    left, top, right, bottom = desktop.bounds()
    geo = win32.geometry(w.hwnd, libs)
    rect = clip(geo, Geometry(left, top, right - left, bottom - top, True))
    want = expected_region(desktop, w)
    if rect is None:
        assert want is None
        return
    desktop.changes += 1
    try:
        frame = grabber.grab(w.hwnd, geo, rect)
    except SourceError:
        assert want is None
        return
    assert want is not None
    x0, y0, ww, hh = want
    if grabber.gdi_outputs:  # rotated without OpenCV: GDI reads the window's visible rectangle
        np.testing.assert_array_equal(frame, desktop.pixels(rect.x, rect.y, rect.width, rect.height))
    else:
        np.testing.assert_array_equal(frame, desktop.pixels(x0, y0, ww, hh))
    grabber.close()


def test_move_between_monitors_repicks_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monitors, order = LAYOUTS["left of primary (negative x)"]
    w = Window(5, "Grim", 100, 100, 640, 360)
    desktop = Desktop(list(monitors), [w])
    source, dx, _ = open_source(monkeypatch, desktop, order)
    assert grab(source, desktop)
    w.x = -1000  # onto the monitor left of the primary
    assert grab(source, desktop)
    w.x = -400  # straddling: 400 of its 640 columns on the left monitor, so still that one
    assert grab(source, desktop)
    grabber = source.grabber
    assert isinstance(grabber, gdx.DxcamWindowGrabber)
    assert grabber.switches == 1
    assert grabber.current is not None and grabber.current.name == D2
    assert {c._output.devicename for c in dx.cameras} == {D1, D2}  # type: ignore[attr-defined]
    source.close()
    assert all(c.released for c in dx.cameras)  # type: ignore[attr-defined]


def test_mode_change_is_a_short_gap_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    w = Window(5, "Grim", 1000, 500, 800, 500)
    desktop = Desktop([Monitor(D1, 0, 0, 1920, 1080, primary=True)], [w])
    source, _dx, _ = open_source(monkeypatch, desktop, [0])
    assert grab(source, desktop)
    desktop.monitors[0].width, desktop.monitors[0].height = 1280, 720  # the game switched modes
    results = [grab(source, desktop) for _ in range(3)]
    assert results[-1]  # recording again from the re-read outputs
    desktop.monitors[0].width, desktop.monitors[0].height = 2560, 1440  # and a bigger one
    w.x, w.y, w.width, w.height = 1400, 800, 1000, 600  # only visible on the bigger desktop
    assert grab(source, desktop)
    source.close()


def test_minimized_cloaked_closed_are_gaps(monkeypatch: pytest.MonkeyPatch) -> None:
    w = Window(5, "Grim", 10, 10, 640, 360)
    desktop = Desktop([PRIMARY], [w])
    source, _dx, _ = open_source(monkeypatch, desktop, [0])
    assert grab(source, desktop)
    w.minimized = True
    assert not grab(source, desktop)
    w.minimized, w.cloaked = False, True
    assert not grab(source, desktop)
    w.cloaked = False
    assert grab(source, desktop)
    w.alive = False
    assert not grab(source, desktop)
    reasons = [g["reason"] for g in source.stats()["gaps"]]
    # minimized then cloaked is one gap (cloaked windows are not viewable either), then closed
    assert reasons == ["minimized", "closed"]
    assert source.stats()["gap_slots"] == 3
    source.close()


def test_dxgi_error_falls_back_to_gdi(monkeypatch: pytest.MonkeyPatch) -> None:
    w = Window(5, "Grim", 10, 10, 640, 360)
    desktop = Desktop([PRIMARY], [w])
    source, dx, gdi = open_source(monkeypatch, desktop, [0])
    assert grab(source, desktop)

    def lost(region: object = None) -> None:
        raise OSError("DXGI_ERROR_ACCESS_LOST")  # comtypes raises COMError, an OSError-like error

    dx.cameras[0].grab = lost  # type: ignore[attr-defined]
    assert grab(source, desktop)
    assert grab(source, desktop)
    assert gdi.grabs == 2
    source.close()
    assert gdi.closed


def test_cloaked_windows_are_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    desktop = Desktop(
        [PRIMARY],
        [
            Window(1, "Grim Fandango", 0, 0, 640, 480),
            Window(2, "Grim Fandango", 0, 0, 640, 480, cloaked=True),
        ],
    )
    listed = win32.list_windows(libs=stubs.libraries(desktop))
    assert [w.id for w in listed] == [1]


def test_dxcam_monitor_out_of_range_names_the_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    monitors, order = LAYOUTS["right, DXGI output 0 not primary"]
    desktop = Desktop(list(monitors))
    dx = stubs.stub_dxcam(desktop, order)
    with pytest.raises(UserError) as error:
        gdx.create_camera(0, 2, dxcam=dx)
    message = str(error.value)
    assert "capture.monitor=3" in message and "\n" not in message
    assert f"output 1 {D2}" in message and f"output 2 {D1}" in message and "primary" in message


def test_dxcam_index_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    dx = stubs.stub_dxcam(Desktop([PRIMARY]), [0])
    real_outputs = gdx.dxgi_outputs
    monkeypatch.setattr(gdx, "dxgi_outputs", lambda module: [])  # dxcam without the factory
    with pytest.raises(UserError, match="no such DXGI output"):
        gdx.create_camera(3, 0, dxcam=dx)
    monkeypatch.setattr(gdx, "dxgi_outputs", real_outputs)


def test_rotated_output_without_opencv_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monitors, order = LAYOUTS["portrait rotated, no OpenCV"]
    dx = stubs.stub_dxcam(Desktop(list(monitors)), order)
    monkeypatch.setattr(gdx, "opencv_available", lambda: False)
    with pytest.raises(UserError, match=r"rotated 90 degrees.*opencv-python"):
        gdx.create_camera(0, 1, dxcam=dx)
    monkeypatch.setattr(gdx, "opencv_available", lambda: True)
    assert gdx.create_camera(0, 1, dxcam=dx).rotation_angle == 90


def test_monitors_have_one_primary_and_dxgi_names() -> None:
    monitors, _ = LAYOUTS["three, mixed sizes"]
    found = win32.monitors(stubs.libraries(Desktop(list(monitors))))
    assert [m.name for m in found] == [D1, D2, D3]
    assert [m.primary for m in found] == [True, False, False]
    assert win32.virtual_screen(stubs.libraries(Desktop(list(monitors)))) == Geometry(
        -2560, -200, 2560 + 1920 + 1280, 1440, True
    )

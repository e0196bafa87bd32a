"""`grimjobs list` monitors: one primary, and the DXGI (dxcam) numbering beside mss's, for mss's
virtual-screen monitors with negative origins."""

from __future__ import annotations

from typing import Any

from grimjobs.capture.dxcam import dxgi_outputs
from grimjobs.jobs.list import add_dxgi_outputs, monitor_rows
from tests.windows import stubs
from tests.windows.stubs import Desktop, Monitor


def mss_monitors(desktop: Desktop, primary_key: bool) -> list[dict[str, Any]]:
    """What mss returns: [0] the virtual screen (negative left/top when a monitor is left of or
    above the primary), then each monitor in EnumDisplayMonitors order."""
    left, top, right, bottom = desktop.bounds()
    found: list[dict[str, Any]] = [{"left": left, "top": top, "width": right - left, "height": bottom - top}]
    for m in desktop.monitors:
        mon: dict[str, Any] = {"left": m.left, "top": m.top, "width": m.width, "height": m.height}
        if primary_key:
            mon["is_primary"] = m.primary
        found.append(mon)
    return found


DESKTOP = Desktop(
    [
        Monitor(r"\\.\DISPLAY2", -2560, -200, 2560, 1440),
        Monitor(r"\\.\DISPLAY1", 0, 0, 1920, 1080, primary=True),
        Monitor(r"\\.\DISPLAY3", 1920, 300, 1280, 720),
    ]
)


def test_exactly_one_primary_with_and_without_mss_flags() -> None:
    rows = monitor_rows(mss_monitors(DESKTOP, primary_key=True))
    assert [r["primary"] for r in rows] == [False, True, False]
    assert rows[0]["position"] == "-2560,-200"
    rows = monitor_rows(mss_monitors(DESKTOP, primary_key=False))  # no flag: monitor 1
    assert [r["primary"] for r in rows] == [True, False, False]


def test_dxcam_column_follows_dxgi_order() -> None:
    rows = monitor_rows(mss_monitors(DESKTOP, primary_key=True))
    add_dxgi_outputs(rows, dxgi_outputs(stubs.stub_dxcam(DESKTOP, [1, 2, 0])))
    assert [r["dxcam"] for r in rows] == ["device=0 monitor=3", "device=0 monitor=1", "device=0 monitor=2"]

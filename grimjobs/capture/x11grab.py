"""PyAV's x11grab input device, in-process: the capture path the reference Rust tool used through
the ffmpeg command line, without an ffmpeg binary or a pipe.

The device hands out raw `bgr0` packets; we read the pixels straight out of the packet (no decode,
no copy) and fit them into the pooled output buffer. Our capture loop does the pacing, so the
device is opened with a frame rate far above any capture rate: it then never sleeps on its own
schedule and grabs the moment it is asked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from pydantic import Field

from grimjobs.capture.base import SourceError
from grimjobs.capture.screen import Region, ScreenSettings, ScreenSource
from grimjobs.clock import now_ns
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat

# The device sleeps until its own next frame time; at this rate that time is always past.
DEVICE_FRAMERATE = "1000"
MAX_STALE_PACKETS = 8
STALE_MARGIN_US = 500


class X11GrabDevice:
    """One x11grab device: a rectangle of the display, or the inside of one window (window_id:
    it follows the window wherever it moves; `x`, `y` are then relative to the window)."""

    def __init__(
        self,
        display: str,
        x: int,
        y: int,
        width: int,
        height: int,
        window_id: int | None = None,
        draw_mouse: bool = False,
    ) -> None:
        self.display, self.x, self.y, self.width, self.height = display, x, y, width, height
        self.window_id = window_id
        self.draw_mouse = draw_mouse
        self._container: Any = None
        self._packets: Iterator[Any] | None = None
        self._packet: Any = None

    def open(self) -> None:
        import av

        options = {
            "video_size": f"{self.width}x{self.height}",
            "framerate": DEVICE_FRAMERATE,
            "draw_mouse": "1" if self.draw_mouse else "0",
            # Probing reads frames ahead and queues them; with these, it queues at most one.
            "probesize": "32",
            "analyzeduration": "0",
            "fpsprobesize": "0",
        }
        if self.window_id is not None:
            options["window_id"] = str(self.window_id)
        url = f"{self.display}+{self.x},{self.y}"
        try:
            self._container = av.open(url, format="x11grab", options=options)
        except av.FFmpegError as exc:
            raise SourceError(f"x11grab cannot open {url} {options}: {exc}") from exc
        self._packets = self._container.demux(self._container.streams.video[0])

    def read(self) -> np.ndarray:
        """The next picture as a (height, width, 4) bgr0 view into the device's packet; valid
        until the next read."""
        import av

        assert self._packets is not None, "X11GrabDevice is not open"
        requested_us = time.time() * 1e6
        for _attempt in range(MAX_STALE_PACKETS + 1):
            try:
                packet = next(self._packets)
            except (av.FFmpegError, StopIteration) as exc:
                raise SourceError(f"x11grab read failed: {exc}") from exc
            # The device stamps packets with the wall clock when it grabbed them. A packet older
            # than our request was queued while the device was probed at open: a stale picture.
            pts = packet.pts
            if pts is None or abs(pts - requested_us) > 60e6 or pts >= requested_us - STALE_MARGIN_US:
                break
        expected = self.width * self.height * 4
        if packet.size != expected:
            raise SourceError(f"x11grab returned {packet.size} bytes, expected {expected}")
        self._packet = packet  # keeps the buffer alive while the view is used
        return np.frombuffer(packet, dtype=np.uint8).reshape(self.height, self.width, 4)

    def close(self) -> None:
        self._packets = None
        self._packet = None
        if self._container is not None:
            self._container.close()
            self._container = None


class X11GrabSettings(ScreenSettings):
    display: str | None = Field(None, description="X display, e.g. :0 (null: $DISPLAY)")
    region: Region | None = Field(None, description="part of the display to record (null: all of it)")
    draw_mouse: bool = Field(False, description="draw the mouse pointer into the video")


class X11GrabSource(ScreenSource):
    """The whole X display (or a region of it) through x11grab."""

    Settings = X11GrabSettings
    settings: X11GrabSettings

    def _open(self) -> FrameFormat:
        from grimjobs.capture.x11 import X11Windows

        s = self.settings
        x11 = X11Windows(s.display)  # resolves $DISPLAY, or one UserError line
        display = x11.display.get_display_name()
        screen_w, screen_h = x11.screen_size
        x11.close()
        if s.region is None:
            x, y, w, h = 0, 0, screen_w, screen_h
        else:
            x, y, w, h = s.region.left, s.region.top, s.region.width, s.region.height
            if x + w > screen_w or y + h > screen_h:
                raise UserError(
                    f"capture.region={x},{y} {w}x{h} reaches outside display {display} "
                    f"({screen_w}x{screen_h})"
                )
        self.device = X11GrabDevice(display, x, y, w, h, draw_mouse=s.draw_mouse)
        try:
            self.device.open()
        except SourceError as exc:
            raise UserError(f"capture=x11grab: {exc}") from None
        return self._output_format()

    def _grab(self, out: np.ndarray, slot: int) -> int:
        view = self.device.read()  # the device copies the screen at once when asked (it never waits)
        t_ns = now_ns()  # right after the read, as every screen source (docs/CAPTURE.md)
        self._deliver(view, out)
        return t_ns

    def _close(self) -> None:
        self.device.close()

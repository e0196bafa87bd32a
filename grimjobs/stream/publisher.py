"""FramePublisher over GrimStream: what `record stream=tcp|uds` and the `stream` job use.

`publish(ref)` runs on the encode thread and only retains the FrameRef and hands it to the
server's I/O thread. RGBA frames go out straight from the pool buffer (zero-copy); other packed
formats are converted to RGBA8 (the only pixel format of GrimStream v1) on the I/O thread, once
per frame actually sent, into recycled buffers, and the pool buffer is released right after.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from pydantic import Field

from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat, FrameRef
from grimjobs.stream import protocol as p
from grimjobs.stream.base import FramePublisher, PublisherSettings
from grimjobs.stream.server import ControlHandler, SharedFrame, StreamServer

# source pixel format -> (channel order to take as R, G, B; index of alpha or None)
_TO_RGBA: dict[str, tuple[tuple[int, int, int], int | None]] = {
    "rgb24": ((0, 1, 2), None),
    "bgr24": ((2, 1, 0), None),
    "rgb0": ((0, 1, 2), None),
    "bgr0": ((2, 1, 0), None),
    "bgra": ((2, 1, 0), 3),
}


class GrimStreamSettings(PublisherSettings):
    url: str = Field(
        "tcp://127.0.0.1:17400", description="where viewers connect: tcp://HOST:PORT or unix:///path"
    )
    allow_remote: bool = Field(False, description="allow binding a non-loopback address (logs a warning)")
    producer: str = Field("retail", description="HELLO producer name")
    build: str | None = Field(None, description="HELLO build string")
    max_payload: int = Field(
        p.DEFAULT_MAX_PAYLOAD, ge=1024, description="largest message accepted/sent (bytes)"
    )
    max_backlog_mb: float = Field(
        32.0, gt=0, description="queued telemetry/state per viewer before it is dropped"
    )
    heartbeat_s: float = Field(1.0, gt=0, description="HEARTBEAT after this long without a message")
    wait_ready: bool = Field(
        False, description="hold frames for a viewer until it sends CONTROL viewer_ready"
    )


class RgbaConverter:
    """Packed source pixels -> RGBA8 into a recycled set of buffers."""

    def __init__(self, fmt: FrameFormat) -> None:
        self.fmt = fmt
        self.order, self.alpha = _TO_RGBA[fmt.pixel_format]
        self._free: list[np.ndarray] = []
        self._lock = threading.Lock()

    def convert(self, pixels: np.ndarray) -> tuple[np.ndarray, Callable[[], None]]:
        with self._lock:
            out = self._free.pop() if self._free else np.empty((self.fmt.height, self.fmt.width, 4), np.uint8)
        for dst, src in enumerate(self.order):
            out[..., dst] = pixels[..., src]
        if self.alpha is None:
            out[..., 3] = 255
        else:
            out[..., 3] = pixels[..., self.alpha]

        def give_back() -> None:
            with self._lock:
                if len(self._free) < 8:
                    self._free.append(out)

        return out, give_back


class GrimStreamPublisher(FramePublisher):
    Settings = GrimStreamSettings
    settings: GrimStreamSettings

    def __init__(self, settings: GrimStreamSettings) -> None:
        super().__init__(settings)
        self.server: StreamServer | None = None
        self.on_control: ControlHandler | None = None
        self._converter: RgbaConverter | None = None
        self._fmt: FrameFormat | None = None
        self.frames_offered = 0

    def start(self) -> StreamServer:
        """Listen now (before a frame format is known), e.g. for telemetry-only producers."""
        if self.server is None:
            s = self.settings
            self.server = StreamServer(
                s.url,
                s.producer,
                s.build,
                allow_remote=s.allow_remote,
                gate_on_ready=s.wait_ready,
                max_backlog_bytes=round(s.max_backlog_mb * 1024 * 1024),
                heartbeat_s=s.heartbeat_s,
                on_control=self._control,
                key="stream.url",
            ).start()
        return self.server

    def _control(self, control: p.Control, peer: str) -> None:
        if self.on_control is not None:
            self.on_control(control, peer)

    def open(self, fmt: FrameFormat, fps: float) -> None:
        # Checked before listening: a mistake must not leave a bound socket behind.
        if fmt.pixel_format != "rgba" and fmt.pixel_format not in _TO_RGBA:
            raise UserError(
                f"stream: cannot send {fmt.pixel_format} frames as RGBA8; use an RGB/BGR capture source"
            )
        if fmt.width * fmt.height * 4 + 64 > self.settings.max_payload:
            raise UserError(
                f"stream.max_payload={self.settings.max_payload} is smaller than one "
                f"{fmt.width}x{fmt.height} RGBA frame; raise it"
            )
        server = self.start()
        self._fmt = fmt
        self._converter = None if fmt.pixel_format == "rgba" else RgbaConverter(fmt)
        server.set_config(
            p.StreamConfig(
                width=fmt.width,
                height=fmt.height,
                stride_bytes=fmt.width * 4,
                pixel_format=p.PixelFormat.RGBA8,
                nominal_fps=fps,
            )
        )

    def publish(self, frame: FrameRef, telemetry_time_ns: int | None = None) -> None:
        server = self.server
        if server is None or self._fmt is None or server.subscriber_count == 0:
            return
        frame.retain()
        converter = self._converter
        shared = SharedFrame(
            frame_id=max(frame.index, 0),
            host_time_ns=frame.t_ns,
            data=frame.pixels if converter is None else None,
            release=frame.release,
            materialize=None if converter is None else (lambda: converter.convert(frame.pixels)),
            telemetry_time_ns=telemetry_time_ns,
        )
        shared.retain()  # our own reference while offering it
        server.publish_frame(shared)
        shared.release()
        self.frames_offered += 1

    def send(self, message: p.Message) -> int:
        """Telemetry/state/timeline alongside the frames (reliable)."""
        return self.start().send(message)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def stats(self) -> dict[str, int | float | str]:
        return self.server.stats() if self.server is not None else {}

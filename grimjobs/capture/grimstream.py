"""A GrimStream producer as a capture source (`capture=grimstream capture.url=tcp://HOST:17400`).

Connects as a viewer, takes the format from STREAM_CONFIG, and for each capture slot copies the
newest FRAME received (a stream is live: frames that arrive faster than the slots are superseded,
and a slot with no new frame repeats the last one, counted as a duplicate). The returned time is
the moment the frame arrived on this machine's recording clock; the producer's `host_time_ns`
and `frame_id` of every frame used are kept in `stats()`.
"""

from __future__ import annotations

import threading

import numpy as np
from pydantic import Field

from grimjobs.capture.base import CaptureSettings, CaptureSource, SourceEnded, SourceError
from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.frames import FrameFormat
from grimjobs.stream import protocol as p
from grimjobs.stream.client import Disconnected, StreamClient


class GrimStreamCaptureSettings(CaptureSettings):
    url: str = Field("tcp://127.0.0.1:17400", description="GrimStream producer to record")
    connect_timeout: float = Field(10.0, gt=0, description="seconds to wait for STREAM_CONFIG")
    stop_on_disconnect: bool = Field(True, description="end the recording when the producer goes away")


class GrimStreamSource(CaptureSource):
    Settings = GrimStreamCaptureSettings
    settings: GrimStreamCaptureSettings

    def _open(self) -> FrameFormat:
        s = self.settings
        self._client = StreamClient(s.url, features=["frames"], reconnect=not s.stop_on_disconnect)
        self._lock = threading.Lock()
        self._latest: p.Frame | None = None
        self._latest_t = 0
        self._used_id: int | None = None
        self._ended: str | None = None
        self.frames_received = 0
        self.duplicates = 0
        self.superseded = 0
        deadline = now_ns() + round(s.connect_timeout * NS_PER_S)
        config: p.StreamConfig | None = None
        while config is None and now_ns() < deadline:
            event = self._client.poll(0.2)
            if isinstance(event, p.StreamConfig):
                config = event
            elif isinstance(event, Disconnected) and s.stop_on_disconnect:
                self._client.close()
                raise SourceError(f"capture.url={s.url}: {event.reason}; is the producer running?")
        if config is None:
            self._client.close()
            raise SourceError(f"capture.url={s.url}: no STREAM_CONFIG within {s.connect_timeout}s")
        if config.stride_bytes != config.width * 4:
            self._client.close()
            raise SourceError(
                f"capture.url={s.url}: padded rows (stride {config.stride_bytes}) are not supported"
            )
        self._config = config
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="grimstream-capture", daemon=True)
        self._thread.start()
        return FrameFormat(config.width, config.height, "rgba")

    def _receive(self) -> None:
        while not self._stop.is_set():
            event = self._client.poll(0.1)
            if isinstance(event, p.Frame):
                if memoryview(event.data).nbytes != self._config.frame_bytes:
                    continue
                with self._lock:
                    if self._latest is not None and self._latest.frame_id != self._used_id:
                        self.superseded += 1
                    self._latest, self._latest_t = event, now_ns()
                    self.frames_received += 1
            elif isinstance(event, p.StreamConfig) and event != self._config:
                with self._lock:
                    self._ended = "the producer changed the frame format"
                return
            elif isinstance(event, Disconnected) and self.settings.stop_on_disconnect:
                with self._lock:
                    self._ended = event.reason
                return

    def _grab(self, out: np.ndarray, slot: int) -> int:
        while True:
            with self._lock:
                frame, t, ended = self._latest, self._latest_t, self._ended
                if frame is not None:
                    if frame.frame_id == self._used_id:
                        self.duplicates += 1
                    self._used_id = frame.frame_id
                    out.reshape(-1)[:] = np.frombuffer(frame.data, np.uint8)
                    return t
            if ended is not None:
                raise SourceEnded(ended)
            if self._stop.wait(0.005):
                raise SourceEnded("closed")

    def _close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self._client.close()

    def stats(self) -> dict[str, int | float | str]:
        return {
            "frames_received": self.frames_received,
            "duplicates": self.duplicates,
            "superseded": self.superseded,
            "url": self.settings.url,
        }

"""A GrimStream producer as a capture source (`capture=grimstream capture.url=tcp://HOST:17400`).

Connects as a viewer and takes the newest FRAME received for each capture slot (a stream is live:
frames that arrive faster than the slots are superseded, counted). Its pictures are fitted
(letterboxed) into `capture.width` x `capture.height`, as every other source's are, so any
STREAM_CONFIG size the reference allows (odd sizes included) records into an encodable frame; a
0x0 stream or one whose frame cannot fit in a message is refused in one line.

Time: a new frame is stamped at its arrival on this machine's recording clock. A slot with no new
frame since the last one is, per `capture.on_repeat`:

- `duplicate` (default): the last picture again, stamped with this slot's own time (now), and
  counted in `duplicates`; times strictly increase, never stand still or go backwards;
- `skip`: no frame for the slot (a counted gap of cause "source" in `capture.loop`, and `skipped`).

Before the first frame the slots are gaps. When the producer disconnects: `stop_on_disconnect`
(default) ends the recording at once, after the frames already received; false keeps
reconnecting, and the slots meanwhile are gaps. The producer's `frame_id` and `host_time_ns` of
the frames used are counted in `stats()`.
"""

from __future__ import annotations

import threading
from typing import Literal

import numpy as np
from pydantic import Field

from grimjobs.capture.base import CaptureSettings, CaptureSource, SourceEnded, SourceGap
from grimjobs.capture.scale import Fitter
from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat
from grimjobs.stream import protocol as p
from grimjobs.stream.client import Disconnected, StreamClient


class GrimStreamCaptureSettings(CaptureSettings):
    url: str = Field("tcp://127.0.0.1:17400", description="GrimStream producer to record")
    connect_timeout: float = Field(10.0, gt=0, description="seconds to wait for STREAM_CONFIG")
    stop_on_disconnect: bool = Field(True, description="end the recording when the producer goes away")
    on_repeat: Literal["duplicate", "skip"] = Field(
        "duplicate", description="a slot without a new FRAME: repeat the picture (own time) or skip it"
    )


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
        self._have_picture = False
        self._last_t = 0
        self._ended: str | None = None
        self._connected = True
        self.frames_received = 0
        self.frames_used = 0
        self.duplicates = 0
        self.longest_duplicate_run = 0
        self._run = 0
        self.skipped = 0
        self.superseded = 0
        self.wrong_size = 0
        deadline = now_ns() + round(s.connect_timeout * NS_PER_S)
        config: p.StreamConfig | None = None
        while config is None and now_ns() < deadline:
            event = self._client.poll(0.2)
            if isinstance(event, p.StreamConfig):
                config = event
            elif isinstance(event, Disconnected) and s.stop_on_disconnect:
                self._client.close()
                raise UserError(f"capture.url={s.url}: {event.reason}; is the producer running?")
        if config is None:
            self._client.close()
            raise UserError(f"capture.url={s.url}: no STREAM_CONFIG within {s.connect_timeout}s")
        try:
            self._check_config(config)
        except UserError:
            self._client.close()
            raise
        self._config = config
        self._fitter = Fitter(s.width, s.height, "rgba")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="grimstream-capture", daemon=True)
        self._thread.start()
        return FrameFormat(s.width, s.height, "rgba")

    def _check_config(self, config: p.StreamConfig) -> None:
        s = self.settings
        size = f"{config.width}x{config.height}"
        if config.width == 0 or config.height == 0:
            raise UserError(
                f"capture.url={s.url}: the producer's STREAM_CONFIG is {size}: no picture to record"
            )
        if config.stride_bytes != config.width * 4:
            raise UserError(
                f"capture.url={s.url}: STREAM_CONFIG {size} has padded rows (stride "
                f"{config.stride_bytes}), which are not supported"
            )
        if config.frame_bytes + 64 > self._client.max_payload:
            raise UserError(
                f"capture.url={s.url}: STREAM_CONFIG {size} frames ({config.frame_bytes} bytes) "
                f"exceed the largest message accepted ({self._client.max_payload} bytes)"
            )

    def _receive(self) -> None:
        while not self._stop.is_set():
            event = self._client.poll(0.1)
            if isinstance(event, p.Frame):
                if memoryview(event.data).nbytes != self._config.frame_bytes:
                    self.wrong_size += 1
                    continue
                t = now_ns()
                with self._lock:
                    if self._latest is not None and self._latest.frame_id != self._used_id:
                        self.superseded += 1
                    self._latest, self._latest_t = event, t
                    self._connected = True
                    self.frames_received += 1
            elif isinstance(event, p.StreamConfig) and event != self._config:
                with self._lock:
                    self._ended = f"the producer changed the frame format to {event.width}x{event.height}"
                return
            elif isinstance(event, Disconnected):
                with self._lock:
                    self._connected = False
                    if self.settings.stop_on_disconnect:
                        self._ended = f"producer disconnected ({event.reason})"
                if self.settings.stop_on_disconnect:
                    return

    def _grab(self, out: np.ndarray, slot: int) -> int:
        with self._lock:
            frame, t, ended = self._latest, self._latest_t, self._ended
            fresh = frame is not None and frame.frame_id != self._used_id
            if fresh:
                assert frame is not None
                self._used_id = frame.frame_id
        if fresh:
            assert frame is not None
            cfg = self._config
            picture = np.frombuffer(frame.data, np.uint8).reshape(cfg.height, cfg.width, 4)
            self._fitter.fit(picture, out)
            self._have_picture = True
            self.frames_used += 1
            self._run = 0
            # Strictly after the previous frame's time, even when a repeat was stamped later
            # than this frame's arrival (it arrived while that slot was being taken).
            t = max(t, self._last_t + 1)
            self._last_t = t
            return t
        if ended is not None:
            raise SourceEnded(ended)
        if not self._have_picture or not self._connected:
            raise SourceGap  # nothing yet, or reconnecting: missing time, not a made-up frame
        if self.settings.on_repeat == "skip":
            self.skipped += 1
            raise SourceGap
        # The pooled buffer may hold an older picture: put the last one in again.
        assert frame is not None
        cfg = self._config
        self._fitter.fit(np.frombuffer(frame.data, np.uint8).reshape(cfg.height, cfg.width, 4), out)
        self.duplicates += 1
        self._run += 1
        self.longest_duplicate_run = max(self.longest_duplicate_run, self._run)
        t = max(now_ns(), self._last_t + 1)
        self._last_t = t
        return t

    def _close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self._client.close()

    def stats(self) -> dict[str, int | float | str]:
        if not hasattr(self, "_lock"):
            return {"url": self.settings.url}
        cfg = self._config
        return {
            "frames_received": self.frames_received,
            "frames_used": self.frames_used,
            "duplicates": self.duplicates,
            "longest_duplicate_run": self.longest_duplicate_run,
            "skipped": self.skipped,
            "superseded": self.superseded,
            "wrong_size": self.wrong_size,
            "stream_size": f"{cfg.width}x{cfg.height}",
            "url": self.settings.url,
        }

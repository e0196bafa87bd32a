"""A recording from start to finalized files.

Threads: the capture loop (paced grabs into pooled buffers), the encode loop (encoder, sync.csv,
live publisher) and the main thread (input events, which SDL wants on the main thread, the status
line, and Ctrl+C/SIGTERM). Whatever ends the recording, the files are finalized.
"""

from __future__ import annotations

import logging
import queue
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from grimjobs.capture.base import CaptureSource
from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.encoder.base import EncoderStats, VideoEncoder, pts_from_ns
from grimjobs.frames import FramePool, FrameRef
from grimjobs.input.base import InputDevice
from grimjobs.pipeline.pacer import CaptureLoop
from grimjobs.session import ACTIONS, CAPTURE, SYNC
from grimjobs.session.actions import ActionsWriter
from grimjobs.session.sync import SyncWriter
from grimjobs.stream.base import FramePublisher

log = logging.getLogger(__name__)

# Buffers beyond the encoder queue: one being grabbed, one being encoded, two held by a publisher.
EXTRA_BUFFERS = 4
INPUT_POLL_S = 0.002
STATUS_INTERVAL_S = 0.5


@dataclass
class RecordingResult:
    frames: int = 0
    dropped: int = 0
    slots: int = 0
    first_frame_ns: int | None = None
    last_frame_ns: int | None = None
    end_reason: str = ""
    input_events: int = 0
    input_records: int = 0
    encoder: EncoderStats | None = None
    source_stats: dict[str, Any] = field(default_factory=dict)
    input_stats: dict[str, Any] = field(default_factory=dict)
    stream_stats: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def duration_s(self) -> float:
        if self.first_frame_ns is None or self.last_frame_ns is None:
            return 0.0
        return (self.last_frame_ns - self.first_frame_ns) / NS_PER_S

    @property
    def effective_fps(self) -> float:
        # frames per second over the span they cover (n frames span n-1 intervals)
        return (self.frames - 1) / self.duration_s if self.frames > 1 and self.duration_s > 0 else 0.0


class EncodeLoop:
    """Consumes captured frames in order: encode, log to sync.csv, hand to the publisher."""

    def __init__(
        self,
        frames: queue.SimpleQueue[FrameRef | None],
        encoder: VideoEncoder,
        sync: SyncWriter,
        publisher: FramePublisher,
        stop: threading.Event,
    ) -> None:
        self.frames = frames
        self.encoder = encoder
        self.sync = sync
        self.publisher = publisher
        self.stop = stop
        self.encoded = 0
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self.error: BaseException | None = None
        self._pending: list[tuple[int, int, int]] = []

    def _log_sync(self, index: int, t_ns: int, pts: int) -> None:
        # Rows wait until the container's pts shift is known (a few frames of encoder delay).
        offset = self.encoder.pts_offset
        if offset is None:
            self._pending.append((index, t_ns, pts))
            return
        if self._pending:
            self.flush_pending()
        self.sync.write(index, t_ns, pts + offset)

    def flush_pending(self) -> None:
        """Write rows still waiting for the pts shift (once it is known, or the encoder closed)."""
        offset = self.encoder.pts_offset or 0
        for index, t_ns, pts in self._pending:
            self.sync.write(index, t_ns, pts + offset)
        self._pending.clear()

    def run(self) -> None:
        last_pts = -1
        try:
            while (ref := self.frames.get()) is not None:
                try:
                    if self.first_ns is None:
                        self.first_ns = ref.t_ns
                    pts = max(pts_from_ns(ref.t_ns - self.first_ns), last_pts + 1)
                    self.encoder.encode(ref.pixels, pts)
                    ref.index = self.encoded
                    self._log_sync(self.encoded, ref.t_ns, pts)
                    self.publisher.publish(ref)
                    self.encoded += 1
                    self.last_ns = ref.t_ns
                    last_pts = pts
                finally:
                    ref.release()
        except BaseException as exc:
            self.error = exc
            log.exception("encoding failed")
            self.stop.set()
            while (ref := self.frames.get()) is not None:  # let the capture loop finish cleanly
                ref.release()


class StatusLine:
    """One refreshed line on stderr: elapsed, fps, dropped, queue depth, inputs, file size."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._last = 0.0
        self._last_frames = 0
        self._last_t = time.monotonic()

    def update(self, rec: Recorder, force: bool = False) -> None:
        if not self.enabled:
            return
        t = time.monotonic()
        if not force and t - self._last < STATUS_INTERVAL_S:
            return
        frames = rec.encode_loop.encoded
        fps = (frames - self._last_frames) / max(1e-6, t - self._last_t)
        self._last, self._last_frames, self._last_t = t, frames, t
        elapsed = (now_ns() - rec.start_ns) / NS_PER_S if rec.start_ns else 0.0
        size_mb = rec.encoder.bytes_written / 1e6
        line = (
            f"\r[record] {int(elapsed // 60):02d}:{elapsed % 60:04.1f}  {fps:5.1f} fps  frames {frames}"
            f"  dropped {rec.capture_loop.dropped}  queue {rec.pool.in_use}/{rec.pool.size}"
            f"  inputs {rec.device.events}  {size_mb:.1f} MB "
        )
        sys.stderr.write(line)
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


class Recorder:
    def __init__(
        self,
        session_dir: Path,
        source: CaptureSource,
        encoder: VideoEncoder,
        device: InputDevice,
        publisher: FramePublisher,
        status: bool = False,
    ) -> None:
        self.session_dir = session_dir
        self.source = source
        self.encoder = encoder
        self.device = device
        self.publisher = publisher
        self.status = StatusLine(status)
        self.stop = threading.Event()
        self.start_ns = 0
        self._signals_seen = 0

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """Ctrl+C or SIGTERM stops the recording cleanly; a second Ctrl+C aborts (files are still
        closed by the finally blocks, and the fragmented MP4 stays playable)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            self._signals_seen += 1
            if self._signals_seen > 1:
                raise KeyboardInterrupt
            log.info("%s received: finishing the recording", signal.Signals(signum).name)
            self.stop.set()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def run(self) -> RecordingResult:
        self.session_dir.mkdir(parents=True, exist_ok=True)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = RecordingResult()
        fmt = self.source.open()
        try:
            # Devices open before any file exists: a missing backend fails without leaving a session.
            self.device.open(now_ns())
        except BaseException:
            self.source.close()
            raise
        try:
            fps = self.source.settings.fps
            self.pool = FramePool(fmt, self.encoder.settings.queue_size + EXTRA_BUFFERS)
            frames: queue.SimpleQueue[FrameRef | None] = queue.SimpleQueue()
            self.encoder.open(self.session_dir / CAPTURE, fmt, fps)
            sync = SyncWriter(self.session_dir / SYNC)
            actions = ActionsWriter(self.session_dir / ACTIONS)
            self.publisher.open(fmt, fps)
            self.capture_loop = CaptureLoop(self.source, self.pool, frames, self.stop)
            self.encode_loop = EncodeLoop(frames, self.encoder, sync, self.publisher, self.stop)
            try:
                with self._signals():
                    self._record(actions)
            finally:
                self._finish(result, sync, actions)
        finally:
            self.source.close()
            self.device.close()
        result.wall_seconds = time.perf_counter() - wall0
        result.cpu_seconds = time.process_time() - cpu0
        return result

    def _record(self, actions: ActionsWriter) -> None:
        self.start_ns = now_ns()
        encode_thread = threading.Thread(target=self.encode_loop.run, name="encode", daemon=True)
        capture_thread = threading.Thread(
            target=self.capture_loop.run, args=(self.start_ns,), name="capture", daemon=True
        )
        encode_thread.start()
        capture_thread.start()
        try:
            while capture_thread.is_alive():
                self.device.poll(actions.write, INPUT_POLL_S)
                self.status.update(self)
        finally:
            self.stop.set()
            capture_thread.join()
            self.device.end_at(self.capture_loop.end_ns)
            self.device.poll(actions.write, 0.0)  # events that arrived before the last frame
            self.device.close(actions.write)
            encode_thread.join()
            self.status.update(self, force=True)
            self.status.finish()

    def _finish(self, result: RecordingResult, sync: SyncWriter, actions: ActionsWriter) -> None:
        try:
            result.encoder = self.encoder.close()
        finally:
            self.encode_loop.flush_pending()
            sync.close()
            actions.close()
            self.publisher.close()
        cap, enc = self.capture_loop, self.encode_loop
        result.frames = enc.encoded
        result.dropped = cap.dropped
        result.slots = cap.slots
        result.first_frame_ns, result.last_frame_ns = enc.first_ns, enc.last_ns
        result.end_reason = cap.end_reason
        result.input_events = self.device.events
        result.input_records = actions.records
        result.source_stats = self.source.stats()
        result.input_stats = self.device.stats()
        result.stream_stats = self.publisher.stats()
        for error in (cap.error, enc.error):
            if error is not None:
                raise error

"""A recording from start to finalized files.

Threads: the capture loop (paced grabs into pooled buffers, `pipeline/loop.py`), the sink loop
(encoder + sync.csv, live publisher: `pipeline/sinks.py`) and the main thread (input events, which
SDL wants on the main thread, hotkeys, the status line). Whatever ends the recording (a limit, a
stop signal, a hotkey, an exception in any of the three threads), the files are finalized and
`RecordingResult.end_reason` / `.error` say why in one line.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grimjobs.capture.base import CaptureSource
from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.encoder.base import EncoderStats, VideoEncoder
from grimjobs.frames import FramePool, FrameRef
from grimjobs.input.base import InputDevice
from grimjobs.pipeline.hotkeys import Hotkeys
from grimjobs.pipeline.loop import CaptureLoop
from grimjobs.pipeline.sinks import EncodeSink, PublishSink, SinkLoop
from grimjobs.playback import LoopController
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
    loop_stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # one line: why the recording ended early (files still finalized)
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


def log_traceback(what: str, error: BaseException) -> None:
    """The full traceback goes to the job's log file only; the console gets one line (record.py)."""
    record = log.makeRecord(
        log.name, logging.ERROR, __file__, 0, what, (), (type(error), error, error.__traceback__)
    )
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


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
        frames = rec.encode_sink.encoded
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
    """One recording: the capture loop feeding [EncodeSink, PublishSink], input on this thread.

    `controller` (pause / resume / step / end) is shared with the hotkeys and the live stream's
    CONTROL; `stop` ends the recording at the next slot (what Ctrl+C/SIGTERM/SIGHUP set).
    """

    def __init__(
        self,
        session_dir: Path,
        source: CaptureSource,
        encoder: VideoEncoder,
        device: InputDevice,
        publisher: FramePublisher,
        status: bool = False,
        controller: LoopController | None = None,
        stop: threading.Event | None = None,
        hotkeys: Hotkeys | None = None,
    ) -> None:
        self.session_dir = session_dir
        self.source = source
        self.encoder = encoder
        self.device = device
        self.publisher = publisher
        self.status = StatusLine(status)
        self.stop = stop or threading.Event()
        self.controller = controller or LoopController()
        self.hotkeys = hotkeys
        self.start_ns = 0
        self.input_error: BaseException | None = None

    def run(self) -> RecordingResult:
        """Record until a limit, a stop or an error; the files are finalized whatever happens.
        Errors inside the pipeline end the recording (result.error says why); only a failure to
        start raises, and then no session file is left behind."""
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = RecordingResult()
        # Everything that can fail to start opens before any session file exists.
        fmt = self.source.open()
        opened: list[Callable[[], None]] = [self.source.close]
        created: list[Path] = []
        try:
            self.device.open(now_ns())
            opened.append(self.device.close)
            fps = self.source.settings.fps
            self.publisher.open(fmt, fps)  # binds the stream port: "port in use" fails here
            opened.append(self.publisher.close)
            if self.hotkeys is not None:
                self.hotkeys.open(self.controller)
                opened.append(self.hotkeys.close)
            self.session_dir.mkdir(parents=True, exist_ok=True)
            self.pool = FramePool(fmt, self.encoder.settings.queue_size + EXTRA_BUFFERS)
            frames: queue.SimpleQueue[FrameRef | None] = queue.SimpleQueue()
            created.append(self.session_dir / CAPTURE)
            self.encoder.open(self.session_dir / CAPTURE, fmt, fps)
            created.append(self.session_dir / SYNC)
            sync = SyncWriter(self.session_dir / SYNC)
            created.append(self.session_dir / ACTIONS)
            actions = ActionsWriter(self.session_dir / ACTIONS)
        except BaseException:
            for close in reversed(opened):
                try:
                    close()
                except Exception as exc:  # the first error is the one to report
                    log.debug("closing after a failed start: %s", exc)
            for path in created:
                path.unlink(missing_ok=True)
            raise
        try:
            self.capture_loop = CaptureLoop(self.source, self.pool, frames, self.stop, self.controller)
            self.encode_sink = EncodeSink(self.encoder, sync)
            self.sink_loop = SinkLoop(frames, [self.encode_sink, PublishSink(self.publisher)], self.stop)
            try:
                self._record(actions)
            finally:
                self._finish(result, sync, actions)
        finally:
            for close in reversed(opened):
                close()
        result.wall_seconds = time.perf_counter() - wall0
        result.cpu_seconds = time.process_time() - cpu0
        return result

    def _record(self, actions: ActionsWriter) -> None:
        self.start_ns = now_ns()
        sink_thread = threading.Thread(target=self.sink_loop.run, name="encode", daemon=True)
        capture_thread = threading.Thread(
            target=self.capture_loop.run, args=(self.start_ns,), name="capture", daemon=True
        )
        sink_thread.start()
        capture_thread.start()
        try:
            while capture_thread.is_alive():
                self.device.poll(actions.write, INPUT_POLL_S)
                if self.hotkeys is not None:
                    self.hotkeys.poll()
                self.status.update(self)
        except Exception as exc:  # an input device failing ends the recording, files kept
            self.input_error = exc
            log.debug("input failed", exc_info=True)
        finally:
            self.stop.set()
            capture_thread.join()
            try:
                self.device.end_at(self.capture_loop.end_ns)
                self.device.poll(actions.write, 0.0)  # events that arrived before the last frame
                self.device.close(actions.write)
            except Exception as exc:
                self.input_error = self.input_error or exc
                log.debug("closing the input device failed", exc_info=True)
            sink_thread.join()
            self.status.update(self, force=True)
            self.status.finish()

    def _finish(self, result: RecordingResult, sync: SyncWriter, actions: ActionsWriter) -> None:
        encoder_error: BaseException | None = None
        try:
            result.encoder = self.encoder.close()
        except Exception as exc:
            encoder_error = exc
            log.debug("closing the encoder failed", exc_info=True)
        finally:
            self.encode_sink.flush_pending()
            sync.close()
            actions.close()
        cap, sink = self.capture_loop, self.encode_sink
        result.frames = sink.encoded
        result.dropped = cap.dropped
        result.slots = cap.slots
        result.first_frame_ns, result.last_frame_ns = sink.first_ns, sink.last_ns
        result.end_reason = cap.end_reason
        result.input_events = self.device.events
        result.input_records = actions.records
        result.source_stats = self.source.stats()
        result.loop_stats = cap.stats()
        result.input_stats = self.device.stats()
        result.stream_stats = self.publisher.stats()
        for where, error in (
            ("capture", cap.error),
            ("encode", self.sink_loop.error),
            ("input", self.input_error),
            ("encoder close", encoder_error),
        ):
            if error is not None:
                log_traceback(f"{where} error", error)
            if error is not None and result.error is None:
                result.error = f"{where} error: {type(error).__name__}: {error}"
                if where != "capture":
                    result.end_reason = result.error

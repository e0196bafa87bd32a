"""Where captured frames go: the sink thread runs each frame through the configured sinks in order.

- `EncodeSink`: encoder (capture.mp4) + sync.csv row; numbers the frame by its position in the video.
- `PublishSink`: a live publisher (GrimStream); never blocks (it retains the buffer).

`record` uses [EncodeSink, PublishSink], the `stream` job [PublishSink]. The capture loop only
puts frames on the queue, so a slow sink shows up as `dropped_queue_full` and never delays the
schedule.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import Protocol

from grimjobs.encoder.base import VideoEncoder, pts_from_ns
from grimjobs.frames import FrameRef
from grimjobs.session.sync import SyncWriter
from grimjobs.stream.base import FramePublisher

log = logging.getLogger(__name__)


class FrameSink(Protocol):
    def take(self, ref: FrameRef) -> None: ...


class EncodeSink:
    """Encode, then log to sync.csv; sets `ref.index` to the frame's index in the video."""

    def __init__(self, encoder: VideoEncoder, sync: SyncWriter) -> None:
        self.encoder = encoder
        self.sync = sync
        self.encoded = 0
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self._last_pts = -1
        self._pending: list[tuple[int, int, int]] = []

    def take(self, ref: FrameRef) -> None:
        if self.first_ns is None:
            self.first_ns = ref.t_ns
        pts = max(pts_from_ns(ref.t_ns - self.first_ns), self._last_pts + 1)
        self.encoder.encode(ref.pixels, pts)
        ref.index = self.encoded
        self._log_sync(self.encoded, ref.t_ns, pts)
        self.encoded += 1
        self.last_ns = ref.t_ns
        self._last_pts = pts

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


class PublishSink:
    def __init__(self, publisher: FramePublisher) -> None:
        self.publisher = publisher
        self.published = 0

    def take(self, ref: FrameRef) -> None:
        self.publisher.publish(ref)
        self.published += 1


class SinkLoop:
    """Consumes captured frames in order until the capture loop's end marker (None)."""

    def __init__(
        self, frames: queue.SimpleQueue[FrameRef | None], sinks: Sequence[FrameSink], stop: threading.Event
    ) -> None:
        self.frames = frames
        self.sinks = tuple(sinks)
        self.stop = stop
        self.taken = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        sinks = self.sinks
        try:
            while (ref := self.frames.get()) is not None:
                try:
                    for sink in sinks:
                        sink.take(ref)
                    self.taken += 1
                finally:
                    ref.release()
        except BaseException as exc:
            self.error = exc
            log.debug("frame sink failed", exc_info=True)
            self.stop.set()
            while (ref := self.frames.get()) is not None:  # let the capture loop finish cleanly
                ref.release()

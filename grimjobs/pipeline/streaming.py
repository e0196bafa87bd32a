"""The `stream` job's configuration of the capture loop: source -> CaptureLoop -> [PublishSink].

The same loop, limits and accounting as `record` (`pipeline/loop.py`); the sinks are only the
GrimStream publisher, and CONTROL from viewers drives the loop's `LoopController`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from grimjobs.capture.base import CaptureSource
from grimjobs.clock import now_ns
from grimjobs.frames import FramePool, FrameRef
from grimjobs.pipeline.loop import CaptureLoop
from grimjobs.pipeline.sinks import PublishSink, SinkLoop
from grimjobs.playback import LoopController
from grimjobs.stream.base import FramePublisher

log = logging.getLogger("grimjobs.stream")

# Buffers: the one being grabbed, one in the queue, two held by the server's I/O thread.
STREAM_BUFFERS = 4
TICK_S = 0.01


def stream_frames(
    source: CaptureSource,
    publisher: FramePublisher,
    stop: threading.Event,
    controller: LoopController | None = None,
    tick: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Stream until a limit, `stop`, the source's end or an error; returns the loop's counters
    (`capture.loop` form) with `frames` (published) and `end_reason`. The source is opened and
    closed here; the publisher is opened (its STREAM_CONFIG set) but left for the caller to close."""
    fmt = source.open()
    try:
        publisher.open(fmt, source.settings.fps)
        pool = FramePool(fmt, STREAM_BUFFERS)
        frames: queue.SimpleQueue[FrameRef | None] = queue.SimpleQueue()
        loop = CaptureLoop(source, pool, frames, stop, controller)
        publish = PublishSink(publisher)
        sinks = SinkLoop(frames, [publish], stop)
        sink_thread = threading.Thread(target=sinks.run, name="publish", daemon=True)
        capture_thread = threading.Thread(target=loop.run, args=(now_ns(),), name="capture", daemon=True)
        sink_thread.start()
        capture_thread.start()
        try:
            while capture_thread.is_alive():
                if tick is not None:
                    tick()
                capture_thread.join(TICK_S)
        finally:
            stop.set()
            capture_thread.join()
            sink_thread.join()
        result = loop.stats()
        result["frames"] = publish.published
        result["end_reason"] = loop.end_reason
        error = loop.error or sinks.error
        result["error"] = None if error is None else f"{type(error).__name__}: {error}"
        if sinks.error is not None and loop.error is None:
            result["end_reason"] = f"publish error: {result['error']}"
        return result
    finally:
        source.close()

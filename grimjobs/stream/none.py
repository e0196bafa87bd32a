"""No live stream."""

from __future__ import annotations

from grimjobs.frames import FrameFormat, FrameRef
from grimjobs.stream.base import FramePublisher


class NoStream(FramePublisher):
    def open(self, fmt: FrameFormat, fps: float) -> None:
        pass

    def publish(self, frame: FrameRef) -> None:
        pass

    def close(self) -> None:
        pass

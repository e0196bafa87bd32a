"""The live frame publisher interface used by `record` (stream=...) and `stream`.

`publish` is called on the encode thread for every encoded frame and must never block it: a
publisher that sends later retains the FrameRef and releases it once sent or superseded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from grimjobs.frames import FrameFormat, FrameRef
from grimjobs.settings import Settings


class PublisherSettings(Settings):
    pass


class FramePublisher(ABC):
    Settings: ClassVar[type[PublisherSettings]] = PublisherSettings

    def __init__(self, settings: PublisherSettings) -> None:
        self.settings = settings

    @abstractmethod
    def open(self, fmt: FrameFormat, fps: float) -> None: ...

    @abstractmethod
    def publish(self, frame: FrameRef) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def stats(self) -> dict[str, int | float | str]:
        return {}

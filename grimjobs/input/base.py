"""The input device interface.

A device turns what the player does into full-state `InputSnapshot`s stamped with the recording
clock when the event is read. `poll` runs on the main thread (SDL requires event pumping there on
Windows) and hands each snapshot to `emit` (the actions.bin writer, a forwarder, ...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import ClassVar, Self

from grimjobs.session.actions import InputSnapshot
from grimjobs.settings import Settings

Emit = Callable[[InputSnapshot], None]


class InputSettings(Settings):
    pass


class InputDevice(ABC):
    Settings: ClassVar[type[InputSettings]] = InputSettings

    def __init__(self, settings: InputSettings) -> None:
        self.settings = settings
        self.events = 0  # input events read (not snapshots written)

    @abstractmethod
    def open(self, start_ns: int) -> None:
        """Open devices. `start_ns` is the recording's start on the recording clock."""

    @abstractmethod
    def poll(self, emit: Emit, timeout_s: float) -> int:
        """Read pending events (waiting up to `timeout_s` for the first), emit snapshots, return
        how many events were read."""

    def end_at(self, end_ns: int) -> None:  # noqa: B027 - only input generators care
        """The recording ended at `end_ns` (the capture schedule's last moment). A device that
        generates input itself (a script) plays nothing after it, so the last poll, which may run
        late on a loaded machine, records the same steps every time."""

    def close(self, emit: Emit | None = None) -> None:  # noqa: B027 - nothing to release by default
        """Release devices; a device may emit a final (neutral) snapshot through `emit`."""

    def stats(self) -> dict[str, int | float | str]:
        return {"events": self.events}

    def __enter__(self) -> Self:
        from grimjobs.clock import now_ns

        self.open(now_ns())
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

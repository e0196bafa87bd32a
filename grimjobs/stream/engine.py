"""Engine-side GrimStream API for any Python host, and a replayer of recorded state logs.

    with EnginePublisher("tcp://127.0.0.1:17500", build="dev") as engine:
        engine.state(frame=12, position=(0.5, 0.0, 1.0), yaw=90.0, events=["actor.walk"])
        engine.mark("hook.computer", {"frame": 12})

As the reference engine does, it numbers messages itself (`seq`), stamps `host_time_ns` from the
recording clock when not given, and waits for each viewer's CONTROL viewer_ready before sending it
state (messages published before that are queued for it, bounded).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.playback import MAX_STEP_FRAMES, check_control
from grimjobs.stream import protocol as p
from grimjobs.stream.server import StreamServer

log = logging.getLogger(__name__)


class EnginePublisher:
    def __init__(
        self,
        url: str = "tcp://127.0.0.1:17500",
        build: str | None = None,
        *,
        producer: str = "engine",
        allow_remote: bool = False,
        on_control: Callable[[p.Control, str], None] | None = None,
        max_backlog_bytes: int = 32 << 20,
    ) -> None:
        self.server = StreamServer(
            url,
            producer,
            build,
            allow_remote=allow_remote,
            gate_on_ready=True,
            max_backlog_bytes=max_backlog_bytes,
            on_control=on_control,
        )
        self._state_seq = itertools.count()
        self._mark_seq = itertools.count()

    def start(self) -> EnginePublisher:
        self.server.start()
        return self

    def close(self) -> None:
        self.server.close()

    def __enter__(self) -> EnginePublisher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        return self.server.url

    def state(
        self,
        *,
        frame: int | None = None,
        position: Sequence[float] | None = None,
        yaw: float | None = None,
        active_setup: str | None = None,
        active_hotspot: str | None = None,
        coverage: Mapping[str, int] | None = None,
        events: Iterable[str] = (),
        active_movie: str | None = None,
        host_time_ns: int | None = None,
    ) -> p.StateUpdate:
        update = p.StateUpdate(
            seq=next(self._state_seq),
            host_time_ns=now_ns() if host_time_ns is None else host_time_ns,
            frame=frame,
            position=None
            if position is None
            else (float(position[0]), float(position[1]), float(position[2])),
            yaw=yaw,
            active_setup=active_setup,
            active_hotspot=active_hotspot,
            coverage=tuple(p.CoverageCounter(k, v) for k, v in (coverage or {}).items()),
            events=tuple(events),
            active_movie=active_movie,
        )
        self.server.send(update)
        return update

    def mark(self, label: str, data: Any = None, host_time_ns: int | None = None) -> p.TimelineMark:
        mark = p.TimelineMark(
            next(self._mark_seq), now_ns() if host_time_ns is None else host_time_ns, label, data
        )
        self.server.send(mark)
        return mark

    def movie_start(self, name: str, relative_path: str) -> None:
        self.server.send(p.MovieStart(name, relative_path))


def load_state_log(path: Path) -> list[p.StateUpdate]:
    """A recorded state log: one JSON object per line in STATE_UPDATE form (seq, host_time_ns,
    frame, position, ...). Malformed lines are logged and skipped."""
    updates: list[p.StateUpdate] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
                value.setdefault("seq", len(updates))
                updates.append(p.StateUpdate.from_value(value))
            except (ValueError, AttributeError, p.ProtocolError) as exc:
                log.warning("%s:%d: not a state update, skipped (%s)", path, n, exc)
    return updates


class StateReplayer:
    """Replays a state log as STATE_UPDATEs at its original pace (gaps between `host_time_ns`),
    restamped on the live clock. CONTROL pause / resume / step / seek (seek: `frame_id` is the
    index of the update in the log) are honoured."""

    def __init__(
        self, updates: Sequence[p.StateUpdate], send: Callable[[p.Message], object], speed: float = 1.0
    ) -> None:
        self.updates = updates
        self.send = send
        self.speed = speed
        self.index = 0
        self.paused = False
        self._steps = 0
        self._cond = threading.Condition()
        self._rebase = True
        self.sent = 0

    def control(self, control: p.Control, peer: str = "") -> None:
        # The capture loop's bounds and rules (grimjobs.playback): bounded step/seek, and a
        # resume clears pending steps.
        refused = check_control(control)
        if refused is not None:
            log.warning("state replay: CONTROL from %s refused: %s", peer or "?", refused)
            return
        with self._cond:
            if control.kind == p.ControlKind.PAUSE:
                self.paused = True
            elif control.kind == p.ControlKind.RESUME:
                self.paused = False
                self._steps = 0
                self._rebase = True
            elif control.kind == p.ControlKind.STEP:
                self.paused = True
                self._steps = min(MAX_STEP_FRAMES, self._steps + (control.frames or 1))
            elif control.kind == p.ControlKind.SEEK and control.frame_id is not None:
                self.index = min(control.frame_id, len(self.updates))
                self._rebase = True
            self._cond.notify_all()

    def run(self, stop: threading.Event) -> None:
        base_src = base_live = 0
        while not stop.is_set():
            with self._cond:
                if self.index >= len(self.updates):
                    return
                if self.paused and not self._steps:
                    self._cond.wait(0.1)
                    continue
                update = self.updates[self.index]
                if self._rebase:
                    base_src, base_live, self._rebase = update.host_time_ns, now_ns(), False
                due = base_live + round((update.host_time_ns - base_src) / self.speed)
                wait_s = (due - now_ns()) / NS_PER_S
                if wait_s > 0 and not self._steps:
                    self._cond.wait(min(wait_s, 0.1))
                    continue
                stepping = self._steps > 0
                if stepping:
                    self._steps -= 1
                    self._rebase = True
                self.index += 1
            self.send(dataclasses.replace(update, seq=self.sent, host_time_ns=now_ns()))
            self.sent += 1

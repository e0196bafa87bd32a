"""The two things the viewer can show, as key-driven models that build a `Scene` per frame.

- `OfflineView`: a recorded session played at its recorded pace (gaps play as the pauses they
  were), stepped frame by frame or scrubbed, with the input in effect drawn over each frame.
- `LiveView`: a retail and an engine GrimStream aligned on the viewer's clock. Messages enter
  through `ingest(stream, event, local_ns)` (pure: tests call it directly); `feeds.py` runs the
  sockets. Pause and step are also sent to the producers as CONTROL.

Keys (names as the window reports them): space, left, right, home, end, d, r, q.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grimjobs.clock import NS_PER_S
from grimjobs.stream import client as c
from grimjobs.stream import protocol as p
from grimjobs.viewer.align import NS_PER_MS, Aligner, AlignMode, Gap, RingBuffer, Thresholds, ms
from grimjobs.viewer.model import EngineState, Mark, apply_update
from grimjobs.viewer.offline import SessionData, VideoReader
from grimjobs.viewer.render import InputView, PaneImage, Scene, SimView, TimelineView


def _seconds(ns: int | None) -> str:
    return "-" if ns is None else f"{ns / NS_PER_S:.1f} s"


# -- offline ----------------------------------------------------------------------------------


class OfflineView:
    """Plays a session: frame i of the video with the input snapshot in effect at its capture."""

    def __init__(
        self,
        session: SessionData,
        video: VideoReader,
        start_frame: int = 0,
        speed: float = 1.0,
        loop: bool = False,
    ) -> None:
        self.session = session
        self.video = video
        self.frames = min(len(video), session.frames) if session.frames else len(video)
        self.index = min(max(start_frame, 0), max(self.frames - 1, 0))
        self.speed = speed
        self.loop = loop
        self.paused = False
        self.diff = False
        self.quit = False
        self._origin: tuple[int, int] | None = None  # (local ns, frame time ns) when play started
        self._previous_pixels: np.ndarray | None = None

    @property
    def has_times(self) -> bool:
        return self.session.frames > 0

    def frame_time(self, index: int) -> int:
        if self.has_times and index < len(self.session.times_ns):
            return int(self.session.times_ns[index])
        return index * NS_PER_S // 30  # no sync.csv: assume 30 fps so playback still works

    @property
    def finished(self) -> bool:
        return self.index >= self.frames - 1 and not self.loop

    def key(self, name: str, now_ns: int) -> None:
        if name == "space":
            self.paused = not self.paused
            self._origin = None
        elif name in ("left", "right"):
            self.paused = True
            self.seek(self.index + (1 if name == "right" else -1))
        elif name == "home":
            self.seek(0)
        elif name == "end":
            self.seek(self.frames - 1)
        elif name == "d":
            self.diff = not self.diff
        elif name == "q":
            self.quit = True

    def seek(self, index: int) -> None:
        self.index = min(max(index, 0), self.frames - 1)
        self._origin = None

    def seek_fraction(self, fraction: float) -> None:
        """Scrubber click: the frame nearest that fraction of the recorded time span."""
        t0, t1 = self.frame_time(0), self.frame_time(self.frames - 1)
        target = t0 + fraction * (t1 - t0)
        times = self.session.times_ns[: self.frames] if self.has_times else None
        if times is None or len(times) == 0:
            self.seek(round(fraction * (self.frames - 1)))
        else:
            self.seek(int(np.argmin(np.abs(times - target))))

    def step(self) -> None:
        """Advance one frame (headless rendering of `frames=N`)."""
        if self.index < self.frames - 1:
            self.index += 1
        elif self.loop:
            self.index = 0

    def tick(self, now_ns: int) -> None:
        """Move to the frame whose recorded moment matches the time played so far."""
        if self.paused or self.frames == 0:
            return
        if self._origin is None:
            self._origin = (now_ns, self.frame_time(self.index))
            return
        local0, frame0 = self._origin
        target = frame0 + int((now_ns - local0) * self.speed)
        if self.has_times:
            times = self.session.times_ns[: self.frames]
            index = int(np.searchsorted(times, target, side="right")) - 1
        else:
            index = self.index + 1
        if index >= self.frames - 1 and self.loop and target > self.frame_time(self.frames - 1):
            self.seek(0)
            return
        self.index = min(max(index, self.index), self.frames - 1)

    def scene(self) -> Scene:
        session, i = self.session, self.index
        pixels = self.video.frame(i) if self.frames else None
        t = self.frame_time(i)
        t0 = self.frame_time(0)
        t_end = self.frame_time(self.frames - 1) if self.frames else t0
        span = max(1, t_end - t0)
        in_effect = session.snapshot_at(t) if self.has_times else None
        snapshot = in_effect[1] if in_effect else None
        history_t, history_axes = (
            session.history(t, 2 * NS_PER_S) if self.has_times else (np.zeros(0), np.zeros((0, 6)))
        )
        summary = session.summary
        nominal = summary.get("nominal_fps")
        effective = (self.frames - 1) * NS_PER_S / span if self.frames > 1 else 0.0
        interval = t - self.frame_time(i - 1) if i > 0 else None
        hud = [
            f"session {session.path.name}  {self.frames} frames  {span / NS_PER_S:.2f} s  "
            f"{effective:.2f} fps (nominal {nominal if nominal is not None else '-'})  "
            f"video {self.video.width}x{self.video.height}  gaps {len(session.gaps)}",
            f"frame {i}/{self.frames - 1}  t=+{(t - t0) / NS_PER_S:.3f} s  monotonic {t}  "
            f"interval {'-' if interval is None else f'{interval / NS_PER_MS:.1f} ms'}",
        ]
        warnings = list(session.warnings)
        if in_effect is not None:
            record, snap = in_effect
            hud.append(
                f"input record {record + 1}/{len(session.snapshots)}  captured "
                f"{(t - snap.monotonic_ns) / NS_PER_MS:.1f} ms before the frame  reason {snap.reason}"
            )
        elif self.has_times:
            hud.append(f"input: none recorded before this frame ({len(session.snapshots)} records)")
        for gap in session.gaps:
            if gap.end_ns == t:
                warnings.append(f"GAP: {gap.duration_ns() / NS_PER_MS:.0f} ms without frames before this one")
        hud.append("keys: space play/pause  left/right step  home/end  d diff  q quit  click the bar to seek")
        timeline = TimelineView(
            position=(t - t0) / span,
            label=f"frame {i}/{self.frames - 1}   +{(t - t0) / NS_PER_S:.3f} s of {span / NS_PER_S:.3f} s",
            gaps=[
                ((g.start_ns - t0) / span, (g.end_ns - t0) / span)
                for g in session.gaps
                if g.end_ns is not None
            ],
            marks=session.event_marks(),
        )
        previous = self._previous_pixels
        self._previous_pixels = pixels
        return Scene(
            left=PaneImage(pixels, caption=f"session frame {i}  +{(t - t0) / NS_PER_S:.3f} s"),
            inputs=InputView(
                snapshot,
                history_t,
                history_axes,
                caption="input in effect at this frame (axes: -2 s .. +2 s)",
                info_lines=[f"{session.path}"],
            ),
            hud=hud,
            warnings=warnings,
            timeline=timeline,
            title=f"grimjobs view  offline  {session.path.name}",
            paused=self.paused,
            diff=self.diff,
            previous_left=previous if self.diff else None,
        )


# -- live -------------------------------------------------------------------------------------


@dataclass(slots=True)
class FrameRecord:
    """A received FRAME. `pixels` (RGB, copied off the receive buffer) is kept only for the
    newest `keep_frames`; older records keep their metadata for stepping and the HUD."""

    frame_id: int
    host_time_ns: int
    t_ns: int  # viewer time
    telemetry_time_ns: int | None
    pixels: np.ndarray | None


@dataclass(slots=True)
class LiveSettings:
    frame_capacity: int = 600
    state_capacity: int = 8192
    keep_frames: int = 16
    trail_seconds: float = 30.0
    mode: AlignMode = "first_message"
    gap_min_ns: int = 250 * NS_PER_MS
    gap_factor: float = 4.0
    thresholds: Thresholds | None = None
    plane: str = "xy"
    # MOVIE_START answers (after an immediate ack): "finished" / "skipped" at once, or "key": wait
    # for the `m` key (skipped). With movie_root, a relative_path not found there answers error.
    movie_answer: str = "finished"
    movie_root: Path | None = None


Sender = Callable[[str, Any], bool]  # (stream name, protocol message) -> sent


class LiveView:
    """Two aligned GrimStreams. Thread-safe: feeds call `ingest` from their threads."""

    def __init__(self, settings: LiveSettings, urls: dict[str, str | None]) -> None:
        self.settings = settings
        self.urls = urls
        self.aligner: Aligner[FrameRecord, EngineState] = Aligner(
            settings.frame_capacity,
            settings.state_capacity,
            settings.mode,
            settings.gap_min_ns,
            settings.gap_factor,
            settings.thresholds,
        )
        self.marks: RingBuffer[Mark] = RingBuffer(512)
        self.state = EngineState()
        self.config: Any = None  # the retail StreamConfig
        self.lock = threading.Lock()
        self.paused = False
        self.diff = False
        self.quit = False
        self.reconnect_requested = False
        self.follow_next = False
        self.displayed: FrameRecord | None = None
        self.bad_frames = 0
        self.protocol_problems: deque[str] = deque(maxlen=4)
        self.status: dict[str, str] = {name: "waiting" for name in ("retail", "engine")}
        self.hello: dict[str, str] = {}
        self._with_pixels: deque[FrameRecord] = deque()
        self._bounds: list[float] | None = None
        self._labels: dict[str, set[str]] = {"retail": set(), "engine": set()}
        self.send: Sender = lambda stream, message: False
        self.controls_sent: list[str] = []
        self.movie: str | None = None  # the HUD's movie line
        self.movie_pending: dict[str, str] = {}  # stream -> movie awaiting the `m` key
        self._movie_answers: list[p.MovieControl] = []
        self._handlers: dict[p.MessageKind, Callable[[str, Any, Any, int], None]] = {
            p.MessageKind.HELLO: self._on_hello,
            p.MessageKind.STREAM_CONFIG: self._on_config,
            p.MessageKind.FRAME: self._on_frame,
            p.MessageKind.STATE_UPDATE: self._on_state,
            p.MessageKind.TIMELINE_MARK: self._on_mark,
            p.MessageKind.TELEMETRY: self._on_telemetry,
            p.MessageKind.HEARTBEAT: self._on_heartbeat,
            p.MessageKind.MOVIE_START: self._on_movie_start,
        }
        self._plane_axes = tuple("xyz".index(axis) for axis in settings.plane[:2])  # per trail point

    # -- ingest (called by feeds, or directly by tests) -------------------------------------------

    def ingest(self, stream: str, event: Any, local_ns: int) -> None:
        """One client event of `stream` ("retail" or "engine"), received at local_ns."""
        track = self.aligner.retail if stream == "retail" else self.aligner.engine
        with self.lock:
            if isinstance(event, c.Connected):
                track.connect(local_ns)
                self.status[stream] = "connected"
            elif isinstance(event, c.Disconnected):
                if track.connected:
                    track.disconnect(local_ns)
                self.status[stream] = f"disconnected: {event.reason}"
            elif isinstance(event, p.Message):
                handler = self._handlers.get(event.KIND)
                if handler is not None:
                    handler(stream, track, event, local_ns)
            elif isinstance(event, p.Rejected | p.Skipped):
                self.protocol_problems.append(f"{stream}: {getattr(event, 'reason', 'unknown kind')}")

        for answer in self._movie_answers:
            self.send(stream, answer)
        self._movie_answers.clear()

    # -- one handler per message kind (dispatch by KIND, called with the lock held) ------------

    def _on_hello(self, stream: str, track: Any, event: p.Hello, local_ns: int) -> None:
        self.hello[stream] = f"{event.producer} {event.build or ''}".strip()

    def _on_config(self, stream: str, track: Any, event: p.StreamConfig, local_ns: int) -> None:
        if stream == "retail":
            self.config = event
        track.nominal_fps = event.nominal_fps

    def _on_frame(self, stream: str, track: Any, event: p.Frame, local_ns: int) -> None:
        self._frame(stream, event, local_ns)

    def _on_state(self, stream: str, track: Any, event: p.StateUpdate, local_ns: int) -> None:
        self.state = apply_update(self.state, event)
        # states go to the engine track whichever connection carried them
        t = self.aligner.engine.add(event.host_time_ns, local_ns, self.state)
        if event.position is not None:
            self._grow_bounds(event.position)
        for label in event.events:
            self.marks.append(t, Mark(t, "event", label, event.seq))
            self._remember_label(stream, label)

    def _on_mark(self, stream: str, track: Any, event: p.TimelineMark, local_ns: int) -> None:
        track.clock.observe(event.host_time_ns, local_ns)
        t = track.clock.to_local(event.host_time_ns)
        self.marks.append(t, Mark(t, "mark", f"[{stream}] {event.label}", event.seq))
        self._remember_label(stream, event.label)

    def _on_telemetry(self, stream: str, track: Any, event: p.Telemetry, local_ns: int) -> None:
        self.marks.append(local_ns, Mark(local_ns, "telemetry", f"[{stream}] {event.label}", event.seq))
        self._remember_label(stream, event.label)

    def _on_heartbeat(self, stream: str, track: Any, event: p.Heartbeat, local_ns: int) -> None:
        track.heartbeat(event.host_time_ns, local_ns)

    def _on_movie_start(self, stream: str, track: Any, event: p.MovieStart, local_ns: int) -> None:
        """The reference engine waits (no timeout) for MOVIE_CONTROL: ack at once, then finished /
        skipped per `movie_answer` (or the `m` key), error when the file is not under movie_root."""
        self.marks.append(local_ns, Mark(local_ns, "mark", f"[{stream}] movie {event.name}"))
        self._movie_answers.append(p.MovieControl(event.name, p.MovieAction.ACK.value))
        root = self.settings.movie_root
        if root is not None and event.relative_path and not (root / event.relative_path).is_file():
            missing = f"{root / event.relative_path} not found"
            self._movie_answers.append(p.MovieControl(event.name, p.MovieAction.ERROR.value, missing))
            self.movie = f"movie {event.name}: error ({missing})"
        elif self.settings.movie_answer == "key":
            self.movie_pending[stream] = event.name
            self.movie = f"movie {event.name}: playing (m skips)"
        else:
            self._movie_answers.append(p.MovieControl(event.name, self.settings.movie_answer))
            self.movie = f"movie {event.name}: {self.settings.movie_answer}"

    def _skip_movies(self) -> None:
        for stream, name in list(self.movie_pending.items()):
            if self.send(stream, p.MovieControl(name, p.MovieAction.SKIPPED.value)):
                self.movie = f"movie {name}: skipped"
            del self.movie_pending[stream]

    def _frame(self, stream: str, frame: Any, local_ns: int) -> None:
        track = self.aligner.retail  # frames go to the retail track whichever connection carried them
        pixels = self._pixels(frame)
        if pixels is None:
            self.bad_frames += 1
        record = FrameRecord(frame.frame_id, frame.host_time_ns, 0, frame.telemetry_time_ns, pixels)
        record.t_ns = track.add(frame.host_time_ns, local_ns, record, item_id=frame.frame_id)
        if pixels is not None:
            self._with_pixels.append(record)
            while len(self._with_pixels) > self.settings.keep_frames:
                old = self._with_pixels.popleft()
                if old is not self.displayed:
                    old.pixels = None
        if self.follow_next:
            self.displayed = record
            self.follow_next = False

    def _pixels(self, frame: Any) -> np.ndarray | None:
        """RGB copy of a FRAME's RGBA8 data per the last STREAM_CONFIG (the receive buffer is
        recycled, so the viewer keeps its own copy)."""
        config = self.config
        if config is None:
            return None
        width, height, stride = config.width, config.height, config.stride_bytes
        data = memoryview(frame.data)
        if width == 0 or height == 0 or stride < width * 4 or data.nbytes < stride * height:
            return None
        rows = np.frombuffer(data, dtype=np.uint8, count=stride * height).reshape(height, stride)
        return rows[:, : width * 4].reshape(height, width, 4)[:, :, :3].copy()

    def _grow_bounds(self, position: tuple[float, float, float]) -> None:
        a, b = self._plane(position)
        if self._bounds is None:
            self._bounds = [a - 0.5, b - 0.5, a + 0.5, b + 0.5]
        else:
            bounds = self._bounds
            bounds[0], bounds[1] = min(bounds[0], a), min(bounds[1], b)
            bounds[2], bounds[3] = max(bounds[2], a), max(bounds[3], b)

    def _plane(self, position: tuple[float, float, float]) -> tuple[float, float]:
        first, second = self._plane_axes
        return position[first], position[second]

    def _remember_label(self, stream: str, label: str) -> None:
        labels = self._labels[stream]
        if len(labels) < 4096:
            labels.add(label)

    # -- keys ----------------------------------------------------------------------------------

    def key(self, name: str, now_ns: int) -> None:
        if name == "space":
            self.paused = not self.paused
            if self.paused:
                with self.lock:
                    self._hold_displayed()
            self._control(p.Control.pause() if self.paused else p.Control.resume())
        elif name in ("left", "right"):
            with self.lock:
                if not self.paused:
                    self.paused = True
                    self._hold_displayed()
                    self._control(p.Control.pause())
                self._step(+1 if name == "right" else -1)
        elif name == "d":
            self.diff = not self.diff
        elif name == "r":
            self.reconnect_requested = True
        elif name == "m":
            self._skip_movies()
        elif name == "q":
            self.quit = True

    def _hold_displayed(self) -> None:
        newest = self.aligner.retail.ring.last()
        if newest is not None:
            # its pixels stay while it is displayed: _frame never drops the displayed frame's
            self.displayed = newest[1]

    def _step(self, direction: int) -> None:
        ring = self.aligner.retail.ring
        current = self.displayed
        if current is None:
            self._control(p.Control.step(1))
            self.follow_next = True
            return
        index = ring.index_of(current.t_ns) + direction
        if 0 <= index < len(ring):
            self.displayed = ring.items[index]
            if direction < 0:
                self._control(p.Control.seek(self.displayed.frame_id))
        elif direction > 0:
            # at the newest frame: ask the producer for one more and show it when it comes
            self._control(p.Control.step(1))
            self.follow_next = True

    def _control(self, message: Any) -> None:
        for stream in ("retail", "engine"):
            if self.urls.get(stream) and self.send(stream, message):
                self.controls_sent.append(f"{stream}:{message.kind}")

    # -- scene ---------------------------------------------------------------------------------

    def displayed_frame(self) -> FrameRecord | None:
        if self.paused or self.follow_next:
            return self.displayed
        newest = self.aligner.retail.ring.last()
        self.displayed = newest[1] if newest is not None else None
        return self.displayed

    def scene(self, now_ns: int) -> Scene:
        with self.lock:
            return self._scene(now_ns)

    def _scene(self, now_ns: int) -> Scene:
        aligner = self.aligner
        frame = self.displayed_frame()
        # Without frames, the state view follows the newest state.
        if frame is not None:
            t = frame.t_ns
        else:
            last_state = aligner.engine.ring.last()
            t = last_state[0] if last_state is not None else now_ns
        nearest = aligner.nearest_state(t)
        state = nearest[1] if nearest is not None else None
        trail_from = t - int(self.settings.trail_seconds * NS_PER_S)
        positions = [
            self._plane(s.position) for _, s in aligner.engine.ring.between(trail_from, t) if s.position
        ]
        trail = np.array(positions, dtype=np.float64).reshape(-1, 2)
        info = aligner.hud(now_ns, frame.t_ns if frame is not None else None)
        hud = [self._stream_line(info.retail, "fps"), self._stream_line(info.engine, "upd/s")]
        between = "retail-engine clock offset " + (
            "-" if info.inter_offset_ns is None else ms(info.inter_offset_ns)
        )
        between += "  drift " + ("-" if info.inter_drift_ns is None else ms(info.inter_drift_ns))
        if frame is not None:
            between += f"   showing frame #{frame.frame_id}"
            if frame.telemetry_time_ns is not None:
                between += f" (game tick {frame.telemetry_time_ns / NS_PER_S:.3f} s)"
        if nearest is not None:
            between += f"   nearest state seq {nearest[1].seq} at {ms(nearest[2])}"
        hud.append(between)
        gaps: list[Gap] = sorted(
            list(aligner.retail.gaps) + list(aligner.engine.gaps), key=lambda g: g.start_ns
        )
        if gaps:
            g = gaps[-1]
            hud.append(
                f"gaps retail {len(aligner.retail.gaps)} engine {len(aligner.engine.gaps)}; last: "
                f"{g.stream} {g.kind} {g.duration_ns(now_ns) / NS_PER_S:.2f} s, "
                f"{_seconds(now_ns - (g.end_ns or now_ns))} ago"
            )
        warnings = list(info.warnings)
        if self.bad_frames:
            warnings.append(f"retail: {self.bad_frames} frames not matching STREAM_CONFIG")
        warnings += list(self.protocol_problems)
        if self.movie is not None:
            warnings.append(self.movie)
        recent = [m for _, m in self.marks.between(t - 30 * NS_PER_S, t)][-40:]
        diff_lines: list[str] = []
        if self.diff:
            only_retail = sorted(self._labels["retail"] - self._labels["engine"])
            only_engine = sorted(self._labels["engine"] - self._labels["retail"])
            diff_lines = [f"only retail: {label}" for label in only_retail[:20]]
            diff_lines += [f"only engine: {label}" for label in only_engine[:20]]
            if not diff_lines:
                diff_lines = ["retail and engine labels agree"]
        timeline = self._timeline(t)
        previous = None
        if self.diff and frame is not None:
            ring = aligner.retail.ring
            index = ring.index_of(frame.t_ns)
            if index > 0:
                previous = ring.items[index - 1].pixels
        left = PaneImage(
            frame.pixels if frame is not None else None,
            caption=f"retail  frame #{frame.frame_id}" if frame is not None else "retail",
            missing=("pixels no longer buffered" if frame is not None else self._waiting("retail")),
        )
        sim = SimView(
            state,
            trail,
            tuple(self._bounds) if self._bounds is not None else None,  # type: ignore[arg-type]
            recent,
            caption=f"engine (top-down {self.settings.plane})  {self.hello.get('engine', '')}",
            diff_lines=diff_lines,
        )
        return Scene(
            left=left,
            sim=sim,
            hud=hud,
            warnings=warnings,
            timeline=timeline,
            title=f"grimjobs view  live  retail {self.urls.get('retail') or 'off'}  "
            f"engine {self.urls.get('engine') or 'off'}",
            paused=self.paused,
            diff=self.diff,
            previous_left=previous,
        )

    def _waiting(self, stream: str) -> str:
        if not self.urls.get(stream):
            return f"{stream} stream off"
        return f"{stream}: {self.status.get(stream, 'waiting')}"

    def _stream_line(self, h: Any, unit: str) -> str:
        url = self.urls.get(h.name)
        if not url:
            return f"{h.name}: off"
        state = "connected" if h.connected else self.status.get(h.name, "waiting")
        nominal = f" (nominal {h.nominal_fps:g})" if h.nominal_fps else ""
        return (
            f"{h.name} {state[:40]}  {h.fps:.1f} {unit}{nominal}  recv {h.received}  dropped {h.dropped}  "
            f"gaps {h.gaps}  heartbeat {_seconds(h.heartbeat_age_ns)} ago  offset "
            f"{'-' if h.offset_ns is None else ms(h.offset_ns)}  drift {ms(h.drift_ns)}"
        )

    def _timeline(self, t: int) -> TimelineView:
        """The buffered span of both streams: gaps in red, marks as ticks, the frame as cursor."""
        starts = [
            x
            for x in (self.aligner.retail.ring.first_time(), self.aligner.engine.ring.first_time())
            if x is not None
        ]
        ends = [
            r[0] for r in (self.aligner.retail.ring.last(), self.aligner.engine.ring.last()) if r is not None
        ]
        if not starts or not ends:
            return TimelineView(0.0, "buffer empty")
        start, end = min(starts), max(max(ends), t)
        span = max(1, end - start)
        gaps = [
            ((g.start_ns - start) / span, ((g.end_ns or end) - start) / span)
            for g in list(self.aligner.retail.gaps) + list(self.aligner.engine.gaps)
            if (g.end_ns or end) >= start
        ]
        marks = [(m.t_ns - start) / span for _, m in self.marks.between(start, end)][-200:]
        return TimelineView(
            (t - start) / span,
            f"buffered {span / NS_PER_S:.1f} s   {'PAUSED: left/right step' if self.paused else 'live'}",
            gaps,
            marks,
        )

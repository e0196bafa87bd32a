"""The producer side of GrimStream: one listening socket, any number of subscribers.

One I/O thread owns every socket (non-blocking, a selector). Callers on other threads hand it
work without blocking:

- `publish_frame(...)` never copies pixels: the frame goes out as header + map prefix + bin
  header + a view of the pixels in one `sendmsg`. Per subscriber, frames are latest-wins: a frame
  still waiting when the next arrives is dropped for that subscriber and counted. A frame being
  written is always finished (messages never interleave).
- `send(message)` (telemetry, state, timeline, movie) is reliable: queued per subscriber in order.
  A subscriber whose queue exceeds `max_backlog_bytes` is disconnected with a logged reason
  instead of losing messages silently or growing memory.

On connect a subscriber gets HELLO, then STREAM_CONFIG (if known; again on every format change).
HEARTBEAT goes out to a subscriber that has been sent nothing for `heartbeat_s`. What viewers send
is parsed with a small payload limit; CONTROL goes to `on_control`; nothing they send can crash
the server: bad magic/version closes that connection, the rest is logged and skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.stream import protocol as p
from grimjobs.stream.transport import Endpoint, bound_endpoint, listen, parse_url, tune

log = logging.getLogger(__name__)

INBOUND_MAX_PAYLOAD = 1 << 20  # viewers only send small control messages
_IOV_MAX = 64


PixelBuffer = Any  # anything exporting the buffer protocol: bytes, memoryview, numpy array


class SharedFrame:
    """One frame's wire bytes shared by every subscriber that will send it.

    `materialize` (optional) runs once, on the I/O thread, the first time a subscriber is about to
    send it (e.g. a pixel-format conversion): frames superseded before that cost nothing.
    `release` runs once when no subscriber holds the frame any more.
    """

    __slots__ = (
        "_data",
        "_lock",
        "_materialize",
        "_prefix",
        "_refs",
        "_release",
        "frame_id",
        "host_time_ns",
        "telemetry_time_ns",
    )

    def __init__(
        self,
        frame_id: int,
        host_time_ns: int,
        data: PixelBuffer | None,
        release: Callable[[], None] | None = None,
        materialize: Callable[[], tuple[PixelBuffer, Callable[[], None] | None]] | None = None,
        telemetry_time_ns: int | None = None,
    ) -> None:
        self.frame_id = frame_id
        self.host_time_ns = host_time_ns
        self.telemetry_time_ns = telemetry_time_ns
        self._data = data
        self._release = release
        self._materialize = materialize
        self._prefix: bytes | None = None
        self._refs = 0
        self._lock = threading.Lock()

    def retain(self) -> None:
        with self._lock:
            self._refs += 1

    def release(self) -> bool:
        """Drop one reference; True when that handed the buffer back to its owner."""
        with self._lock:
            self._refs -= 1
            done = self._refs == 0
        return self._drop() if done else False

    def _drop(self) -> bool:
        release, self._release = self._release, None
        self._data = None
        if release is None:
            return False
        release()
        return True

    def buffers(self) -> list[memoryview]:
        if self._materialize is not None:
            materialize, self._materialize = self._materialize, None
            data, new_release = materialize()
            old_release, self._release = self._release, new_release
            self._data = data
            if old_release is not None:  # the source buffer is no longer needed
                old_release()
        assert self._data is not None
        view = memoryview(self._data).cast("B")
        if self._prefix is None:
            frame = p.Frame(self.frame_id, self.host_time_ns, view, self.telemetry_time_ns)
            self._prefix = frame.prefix(view.nbytes)
        return [memoryview(self._prefix), view]


@dataclass
class Subscriber:
    sock: socket.socket
    peer: str
    parser: p.FrameParser
    ready: bool = False
    reliable: deque[bytes] = field(default_factory=deque)
    reliable_bytes: int = 0
    pending_frame: SharedFrame | None = None
    inflight: list[memoryview] = field(default_factory=list)
    inflight_frame: SharedFrame | None = None
    last_sent_ns: int = 0
    frames_sent: int = 0
    frames_dropped: int = 0
    messages_sent: int = 0
    bytes_sent: int = 0
    close_reason: str | None = None
    writing: bool = False
    room_made: bool = False  # taking the last pending frame woke a wait_for_room caller

    def has_output(self) -> bool:
        return bool(
            self.inflight or self.reliable or (self.pending_frame is not None and self.ready_for_frames)
        )

    ready_for_frames: bool = True


ControlHandler = Callable[[p.Control, str], None]


class StreamServer:
    """Listen on `url`; broadcast to every connected viewer. Thread-safe entry points:
    `set_config`, `publish_frame`, `send`, `stats`, `close`."""

    def __init__(
        self,
        url: str,
        producer: str,
        build: str | None = None,
        *,
        allow_remote: bool = False,
        gate_on_ready: bool = False,
        max_backlog_bytes: int = 32 << 20,
        heartbeat_s: float = 1.0,
        on_control: ControlHandler | None = None,
        key: str = "stream.url",
    ) -> None:
        self.endpoint: Endpoint = parse_url(url, key)
        self.hello = p.Hello(producer=producer, build=build)
        self.allow_remote = allow_remote
        self.gate_on_ready = gate_on_ready
        self.max_backlog_bytes = max_backlog_bytes
        self.heartbeat_ns = round(heartbeat_s * NS_PER_S)
        self.on_control = on_control
        self.key = key
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # a pending frame was taken or dropped
        self._room_waiters = 0
        self._subs: dict[int, Subscriber] = {}
        self._config: p.StreamConfig | None = None
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._sel = selectors.DefaultSelector()
        self.connections = 0
        self.disconnects: list[str] = []
        self.frames_published = 0
        self.controls_received = 0

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> StreamServer:
        self._listener = listen(self.endpoint, self.allow_remote, self.key)
        self.endpoint = bound_endpoint(self._listener, self.endpoint)
        self._sel.register(self._listener, selectors.EVENT_READ, "listen")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._run, name="grimstream-io", daemon=True)
        self._thread.start()
        log.info("GrimStream %s producer listening on %s", self.hello.producer, self.endpoint.url)
        return self

    @property
    def url(self) -> str:
        return self.endpoint.url

    def close(self, timeout_s: float = 2.0) -> None:
        """Flush what is queued (up to `timeout_s`), then close every connection."""
        if self._thread is None:
            return
        self._flush_deadline_ns = now_ns() + round(timeout_s * NS_PER_S)
        self._stop.set()
        self._wake()
        self._thread.join(timeout_s + 1.0)
        self._thread = None

    def __enter__(self) -> StreamServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- producer API
    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)

    def set_config(self, config: p.StreamConfig) -> None:
        """The frame format; (re)sent to every subscriber when it changes. Frames of the old
        format still waiting are dropped."""
        with self._lock:
            if config == self._config:
                return
            self._config = config
            wire = config.encode()
            for sub in self._subs.values():
                if sub.pending_frame is not None:
                    sub.pending_frame.release()
                    sub.pending_frame = None
                    sub.frames_dropped += 1
                self._enqueue(sub, wire)
            self._room_made()
        self._wake()

    def wait_for_room(self, timeout_s: float | None = None) -> bool:
        """Wait until no subscriber has a frame waiting to be sent (each has taken the last one,
        or left), so the next `publish_frame` supersedes nothing. For producers that want every
        frame delivered as fast as the slowest viewer takes them (a replay, the benchmark);
        `publish_frame` itself never waits. False on timeout."""
        with self._room:
            self._room_waiters += 1
            try:
                return self._room.wait_for(self._has_room, timeout_s)
            finally:
                self._room_waiters -= 1

    def _has_room(self) -> bool:
        return all(
            s.pending_frame is None or s.close_reason is not None or not s.ready_for_frames
            for s in self._subs.values()
        )

    def _room_made(self) -> bool:
        """(lock held) Wake `wait_for_room` callers; True when there were any."""
        if self._room_waiters:
            self._room.notify_all()
            return True
        return False

    def publish_frame(self, frame: SharedFrame) -> bool:
        """Offer a frame to every subscriber (latest-wins each). Returns False (and releases
        nothing: the caller keeps ownership) when nobody is connected."""
        with self._lock:
            subs = [s for s in self._subs.values() if s.close_reason is None]
            if not subs:
                return False
            self.frames_published += 1
            wake = False
            for sub in subs:
                frame.retain()
                if sub.pending_frame is not None:
                    sub.pending_frame.release()
                    sub.frames_dropped += 1
                sub.pending_frame = frame
                # A subscriber still writing takes the pending frame itself as soon as its current
                # message is done (it looks under this lock): only an idle one needs the I/O thread
                # woken. Saves a syscall and a select round-trip per frame at full rate.
                wake = wake or not sub.inflight
        if wake:
            self._wake()
        return True

    def send(self, message: p.Message) -> int:
        """Queue a message reliably for every subscriber; returns how many it was queued for."""
        wire = message.encode()
        with self._lock:
            n = 0
            for sub in self._subs.values():
                if sub.close_reason is None:
                    self._enqueue(sub, wire)
                    n += 1
        if n:
            self._wake()
        return n

    def stats(self) -> dict[str, int | float | str]:
        with self._lock:
            subs = list(self._subs.values())
        return {
            "url": self.url,
            "subscribers": len(subs),
            "connections": self.connections,
            "disconnects": len(self.disconnects),
            "frames_published": self.frames_published,
            "frames_sent": sum(s.frames_sent for s in subs),
            "frames_dropped": sum(s.frames_dropped for s in subs),
            "controls_received": self.controls_received,
        }

    def subscriber_stats(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "peer": s.peer,
                    "ready": s.ready,
                    "frames_sent": s.frames_sent,
                    "frames_dropped": s.frames_dropped,
                    "messages_sent": s.messages_sent,
                    "queued_bytes": s.reliable_bytes,
                }
                for s in self._subs.values()
            ]

    # ---------------------------------------------------------------- internals (lock held)
    def _enqueue(self, sub: Subscriber, wire: bytes) -> None:
        if sub.close_reason is not None:
            return
        if sub.reliable_bytes + len(wire) > self.max_backlog_bytes:
            sub.close_reason = (
                f"subscriber could not keep up: {sub.reliable_bytes} bytes of telemetry/state queued "
                f"(limit {self.max_backlog_bytes})"
            )
            return
        sub.reliable.append(wire)
        sub.reliable_bytes += len(wire)

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"\0")

    # ---------------------------------------------------------------- I/O thread
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._update_interest()
                for key, mask in self._sel.select(timeout=0.25):
                    tag = key.data
                    if tag == "listen":
                        self._accept()
                    elif tag == "wake":
                        with contextlib.suppress(BlockingIOError, OSError):
                            while self._wake_r.recv(4096):
                                pass
                    else:
                        sub: Subscriber = tag
                        if mask & selectors.EVENT_READ:
                            self._read(sub)
                        if mask & selectors.EVENT_WRITE and sub.close_reason is None:
                            self._write(sub)
                self._heartbeats()
                self._reap()
            self._final_flush()
        except Exception:  # the stream must never take the recording down with it
            log.exception("GrimStream I/O thread failed; live stream stopped")
        finally:
            self._shutdown()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                conn, addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("GrimStream accept failed: %s", exc)
                return
            conn.setblocking(False)
            tune(conn)
            peer = str(addr) if addr else "unix"
            sub = Subscriber(conn, peer, p.FrameParser(INBOUND_MAX_PAYLOAD, payload_buffers=1))
            sub.ready_for_frames = not self.gate_on_ready
            with self._lock:
                self._enqueue(sub, self.hello.encode())
                if self._config is not None:
                    self._enqueue(sub, self._config.encode())
                self._subs[id(sub)] = sub
            sub.last_sent_ns = now_ns()
            self._sel.register(conn, selectors.EVENT_READ, sub)
            self.connections += 1
            log.info("GrimStream viewer connected from %s (%d connected)", peer, len(self._subs))

    def _read(self, sub: Subscriber) -> None:
        try:
            n = sub.sock.recv_into(sub.parser.buffer())
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:
            self._mark_closed(sub, "viewer closed the connection")
            return
        except OSError as exc:
            self._mark_closed(sub, f"read failed: {exc}")
            return
        except p.FatalStreamError as exc:
            self._mark_closed(sub, f"protocol error: {exc}")
            return
        if n == 0:
            self._mark_closed(sub, "viewer closed the connection")
            return
        try:
            events = sub.parser.advance(n)
        except p.FatalStreamError as exc:
            self._mark_closed(sub, f"protocol error: {exc}")
            return
        for event in events:
            if isinstance(event, p.Control):
                self.controls_received += 1
                if event.kind == p.ControlKind.VIEWER_READY:
                    with self._lock:
                        sub.ready = True
                        sub.ready_for_frames = True
                    log.info(
                        "GrimStream viewer %s ready (protocol %s, features %s)",
                        sub.peer,
                        event.protocol,
                        list(event.features),
                    )
                if self.on_control is not None:
                    try:
                        self.on_control(event, sub.peer)
                    except Exception:
                        log.exception("CONTROL handler failed for %s", event)
            elif isinstance(event, p.Skipped):
                log.warning(
                    "GrimStream: skipped unknown message kind %d (%d bytes) from %s",
                    event.kind,
                    event.length,
                    sub.peer,
                )
            elif isinstance(event, p.Rejected):
                log.warning(
                    "GrimStream: rejected message kind %d from %s: %s", event.kind, sub.peer, event.reason
                )
            elif isinstance(event, p.Heartbeat | p.Hello | p.MovieControl):
                log.debug("GrimStream: %s from %s", type(event).__name__, sub.peer)
            else:
                log.info("GrimStream: ignoring %s from viewer %s", type(event).__name__, sub.peer)

    def _next_output(self, sub: Subscriber) -> bool:
        """Load the next message into sub.inflight (lock held). False when nothing is queued."""
        if sub.reliable:
            wire = sub.reliable.popleft()
            sub.reliable_bytes -= len(wire)
            sub.inflight = [memoryview(wire)]
            return True
        if sub.pending_frame is not None and sub.ready_for_frames:
            frame, sub.pending_frame = sub.pending_frame, None
            sub.room_made = self._room_made()
            sub.inflight_frame = frame
            try:
                sub.inflight = frame.buffers()
            except Exception as exc:
                log.exception("GrimStream: frame could not be prepared")
                frame.release()
                sub.inflight_frame = None
                sub.close_reason = f"frame preparation failed: {exc}"
                return False
            return True
        return False

    def _write(self, sub: Subscriber) -> None:
        while True:
            if not sub.inflight:
                with self._lock:
                    loaded = self._next_output(sub)
                if not loaded:
                    return
            try:
                sent = sub.sock.sendmsg(sub.inflight[:_IOV_MAX])
            except (BlockingIOError, InterruptedError):
                return
            except (BrokenPipeError, ConnectionResetError):
                self._mark_closed(sub, "viewer closed the connection")
                return
            except OSError as exc:
                self._mark_closed(sub, f"send failed: {exc}")
                return
            sub.bytes_sent += sent
            sub.last_sent_ns = now_ns()
            while sent and sub.inflight:
                head = sub.inflight[0]
                if sent >= head.nbytes:
                    sent -= head.nbytes
                    sub.inflight.pop(0)
                else:
                    sub.inflight[0] = head[sent:]
                    sent = 0
            if not sub.inflight:
                self._message_done(sub)

    def _message_done(self, sub: Subscriber) -> None:
        """The in-flight message is fully in the kernel: count it and load the next one, and only
        then release the finished frame. A producer that waits for that release before publishing
        (a small frame pool) thus finds the previous frame already taken instead of superseding it."""
        sub.messages_sent += 1
        done, sub.inflight_frame = sub.inflight_frame, None
        if done is not None:
            sub.frames_sent += 1
        with self._lock:
            sub.room_made = False
            self._next_output(sub)
        handed_back = done is not None and done.release()
        if (handed_back or sub.room_made) and sub.inflight:
            # We just woke a producer: the buffer went back to its owner (a frame pool) or a
            # `wait_for_room` caller may publish again; and we are about to spend hundreds of
            # microseconds copying the next frame into the kernel. With more busy threads than
            # cores (2 cores: this thread, a viewer, the capture/encode threads) the woken thread
            # would wait for that copy and the socket would then idle for want of a frame: let it
            # run now (it only publishes its next frame and sleeps again).
            os.sched_yield()

    def _update_interest(self) -> None:
        with self._lock:
            subs = list(self._subs.values())
        for sub in subs:
            if sub.close_reason is not None:
                continue
            if sub.has_output():
                # Write at once: usually the socket has room, and no epoll_ctl or select
                # round-trip is needed. Watch for writability only while the kernel buffer is full.
                self._write(sub)
            want = sub.has_output() and sub.close_reason is None
            if want != sub.writing and sub.close_reason is None:
                events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0)
                self._sel.modify(sub.sock, events, sub)
                sub.writing = want

    def _heartbeats(self) -> None:
        t = now_ns()
        beat: bytes | None = None
        with self._lock:
            for sub in self._subs.values():
                if (
                    sub.close_reason is None
                    and t - sub.last_sent_ns >= self.heartbeat_ns
                    and not sub.has_output()
                ):
                    beat = beat or p.Heartbeat(t).encode()
                    self._enqueue(sub, beat)
                    sub.last_sent_ns = t

    def _mark_closed(self, sub: Subscriber, reason: str) -> None:
        if sub.close_reason is None:
            sub.close_reason = reason

    def _reap(self) -> None:
        with self._lock:
            dead = [s for s in self._subs.values() if s.close_reason is not None]
            for sub in dead:
                del self._subs[id(sub)]
            if dead:
                self._room_made()
        for sub in dead:
            self._drop_subscriber(sub)

    def _drop_subscriber(self, sub: Subscriber) -> None:
        reason = sub.close_reason or "server closed"
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(sub.sock)
        with contextlib.suppress(OSError):
            sub.sock.close()
        if sub.pending_frame is not None:
            sub.pending_frame.release()
            sub.pending_frame = None
        if sub.inflight_frame is not None:
            sub.inflight_frame.release()
            sub.inflight_frame = None
        sub.reliable.clear()
        sub.reliable_bytes = 0
        self.disconnects.append(reason)
        level = (
            logging.INFO
            if "closed the connection" in reason or reason == "server closed"
            else logging.WARNING
        )
        log.log(
            level,
            "GrimStream viewer %s disconnected: %s (frames sent %d, dropped %d)",
            sub.peer,
            reason,
            sub.frames_sent,
            sub.frames_dropped,
        )

    def _final_flush(self) -> None:
        deadline = getattr(self, "_flush_deadline_ns", now_ns())
        while now_ns() < deadline:
            with self._lock:
                busy = [
                    s for s in self._subs.values() if s.close_reason is None and (s.inflight or s.reliable)
                ]
            if not busy:
                return
            for sub in busy:
                self._write(sub)
            self._reap()
            self._sel.select(timeout=0.01)

    def _shutdown(self) -> None:
        with self._lock:
            subs = list(self._subs.values())
            self._subs.clear()
            self._room_made()
        for sub in subs:
            sub.close_reason = sub.close_reason or "server closed"
            self._drop_subscriber(sub)
        if self._listener is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(self._listener)
            self._listener.close()
            if self.endpoint.scheme == "unix":
                with contextlib.suppress(OSError):
                    os.unlink(self.endpoint.path)
        self._sel.close()
        self._wake_r.close()
        self._wake_w.close()

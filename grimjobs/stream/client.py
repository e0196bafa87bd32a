"""The viewer side of GrimStream: connect to a producer URL and read decoded messages.

    with StreamClient("tcp://127.0.0.1:17400") as client:
        for event in client:               # blocks; reconnects by itself
            match event:
                case Connected(): ...
                case StreamConfig(): ...
                case Frame(): ...          # event.data: a view, valid while you hold it
                case Disconnected(reason=r): ...
        client.send(Control.pause())

`poll(timeout_s)` returns the next event or None (for a UI loop). Payloads are received with
`recv_into` straight into a few recycled buffers (no copy per frame). On HELLO the client answers
CONTROL viewer_ready (as the reference viewer does). Anything a producer sends that is not
GrimStream is reported as `Rejected`/`Skipped` or, when the stream cannot be resynchronized, as
`Disconnected` followed by a reconnect.
"""

from __future__ import annotations

import contextlib
import logging
import select
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from grimjobs.stream import protocol as p
from grimjobs.stream.transport import Endpoint, connect, parse_url

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Connected:
    url: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Disconnected:
    url: str
    reason: str


ClientEvent = p.Message | p.Skipped | p.Rejected | Connected | Disconnected


class StreamClient:
    def __init__(
        self,
        url: str,
        *,
        features: Sequence[str] = (),
        send_ready: bool = True,
        reconnect: bool = True,
        reconnect_delay_s: float = 0.75,
        max_payload: int = p.DEFAULT_MAX_PAYLOAD,
        payload_buffers: int = 4,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.endpoint: Endpoint = parse_url(url, "url")
        self.url = self.endpoint.url
        self.features = tuple(features)
        self.send_ready = send_ready
        self.reconnect = reconnect
        self.reconnect_delay_s = reconnect_delay_s
        self.max_payload = max_payload
        self.payload_buffers = payload_buffers
        self.connect_timeout_s = connect_timeout_s
        self._sock: socket.socket | None = None
        self._sel: selectors.BaseSelector | None = None
        self._parser: p.FrameParser | None = None
        self._pending: deque[ClientEvent] = deque()
        self._send_lock = threading.Lock()
        self._closed = False
        self._attempt = 0
        self._next_attempt = 0.0
        self.hello: p.Hello | None = None
        self.config: p.StreamConfig | None = None
        self.messages = 0

    # ---------------------------------------------------------------- connection
    @property
    def connected(self) -> bool:
        return self._sock is not None

    def connect(self) -> None:
        """One connection attempt (raises OSError when the producer is not there)."""
        self._attempt += 1
        sock = connect(self.endpoint, self.connect_timeout_s)
        sock.setblocking(False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(sock, selectors.EVENT_READ)
        self._sock = sock
        self._parser = p.FrameParser(self.max_payload, self.payload_buffers)
        self.hello = None
        self._pending.append(Connected(self.url, self._attempt))

    def _drop_selector(self) -> None:
        if self._sel is not None:
            self._sel.close()
            self._sel = None

    def _disconnect(self, reason: str) -> None:
        self._drop_selector()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None
            self._parser = None
            self._pending.append(Disconnected(self.url, reason))
            self._next_attempt = time.monotonic() + self.reconnect_delay_s

    def close(self) -> None:
        self._closed = True
        self._drop_selector()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def __enter__(self) -> StreamClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- sending
    def send(self, message: p.Message) -> bool:
        """Send a message (e.g. `Control.pause()`) to the producer; False when not connected."""
        sock = self._sock
        if sock is None:
            return False
        try:
            with self._send_lock:
                wire = memoryview(message.encode())
                while wire:  # the socket is non-blocking for reading; wait for room when full
                    try:
                        wire = wire[sock.send(wire) :]
                    except BlockingIOError:
                        select.select([], [sock], [], 1.0)
        except OSError as exc:
            self._disconnect(f"send failed: {exc}")
            return False
        return True

    # ---------------------------------------------------------------- receiving
    def poll(self, timeout_s: float | None = 0.0) -> ClientEvent | None:
        """The next event, waiting at most `timeout_s` (None: forever); None on timeout or when
        closed."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._closed:
            if self._pending:
                return self._pending.popleft()
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self._sock is None:
                if not self._try_connect(remaining) and deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            self._receive(remaining)
            if not self._pending and deadline is not None and time.monotonic() >= deadline:
                return None
        return None

    def __iter__(self) -> Iterator[ClientEvent]:
        while not self._closed:
            event = self.poll(None)
            if event is None:
                return
            yield event

    def _try_connect(self, remaining: float | None) -> bool:
        if self._attempt and not self.reconnect:
            self._closed = True
            return False
        wait = self._next_attempt - time.monotonic()
        if wait > 0:
            if remaining is not None and remaining < wait:
                time.sleep(remaining)
                return False
            time.sleep(wait)
        try:
            self.connect()
            return True
        except OSError as exc:
            self._pending.append(Disconnected(self.url, f"connect failed: {exc.strerror or exc}"))
            self._next_attempt = time.monotonic() + self.reconnect_delay_s
            return False

    def _receive(self, timeout_s: float | None) -> None:
        sock, parser, sel = self._sock, self._parser, self._sel
        assert sock is not None and parser is not None and sel is not None
        events: list[p.Event] = []
        waited = False
        while not events:
            try:
                n = sock.recv_into(parser.buffer())
            except (BlockingIOError, InterruptedError):
                if waited:
                    return
                # Nothing buffered: wait once, then read what arrived.
                if not sel.select(timeout_s):
                    return
                waited = True
                continue
            except OSError as exc:
                self._disconnect(f"read failed: {exc}")
                return
            if n == 0:
                self._disconnect("producer closed the connection")
                return
            try:
                events = parser.advance(n)
            except p.FatalStreamError as exc:
                log.warning("GrimStream %s: %s; closing the connection", self.url, exc)
                self._disconnect(f"protocol error: {exc}")
                return
        for event in events:
            self.messages += 1
            self._pending.append(event)
            if isinstance(event, p.Hello):
                self.hello = event
                if self.send_ready:
                    self.send(p.Control.viewer_ready(self.features))
            elif isinstance(event, p.StreamConfig):
                self.config = event
            elif isinstance(event, p.Rejected):
                log.warning("GrimStream %s: rejected kind %d: %s", self.url, event.kind, event.reason)
            elif isinstance(event, p.Skipped):
                log.info("GrimStream %s: skipped unknown kind %d", self.url, event.kind)

"""Socket side of the live viewer: one thread per stream reads a GrimStream client and hands each
event, stamped with the viewer's clock on arrival, to `LiveView.ingest`.

The client reconnects by itself; `reconnect()` drops the connection and starts a fresh client
(the `r` key). CONTROL messages go out through `send`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from grimjobs.clock import now_ns
from grimjobs.viewer.views import LiveView

log = logging.getLogger(__name__)


class StreamFeed:
    """A background reader of one producer URL."""

    def __init__(
        self, name: str, url: str, view: LiveView, reconnect_delay_s: float, max_payload: int
    ) -> None:
        self.name = name
        self.url = url
        self.view = view
        self.reconnect_delay_s = reconnect_delay_s
        self.max_payload = max_payload
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._stop = threading.Event()
        self._restart = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"view-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _new_client(self) -> Any:
        from grimjobs.stream.client import StreamClient

        features = ("frames",) if self.name == "retail" else ("state",)
        return StreamClient(
            self.url,
            features=features,
            reconnect_delay_s=self.reconnect_delay_s,
            max_payload=self.max_payload,
        )

    def _run(self) -> None:
        from grimjobs.stream.client import Disconnected

        client = self._new_client()
        with self._client_lock:
            self._client = client
        while not self._stop.is_set():
            if self._restart.is_set():
                self._restart.clear()
                client.close()
                self.view.ingest(self.name, Disconnected(self.url, "reconnect requested"), now_ns())
                client = self._new_client()
                with self._client_lock:
                    self._client = client
            try:
                event = client.poll(0.05)
            except Exception as exc:  # a bug in a reader must not kill the viewer: log, retry
                log.exception("GrimStream %s: reader failed", self.url)
                self.view.ingest(self.name, Disconnected(self.url, f"reader error: {exc}"), now_ns())
                client.close()
                client = self._new_client()
                with self._client_lock:
                    self._client = client
                continue
            if event is not None:
                self.view.ingest(self.name, event, now_ns())
        client.close()

    def send(self, message: Any) -> bool:
        with self._client_lock:
            client = self._client
        return bool(client is not None and client.send(message))

    def reconnect(self) -> None:
        self._restart.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


class Feeds:
    """The retail and engine feeds of a LiveView; wires CONTROL sending and the reconnect key."""

    def __init__(self, view: LiveView, reconnect_delay_s: float = 0.75, max_payload: int = 64 << 20) -> None:
        self.view = view
        self.feeds: dict[str, StreamFeed] = {
            name: StreamFeed(name, url, view, reconnect_delay_s, max_payload)
            for name, url in view.urls.items()
            if url
        }
        view.send = self.send

    def start(self) -> None:
        for feed in self.feeds.values():
            feed.start()

    def send(self, stream: str, message: Any) -> bool:
        feed = self.feeds.get(stream)
        return feed.send(message) if feed is not None else False

    def service(self) -> None:
        """Called by the UI loop: act on the reconnect key."""
        if self.view.reconnect_requested:
            self.view.reconnect_requested = False
            for feed in self.feeds.values():
                feed.reconnect()

    def stop(self) -> None:
        for feed in self.feeds.values():
            feed.stop()

"""GrimStream endpoints as URLs: `tcp://HOST:PORT` and `unix:///path/to.sock`."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from grimjobs.errors import UserError

log = logging.getLogger(__name__)

SOCKET_BUFFER_BYTES = 4 << 20  # capped by net.core.wmem_max / rmem_max; the kernel doubles it


@dataclass(frozen=True, slots=True)
class Endpoint:
    scheme: str  # "tcp" or "unix"
    host: str = ""
    port: int = 0
    path: str = ""

    @property
    def url(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        if self.scheme == "unix":
            return True
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_url(url: str, key: str = "stream.url") -> Endpoint:
    """`tcp://127.0.0.1:17400` or `unix:///tmp/grim-retail.sock`; a UserError naming `key` if not."""
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise UserError(f"{key}={url!r}: a TCP stream URL is tcp://HOST:PORT, e.g. tcp://127.0.0.1:17400")
        return Endpoint("tcp", host=parts.hostname, port=port)
    if parts.scheme == "unix":
        path = parts.path or parts.netloc
        if not path:
            raise UserError(f"{key}={url!r}: a Unix socket URL is unix:///absolute/path.sock")
        return Endpoint("unix", path=path)
    raise UserError(f"{key}={url!r}: use tcp://HOST:PORT or unix:///path.sock")


def listen(endpoint: Endpoint, allow_remote: bool, key: str = "stream.url") -> socket.socket:
    """A non-blocking listening socket. Producers bind loopback unless `allow_remote`."""
    if endpoint.scheme == "unix":
        if os.path.exists(endpoint.path):
            # A stale socket file from a crashed run; a live producer still answers connect().
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(endpoint.path)
            except OSError:
                os.unlink(endpoint.path)
            else:
                probe.close()
                raise UserError(f"{key}={endpoint.url}: another producer is already listening there")
            finally:
                probe.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(endpoint.path)
        except OSError as exc:
            sock.close()
            raise UserError(
                f"{key}={endpoint.url}: cannot bind ({exc.strerror}); pick a writable path"
            ) from exc
    else:
        if not endpoint.is_loopback:
            if not allow_remote:
                raise UserError(
                    f"{key}={endpoint.url}: binds a non-loopback address; "
                    "set stream.allow_remote=true to accept viewers from other machines"
                )
            log.warning(
                "GrimStream listening on %s: reachable from other machines, unauthenticated", endpoint.url
            )
        family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((endpoint.host, endpoint.port))
        except OSError as exc:
            sock.close()
            raise UserError(
                f"{key}={endpoint.url}: cannot bind ({exc.strerror}); "
                "choose another port or stop the other producer"
            ) from exc
    sock.listen(16)
    sock.setblocking(False)
    return sock


def bound_endpoint(sock: socket.socket, endpoint: Endpoint) -> Endpoint:
    """The endpoint actually bound (resolves port 0)."""
    if endpoint.scheme == "unix":
        return endpoint
    host, port = sock.getsockname()[:2]
    return Endpoint("tcp", host=host, port=port)


def connect(endpoint: Endpoint, timeout_s: float | None = 5.0) -> socket.socket:
    """A connected blocking socket (raises OSError when nobody listens)."""
    if endpoint.scheme == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Blocking: a Unix connect only waits while the listener's backlog is full, and with a
        # timeout set Python would report that as EAGAIN instead of waiting.
        # Room for a whole 720p RGBA frame: fewer wakeups per frame (TCP autotunes its buffers).
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER_BYTES)
        try:
            sock.connect(endpoint.path)
        except OSError:
            sock.close()
            raise
    else:
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(None)
    return sock


def tune(sock: socket.socket) -> None:
    """Options for an accepted producer-side connection (the benchmark's raw baseline uses the
    same, so it compares like with like)."""
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # One 3.7 MB frame per send call: the send buffer bounds what one non-blocking call moves. With
    # TCP's autotuned buffer (starting small, at most tcp_wmem's 4 MB) a frame took 2-3 sendmsg
    # calls with an EAGAIN and an epoll round-trip between them; a fixed request (the kernel
    # doubles it) takes a whole frame per call on loopback.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER_BYTES)

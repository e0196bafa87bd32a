"""GrimStream over real loopback sockets: handshake, frames, reliability, slow and hostile peers."""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from grimjobs.clock import now_ns
from grimjobs.errors import UserError
from grimjobs.frames import FrameFormat, FramePool
from grimjobs.stream import protocol as p
from grimjobs.stream.client import Connected, Disconnected, StreamClient
from grimjobs.stream.publisher import GrimStreamPublisher, GrimStreamSettings
from grimjobs.stream.server import SharedFrame, StreamServer


def uds_url() -> str:
    return f"unix://{tempfile.gettempdir()}/grim-test-{os.getpid()}-{time.monotonic_ns()}.sock"


@pytest.fixture(params=["tcp", "uds"])
def url(request: pytest.FixtureRequest) -> str:
    return "tcp://127.0.0.1:0" if request.param == "tcp" else uds_url()


def wait_for(predicate: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def next_of(client: StreamClient, kind: type, timeout_s: float = 5.0) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        event = client.poll(0.1)
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__} within {timeout_s}s")


@pytest.fixture
def publisher(url: str) -> Iterator[GrimStreamPublisher]:
    pub = GrimStreamPublisher(GrimStreamSettings.model_validate({"url": url, "heartbeat_s": 0.2}))
    yield pub
    pub.close()


def test_end_to_end_handshake_frames_and_reliable_messages(publisher: GrimStreamPublisher) -> None:
    fmt = FrameFormat(64, 32, "rgb24")
    controls: list[p.Control] = []
    publisher.on_control = lambda c, peer: controls.append(c)
    publisher.open(fmt, 30.0)
    server = publisher.server
    assert server is not None
    pool = FramePool(fmt, 4)
    with StreamClient(server.url, features=["frames"]) as client:
        assert isinstance(next_of(client, Connected), Connected)
        hello = next_of(client, p.Hello)
        assert hello == p.Hello(producer="retail")
        cfg = next_of(client, p.StreamConfig)
        assert cfg == p.StreamConfig(64, 32, 256, p.PixelFormat.RGBA8, 30.0)
        wait_for(lambda: controls)  # viewer_ready reached the producer
        assert controls[0] == p.Control.viewer_ready(["frames"])
        wait_for(lambda: server.subscriber_count == 1)

        ref = pool.acquire()
        assert ref is not None
        ref.pixels[...] = np.arange(64 * 32 * 3, dtype=np.uint32).reshape(32, 64, 3) % 251
        ref.index, ref.t_ns = 7, now_ns()
        publisher.publish(ref)
        expected = ref.pixels.copy()
        ref.release()
        frame = next_of(client, p.Frame)
        assert isinstance(frame, p.Frame) and frame.frame_id == 7 and frame.host_time_ns == ref.t_ns
        rgba = np.frombuffer(frame.data, np.uint8).reshape(32, 64, 4)
        assert np.array_equal(rgba[..., :3], expected) and (rgba[..., 3] == 255).all()
        wait_for(lambda: pool.in_use == 0)  # the pooled buffer came back after sending

        publisher.send(p.Telemetry(seq=1, label="boot", data={"x": 1}))
        publisher.send(p.StateUpdate(seq=1, host_time_ns=5, position=(1.0, 2.0, 3.0)))
        assert next_of(client, p.Telemetry) == p.Telemetry(seq=1, label="boot", data={"x": 1})
        assert next_of(client, p.StateUpdate) == p.StateUpdate(
            seq=1, host_time_ns=5, position=(1.0, 2.0, 3.0)
        )
        assert isinstance(next_of(client, p.Heartbeat, timeout_s=2), p.Heartbeat)  # idle -> heartbeat

        assert client.send(p.Control.pause())
        wait_for(lambda: len(controls) == 2)
        assert controls[1] == p.Control.pause()


def test_rgba_frames_go_out_zero_copy_and_return_to_the_pool(publisher: GrimStreamPublisher) -> None:
    fmt = FrameFormat(32, 16, "rgba")
    publisher.open(fmt, 60.0)
    assert publisher.server is not None
    pool = FramePool(fmt, 3)
    with StreamClient(publisher.server.url) as client:
        next_of(client, p.StreamConfig)
        wait_for(lambda: publisher.server is not None and publisher.server.subscriber_count == 1)
        for i in range(20):
            ref = pool.acquire(1.0)
            assert ref is not None
            ref.pixels[...] = i
            ref.index, ref.t_ns = i, i
            publisher.publish(ref)
            ref.release()
            frame = next_of(client, p.Frame)
            assert isinstance(frame, p.Frame)
            assert frame.frame_id == i and bytes(frame.data) == bytes([i]) * fmt.nbytes
        wait_for(lambda: pool.in_use == 0)


def test_several_subscribers_and_reconnect(url: str) -> None:
    with StreamServer(url, "engine", "dev") as server:
        clients = [StreamClient(server.url, reconnect_delay_s=0.05) for _ in range(3)]
        for c in clients:
            next_of(c, p.Hello)
        wait_for(lambda: server.subscriber_count == 3)
        server.send(p.TimelineMark(seq=1, host_time_ns=2, label="logo.start"))
        for c in clients:
            assert next_of(c, p.TimelineMark) == p.TimelineMark(seq=1, host_time_ns=2, label="logo.start")
        for c in clients:
            c.close()
        wait_for(lambda: server.subscriber_count == 0)
        assert server.stats()["connections"] == 3

    # Producer restarts on the same address: the client reconnects and gets HELLO + config again.
    url2 = url if url.startswith("unix") else "tcp://127.0.0.1:0"
    server = StreamServer(url2, "retail").start()
    client = StreamClient(server.url, reconnect_delay_s=0.05)
    try:
        server.set_config(p.StreamConfig(4, 2, 16, nominal_fps=30.0))
        next_of(client, p.StreamConfig)
        server.close()
        assert isinstance(next_of(client, Disconnected), Disconnected)
        server = StreamServer(server.url, "retail").start()
        server.set_config(p.StreamConfig(8, 2, 32, nominal_fps=30.0))
        assert isinstance(next_of(client, Connected), Connected)
        assert next_of(client, p.Hello) == p.Hello(producer="retail")
        assert next_of(client, p.StreamConfig) == p.StreamConfig(8, 2, 32, nominal_fps=30.0)
    finally:
        client.close()
        server.close()


def test_slow_subscriber_never_blocks_and_drops_frames_latest_wins(url: str) -> None:
    released: list[int] = []
    with StreamServer(url, "retail", max_backlog_bytes=64 << 20) as server:
        server.set_config(p.StreamConfig(512, 512, 2048, nominal_fps=30.0))
        fast = StreamClient(server.url)
        from grimjobs.stream.transport import connect, parse_url

        slow_sock = connect(parse_url(server.url))  # connects, never reads
        slow_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        next_of(fast, p.StreamConfig)
        wait_for(lambda: server.subscriber_count == 2)
        pixels = np.zeros(512 * 512 * 4, np.uint8)
        received: list[int] = []
        stop = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                ev = fast.poll(0.05)
                if isinstance(ev, p.Frame):
                    received.append(ev.frame_id)

        t = threading.Thread(target=reader)
        t.start()
        start = time.monotonic()
        for i in range(200):
            server.publish_frame(SharedFrame(i, i, pixels, release=functools.partial(released.append, i)))
            time.sleep(0.002)
        publish_s = time.monotonic() - start
        wait_for(lambda: len(received) > 0 and received[-1] == 199)
        stop.set()
        t.join()
        stats = server.subscriber_stats()
        slow_stats = max(stats, key=lambda s: s["frames_dropped"])
        assert slow_stats["frames_dropped"] > 150  # the slow one dropped frames, counted
        assert received == sorted(received)  # never out of order
        assert publish_s < 5  # publishing never waited for the slow reader (loose, not a speed goal)
        slow_sock.close()
        fast.close()
    assert sorted(released) == list(range(200))  # every frame released exactly once


def test_subscriber_that_cannot_keep_up_with_state_is_disconnected_with_reason(url: str) -> None:
    from grimjobs.stream.transport import connect, parse_url

    with StreamServer(url, "engine", max_backlog_bytes=200_000) as server:
        sock = connect(parse_url(server.url))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        wait_for(lambda: server.subscriber_count == 1)
        big = p.Telemetry(seq=0, label="x", data="y" * 10_000)
        for _ in range(400):
            server.send(big)
            if server.subscriber_count == 0:
                break
        wait_for(lambda: server.subscriber_count == 0)
        assert any("could not keep up" in r for r in server.disconnects)
        sock.close()


def test_hostile_bytes_do_not_disturb_a_well_behaved_client(url: str) -> None:
    from grimjobs.stream.transport import connect, parse_url

    rng = np.random.default_rng(1)
    vectors = [p.Heartbeat(1).encode(), p.Control.pause().encode(), p.Hello("x").encode()]
    with StreamServer(url, "retail") as server:
        good = StreamClient(server.url)
        next_of(good, p.Hello)
        for i in range(40):
            s = connect(parse_url(server.url))
            if i % 4 == 0:
                blob = rng.integers(0, 256, int(rng.integers(1, 2000)), dtype=np.uint8).tobytes()
            elif i % 4 == 1:
                w = bytearray(vectors[i % 3])
                w[int(rng.integers(12, len(w)))] ^= 0xFF
                blob = bytes(w) * 3
            elif i % 4 == 2:
                blob = p.encode_header(7, 0xFFFFFFF0)  # huge length: refused before allocating
            else:
                blob = (
                    p.encode_header(99, 5000) + bytes(5000) + b"GRIM\x00\x01\x00\x07"
                )  # unknown kind + torn
            with contextlib.suppress(OSError):
                s.sendall(blob)
            s.close()
        server.send(p.TimelineMark(seq=9, host_time_ns=9, label="still.alive"))
        assert next_of(good, p.TimelineMark) == p.TimelineMark(seq=9, host_time_ns=9, label="still.alive")
        wait_for(lambda: server.subscriber_count == 1)
        assert server._thread is not None and server._thread.is_alive()
        good.close()


def test_non_loopback_needs_allow_remote() -> None:
    with pytest.raises(UserError, match="allow_remote"):
        StreamServer("tcp://0.0.0.0:0", "retail").start()
    server = StreamServer("tcp://0.0.0.0:0", "retail", allow_remote=True).start()
    server.close()


@pytest.mark.parametrize("bad", ["http://x", "tcp://host", "unix://", "17400"])
def test_bad_urls_are_user_errors(bad: str) -> None:
    with pytest.raises(UserError, match=r"stream\.url"):
        StreamServer(bad, "retail")


def test_too_small_max_payload_is_refused_before_listening() -> None:
    url = uds_url()
    # The source frame (rgb24, 16 KB) fits, its RGBA8 form on the wire (21 KB) does not.
    pub = GrimStreamPublisher(GrimStreamSettings.model_validate({"url": url, "max_payload": 1100 * 16}))
    with pytest.raises(UserError, match="max_payload"):
        pub.open(FrameFormat(334, 16, "rgb24"), 30.0)
    assert pub.server is None and not os.path.exists(url.removeprefix("unix://"))
    pub.close()

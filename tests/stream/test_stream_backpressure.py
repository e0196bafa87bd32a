"""`StreamServer.wait_for_room`: a producer that waits for it before each publish loses no frame to
latest-wins, over a real socket; without a subscriber taking frames it times out."""

from __future__ import annotations

import os
import tempfile
import threading
import time

from grimjobs.stream import protocol as p
from grimjobs.stream.client import StreamClient
from grimjobs.stream.server import SharedFrame, StreamServer


def test_waiting_for_room_delivers_every_frame_in_order() -> None:
    url = f"unix://{tempfile.gettempdir()}/grim-room-{os.getpid()}-{time.monotonic_ns()}.sock"
    pixels = bytes(range(256)) * 4096  # 1 MiB
    count = 60
    with StreamServer(url, "retail") as server:
        server.set_config(p.StreamConfig(512, 512, 2048))
        with StreamClient(server.url) as client:
            while server.subscriber_count == 0:
                client.poll(0.05)
            released = threading.Semaphore(0)

            def produce() -> None:
                for k in range(count):
                    assert server.wait_for_room(5.0)
                    server.publish_frame(SharedFrame(k, k, pixels, release=released.release))

            producer = threading.Thread(target=produce)
            producer.start()
            ids: list[int] = []
            deadline = time.monotonic() + 20
            while len(ids) < count and time.monotonic() < deadline:
                event = client.poll(0.5)
                if isinstance(event, p.Frame):
                    assert bytes(event.data[:256]) == pixels[:256]
                    ids.append(event.frame_id)
            producer.join(5)
            assert ids == list(range(count))
            assert server.stats()["frames_dropped"] == 0
            for _ in range(count):  # every buffer went back to its owner
                assert released.acquire(timeout=5)


def test_wait_for_room_times_out_while_a_frame_waits() -> None:
    url = f"unix://{tempfile.gettempdir()}/grim-room-{os.getpid()}-{time.monotonic_ns()}.sock"
    with StreamServer(url, "retail", gate_on_ready=False) as server:
        client = StreamClient(server.url, send_ready=False)
        client.connect()  # connected, never reads: the socket fills and a frame stays pending
        try:
            while server.subscriber_count == 0:
                time.sleep(0.01)
            big = bytes(16 << 20)
            server.publish_frame(SharedFrame(0, 0, big))  # fills the socket buffers
            assert server.wait_for_room(5.0) is True  # frame 0 taken: being written
            server.publish_frame(SharedFrame(1, 1, big))  # waits behind it
            assert server.wait_for_room(0.2) is False
        finally:
            client.close()
        assert server.wait_for_room(5.0) is True  # the subscriber left: nothing waits any more

"""GrimStream throughput and latency vs plain socket sends of the same bytes, same run.

1280x720 RGBA frames over UDS and TCP loopback:
- throughput: frames/s through StreamServer + StreamClient (decode included) vs a raw sender
  doing `sendall(frame)` and a raw receiver doing `recv_into` of the same size; goal ratio >= 0.85;
- latency at 30 fps: publish -> decoded at the client (p50/p99); goal p99 < 5 ms.

    python benchmarks/bench_stream.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time

import numpy as np

from grimjobs.clock import now_ns
from grimjobs.stream import protocol as p
from grimjobs.stream.client import StreamClient
from grimjobs.stream.server import SharedFrame, StreamServer
from grimjobs.stream.transport import connect, listen, parse_url

W, H = 1280, 720
NBYTES = W * H * 4


def url_for(kind: str) -> str:
    if kind == "uds":
        return f"unix://{tempfile.gettempdir()}/grim-bench-{os.getpid()}-{time.monotonic_ns()}.sock"
    return "tcp://127.0.0.1:0"


def raw_fps(kind: str, seconds: float) -> float:
    ep = parse_url(url_for(kind))
    lst = listen(ep, False)
    lst.setblocking(True)
    if ep.scheme == "tcp":
        ep = parse_url(f"tcp://127.0.0.1:{lst.getsockname()[1]}")
    pixels = np.random.default_rng(0).integers(0, 256, NBYTES, dtype=np.uint8)
    received = [0]

    def receiver() -> None:
        sock = connect(ep)
        buf = bytearray(NBYTES)
        view = memoryview(buf)
        try:
            while True:
                got = 0
                while got < NBYTES:
                    n = sock.recv_into(view[got:])
                    if n == 0:
                        return
                    got += n
                received[0] += 1
        finally:
            sock.close()

    t = threading.Thread(target=receiver)
    t.start()
    conn, _ = lst.accept()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        conn.sendall(pixels.data)
    conn.shutdown(socket.SHUT_WR)
    t.join()
    elapsed = time.perf_counter() - start
    conn.close()
    lst.close()
    if ep.scheme == "unix":
        os.unlink(ep.path)
    return received[0] / elapsed


def grim_fps(kind: str, seconds: float) -> float:
    pixels = np.random.default_rng(0).integers(0, 256, NBYTES, dtype=np.uint8)
    with StreamServer(url_for(kind), "retail") as server:
        server.set_config(p.StreamConfig(W, H, W * 4, nominal_fps=30.0))
        client = StreamClient(server.url)
        while not isinstance(client.poll(1.0), p.StreamConfig):
            pass
        # One frame outstanding: the next is published once the last is in the kernel buffer, so
        # the producer never outruns the socket, latest-wins drops nothing: true throughput.
        slots = threading.Semaphore(1)
        stop = threading.Event()

        def produce() -> None:
            k = 0
            while not stop.is_set():
                if slots.acquire(timeout=0.5):
                    server.publish_frame(SharedFrame(k, now_ns(), pixels, release=slots.release))
                    k += 1

        t = threading.Thread(target=produce)
        t.start()
        received = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            if isinstance(client.poll(0.5), p.Frame):
                received += 1
        elapsed = time.perf_counter() - start
        stop.set()
        t.join()
        dropped = server.stats()["frames_dropped"]
        client.close()
    assert dropped == 0, f"{dropped} frames dropped in the throughput run"
    return received / elapsed


def grim_latency(kind: str, seconds: float, fps: float = 30.0) -> tuple[float, float, int]:
    pixels = np.random.default_rng(0).integers(0, 256, NBYTES, dtype=np.uint8)
    lat_ms: list[float] = []
    with StreamServer(url_for(kind), "retail") as server:
        server.set_config(p.StreamConfig(W, H, W * 4, nominal_fps=fps))
        client = StreamClient(server.url)
        while not isinstance(client.poll(1.0), p.StreamConfig):
            pass
        stop = threading.Event()

        def produce() -> None:
            t0 = now_ns()
            k = 0
            while not stop.is_set():
                due = t0 + round(k * 1e9 / fps)
                delay = (due - now_ns()) / 1e9
                if delay > 0:
                    time.sleep(delay)
                server.publish_frame(SharedFrame(k, now_ns(), pixels))
                k += 1

        t = threading.Thread(target=produce)
        t.start()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ev = client.poll(0.5)
            if isinstance(ev, p.Frame):
                lat_ms.append((now_ns() - ev.host_time_ns) / 1e6)
        stop.set()
        t.join()
        client.close()
    arr = np.array(lat_ms[3:])  # skip connection warm-up
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99)), len(arr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    args = ap.parse_args()
    print(
        f"GrimStream bench: {W}x{H} RGBA ({NBYTES / 1e6:.1f} MB/frame), {args.seconds:.0f} s per measurement"
    )
    print(
        f"{'transport':<9} {'raw fps':>9} {'grim fps':>9} {'ratio':>7} {'goal':>6} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'goal':>6}"
    )
    for kind in ("uds", "tcp"):
        raw = raw_fps(kind, args.seconds)
        grim = grim_fps(kind, args.seconds)
        p50, p99, n = grim_latency(kind, args.seconds)
        ratio = grim / raw
        print(
            f"{kind:<9} {raw:9.1f} {grim:9.1f} {ratio:7.2f} {'ok' if ratio >= 0.85 else 'MISS':>6} "
            f"{p50:7.2f} {p99:7.2f} {'ok' if p99 < 5 else 'MISS':>6}   ({n} frames at 30 fps)"
        )


if __name__ == "__main__":
    main()

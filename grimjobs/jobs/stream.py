"""stream: a capture source -> GrimStream FRAMEs, plus telemetry tailing and state-log replay.

The paced loop here is the recorder's schedule (slot k due at t0 + k/fps, late slots counted as
dropped) plus what a live stream needs and a recording must not have: CONTROL pause / resume /
step / seek. Sources whose frame content is a function of the slot (`random_access = True`:
the synthetic pattern, file playback) really seek; live sources pause by not sending.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from grimjobs.capture.base import CaptureSource, SourceEnded, SourceGap
from grimjobs.clock import NS_PER_S, now_ns, sleep_until
from grimjobs.errors import UserError
from grimjobs.frames import FramePool
from grimjobs.game import Game
from grimjobs.runner import hydra_job
from grimjobs.settings import build
from grimjobs.stream import protocol as p
from grimjobs.stream.engine import StateReplayer, load_state_log
from grimjobs.stream.publisher import GrimStreamPublisher
from grimjobs.stream.telemetry import JsonlTailer, TelemetryForwarder

log = logging.getLogger("grimjobs.stream")

TELEMETRY_POLL_S = 0.05


class Playback:
    """CONTROL state shared between the I/O thread and the capture loop."""

    def __init__(self) -> None:
        self.commands: queue.SimpleQueue[p.Control] = queue.SimpleQueue()
        self.paused = False
        self.steps = 0

    def on_control(self, control: p.Control, peer: str) -> None:
        if control.kind != p.ControlKind.VIEWER_READY:
            self.commands.put(control)


def stream_frames(
    source: CaptureSource,
    publisher: GrimStreamPublisher,
    stop: threading.Event,
    playback: Playback,
    tick: Any = None,
) -> dict[str, Any]:
    s = source.settings
    random_access = source.random_access
    fmt = source.open()
    try:
        publisher.open(fmt, s.fps)
        pool = FramePool(fmt, 4)
        period_ns = round(NS_PER_S / s.fps)
        start_ns = base_ns = now_ns()
        slot = base_slot = 0
        sent = dropped = gaps = 0
        end_reason = "stopped"
        while not stop.is_set():
            if tick is not None:
                tick()
            while not playback.commands.empty():
                c = playback.commands.get()
                if c.kind == p.ControlKind.PAUSE:
                    playback.paused = True
                elif c.kind == p.ControlKind.RESUME:
                    playback.paused = False
                    base_ns, base_slot = now_ns(), slot
                elif c.kind == p.ControlKind.STEP:
                    playback.paused = True
                    playback.steps += max(1, c.frames or 1)
                elif c.kind == p.ControlKind.SEEK and c.frame_id is not None:
                    if random_access:
                        slot = base_slot = int(c.frame_id)
                        base_ns = now_ns()
                        if playback.paused:
                            playback.steps += 1  # show the frame sought to
                    else:
                        log.info("CONTROL seek ignored: %s is a live source", type(source).__name__)
                log.info("CONTROL %s -> %s", c.kind, "paused" if playback.paused else "playing")
            if playback.paused and playback.steps == 0:
                time.sleep(0.01)
                continue
            stepping = playback.steps > 0
            if stepping:
                playback.steps -= 1
            else:
                deadline = base_ns + round((slot - base_slot) * NS_PER_S / s.fps)
                if s.paced:
                    sleep_until(deadline)
                    late = (now_ns() - deadline) // period_ns
                    if late > 0:
                        dropped += late
                        slot += late
            if s.max_frames is not None and sent >= s.max_frames:
                end_reason = "max_frames"
                break
            if s.duration is not None and now_ns() - start_ns >= s.duration * NS_PER_S:
                end_reason = "duration"
                break
            ref = pool.acquire(timeout_s=0.0)
            if ref is None:
                dropped += 1
                slot += 1
                continue
            try:
                ref.t_ns = source.grab(ref.pixels, slot)
                ref.index = slot
                publisher.publish(ref)
            except SourceEnded:
                end_reason = "source ended"
                break
            except SourceGap:  # nothing to show for this slot (window minimized): skip it
                gaps += 1
                slot += 1
                continue
            finally:
                ref.release()
            sent += 1
            slot += 1
            if stepping and not random_access:
                base_ns, base_slot = now_ns(), slot
        return {"frames": sent, "dropped": dropped, "gaps": gaps, "end_reason": end_reason}
    finally:
        source.close()


@hydra_job("stream")
def main(cfg: DictConfig) -> int:
    source = build(cfg.capture, "capture", CaptureSource)
    publisher = build(cfg.stream, "stream", GrimStreamPublisher)
    build(cfg.game, "game", Game)
    forwarder = None
    if cfg.telemetry:
        forwarder = TelemetryForwarder(
            JsonlTailer(Path(cfg.telemetry)), publisher.send, list(cfg.marks), int(cfg.coalesce_above)
        )
    replay_updates = None
    if cfg.state_log:
        if not Path(cfg.state_log).is_file():
            raise UserError(f"state_log={cfg.state_log}: no such file; give a JSONL state log or null")
        replay_updates = load_state_log(Path(cfg.state_log))

    playback = Playback()
    replayer = StateReplayer(replay_updates, publisher.send) if replay_updates is not None else None

    def route_control(control: p.Control, peer: str) -> None:
        playback.on_control(control, peer)
        if replayer is not None:
            replayer.control(control, peer)

    publisher.on_control = route_control
    server = publisher.start()
    print(f"streaming on {server.url}", file=sys.stderr, flush=True)
    stop = threading.Event()
    threads = []
    if replayer is not None:
        threads.append(threading.Thread(target=replayer.run, args=(stop,), name="state-replay", daemon=True))
    last_poll = [0.0]

    def tick() -> None:
        if forwarder is not None and time.monotonic() - last_poll[0] >= TELEMETRY_POLL_S:
            last_poll[0] = time.monotonic()
            forwarder.poll()

    for t in threads:
        t.start()
    try:
        result = stream_frames(source, publisher, stop, playback, tick)
    except KeyboardInterrupt:
        result = {"end_reason": "interrupted"}
    finally:
        stop.set()
        for t in threads:
            t.join(2.0)
        if forwarder is not None:
            forwarder.poll()
            forwarder.tailer.close()
        stats = publisher.stats()
        publisher.close()
    log.info("stream ended (%s): %s; stream %s", result.get("end_reason"), result, stats)
    print(
        f"stream ended ({result.get('end_reason')}): {result.get('frames', 0)} frames, "
        f"{stats.get('frames_dropped', 0)} dropped by slow viewers",
        file=sys.stderr,
    )
    return 0

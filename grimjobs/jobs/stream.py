"""stream: a capture source -> GrimStream FRAMEs, plus telemetry tailing and state-log replay.

Frames come from the recorder's own capture loop (`grimjobs.pipeline.streaming.stream_frames`:
the same schedule, limits and counters) with the publisher as its only sink. Viewers' CONTROL
pause / resume / step / seek drive the loop's `LoopController` (bounded there): sources whose
frame content is a function of the slot (`random_access`: the synthetic pattern, file playback)
really seek; live sources pause by not sending.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

from omegaconf import DictConfig

from grimjobs.capture.base import CaptureSource
from grimjobs.errors import UserError
from grimjobs.game import Game
from grimjobs.pipeline.signals import stop_signals
from grimjobs.pipeline.streaming import stream_frames
from grimjobs.playback import LoopController
from grimjobs.runner import hydra_job
from grimjobs.settings import build
from grimjobs.stream import protocol as p
from grimjobs.stream.engine import StateReplayer, load_state_log
from grimjobs.stream.publisher import GrimStreamPublisher
from grimjobs.stream.telemetry import JsonlTailer, TelemetryForwarder

log = logging.getLogger("grimjobs.stream")

TELEMETRY_POLL_S = 0.05


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

    controller = LoopController()
    replayer = StateReplayer(replay_updates, publisher.send) if replay_updates is not None else None

    def route_control(control: p.Control, peer: str) -> None:
        if control.kind != p.ControlKind.VIEWER_READY:
            refused = controller.apply(control)
            if refused is not None:
                log.warning("CONTROL %s from %s refused: %s", control.kind, peer, refused)
            else:
                log.info(
                    "CONTROL %s from %s -> %s",
                    control.kind,
                    peer,
                    "paused" if controller.paused else "playing",
                )
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
        # Ctrl+C, SIGTERM, SIGHUP end the stream at the next slot, with its counters.
        with stop_signals(lambda _name: stop.set()):
            result = stream_frames(source, publisher, stop, controller, tick)
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
    dropped = int(result.get("dropped_late", 0)) + int(result.get("dropped_queue_full", 0))
    print(
        f"stream ended ({result.get('end_reason')}): {result.get('frames', 0)} frames of "
        f"{result.get('slots', 0)} slots, {dropped} dropped by the loop, "
        f"{stats.get('frames_dropped', 0)} dropped by slow viewers",
        file=sys.stderr,
    )
    return 1 if result.get("error") else 0

"""bridge: forward a physical pad into a virtual Xbox 360 controller, recording nothing."""

from __future__ import annotations

import logging
import sys

from omegaconf import DictConfig

from grimjobs.clock import NS_PER_S, now_ns
from grimjobs.errors import UserError
from grimjobs.input.sdl import SdlInput
from grimjobs.runner import hydra_job
from grimjobs.session.actions import InputSnapshot
from grimjobs.settings import build

log = logging.getLogger("grimjobs.bridge")


@hydra_job("bridge")
def main(cfg: DictConfig) -> int:
    device = build(cfg.input, "input", SdlInput)
    if device.settings.forward == "none":
        raise UserError("bridge: input.forward=none forwards nothing; use input.forward=vgamepad")
    duration = cfg.get("duration")
    snapshots = 0

    def count(snapshot: InputSnapshot) -> None:
        nonlocal snapshots
        snapshots += 1

    start = now_ns()
    device.open(start)  # a missing backend fails here, in one line
    print("bridge: forwarding (Ctrl+C to stop)", file=sys.stderr, flush=True)
    try:
        while duration is None or now_ns() - start < duration * NS_PER_S:
            device.poll(count, 0.01)
    except KeyboardInterrupt:
        pass
    finally:
        device.close(count)
    stats = device.stats()
    log.info("bridge stopped: %d pad changes, %s", snapshots, stats)
    print(f"bridge: {snapshots} pad changes forwarded as {stats.get('forwarded_reports', 0)} reports")
    return 0

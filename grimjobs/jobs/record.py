"""record: capture + inputs -> a session folder (the run folder), then validate it."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from omegaconf import DictConfig, OmegaConf

from grimjobs.capture.base import CaptureSource
from grimjobs.clock import require_fine_clock
from grimjobs.encoder.base import VideoEncoder
from grimjobs.game import Game
from grimjobs.input.base import InputDevice
from grimjobs.pipeline.hotkeys import Hotkeys, HotkeySettings
from grimjobs.pipeline.recorder import Recorder, RecordingResult
from grimjobs.pipeline.signals import stop_signals
from grimjobs.playback import LoopController
from grimjobs.quality.measure import plan_quality, quality_summary
from grimjobs.runner import hydra_job, is_multirun, run_dir
from grimjobs.session import SUMMARY
from grimjobs.session.summary import environment, write_summary
from grimjobs.settings import build
from grimjobs.stream.base import FramePublisher

log = logging.getLogger("grimjobs.record")


def status_enabled(setting: Any) -> bool:
    if setting == "auto":
        return sys.stderr.isatty()
    return bool(setting)


def log_to_file(level: int, message: str) -> None:
    """A line for record.log only (the console gets its own print)."""
    record = log.makeRecord(log.name, level, __file__, 0, message, (), None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def session_info(cfg: DictConfig, started: datetime) -> dict[str, Any]:
    """Who recorded what, when (wall clock, UTC): free-form keys from the config."""
    tags = cfg.get("tags") or []
    if isinstance(tags, str):
        tags = [tags]
    return {
        "started_utc": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "game": str(cfg.game.get("name") or "generic"),
        "operator": None if cfg.get("operator") is None else str(cfg.get("operator")),
        "notes": None if cfg.get("notes") is None else str(cfg.get("notes")),
        "tags": [str(t) for t in tags],
    }


def summarize(
    cfg: DictConfig, capture_cfg: dict[str, Any], result: RecordingResult, info: dict[str, Any] | None = None
) -> dict[str, Any]:
    encoder_cfg = OmegaConf.to_container(cfg.encoder, resolve=True)
    loop = result.loop_stats
    # One number everywhere (record.log, summary, validate): the loop's drops by cause.
    dropped = (
        int(loop.get("dropped_late", 0)) + int(loop.get("dropped_queue_full", 0)) if loop else result.dropped
    )
    return {
        **(info or {}),
        "frames": result.frames,
        "dropped": dropped,
        "capture_slots": result.slots,
        "duration_s": round(result.duration_s, 6),
        "effective_fps": round(result.effective_fps, 4),
        "nominal_fps": cfg.capture.fps,
        "first_frame_ns": result.first_frame_ns,
        "last_frame_ns": result.last_frame_ns,
        "end_reason": result.end_reason,
        "error": result.error,
        "capture": {"config": capture_cfg, "stats": result.source_stats, "loop": loop},
        # encode fps and bitrate live in the `quality` block (one definition of each).
        "encoder": {"config": encoder_cfg, "stats": result.encoder.as_dict() if result.encoder else None},
        "input": {
            "events": result.input_events,
            "records": result.input_records,
            "stats": result.input_stats,
        },
        "stream": result.stream_stats,
        "wall_seconds": round(result.wall_seconds, 3),
        "cpu_seconds": round(result.cpu_seconds, 3),
        "environment": environment(),
    }


@hydra_job("record")
def main(cfg: DictConfig) -> int:
    require_fine_clock()  # before anything opens: a 15.6 ms clock cannot pair 60 fps frames
    # Every component is built (and its parameters validated) before anything is opened.
    source = build(cfg.capture, "capture", CaptureSource)
    encoder = build(cfg.encoder, "encoder", VideoEncoder)
    device = build(cfg.input, "input", InputDevice)
    publisher = build(cfg.stream, "stream", FramePublisher)
    build(cfg.game, "game", Game)
    validator = build(cfg.validation, "validation") if cfg.validate else None
    capture_node = OmegaConf.to_container(cfg.capture, resolve=True)
    assert isinstance(capture_node, dict)
    capture_settings = {str(k): v for k, v in capture_node.items()}
    quality = plan_quality(
        cfg.get("quality", "auto"), capture_settings, cfg.get("quality_every", 1), sweep=is_multirun()
    )

    hotkey_settings = HotkeySettings.model_validate(
        OmegaConf.to_container(cfg.get("hotkeys") or {}, resolve=True) or {}
    )
    started = datetime.now(UTC)
    info = session_info(cfg, started)

    session_dir = run_dir()
    show_status = status_enabled(cfg.status)
    stop = threading.Event()
    controller = LoopController()
    hotkeys = Hotkeys(hotkey_settings) if hotkey_settings.bindings() else None
    recorder = Recorder(
        session_dir,
        source,
        encoder,
        device,
        publisher,
        status=show_status,
        controller=controller,
        stop=stop,
        hotkeys=hotkeys,
    )
    # One handler from the first frame to the last summary write: Ctrl+C, SIGTERM and SIGHUP stop
    # the recording; more of them while finishing are ignored (the validation block is kept).
    with stop_signals(lambda _name: stop.set()):
        result = recorder.run()
        summary = summarize(cfg, capture_settings, result, info)
        if hotkeys is not None:
            summary["hotkeys"] = hotkeys.stats()
        # Written as soon as the files are final (the validator reads it too); rewritten with the
        # quality and validation results below.
        write_summary(session_dir / SUMMARY, summary)
        if result.error is not None:
            message = f"recording ended early: {result.error} (files finalized)"
            log_to_file(logging.ERROR, message)
            print(f"grimjobs record: {message}", file=sys.stderr, flush=True)
        summary["quality"] = quality_summary(session_dir, quality, result, status=show_status)
        status = 0
        verdict_line = None
        if validator is not None:
            report = validator.check(session_dir)
            summary["validation"] = report.as_dict()
            status = 1 if report.verdict == "FAIL" else 0
            verdict_line = f"validation: {report.verdict}" + (
                f" ({'; '.join(report.reasons)})" if report.reasons else ""
            )
        if result.error is not None:
            status = 1
        write_summary(session_dir / SUMMARY, summary)
    log.info(
        "recorded %d frames (%d dropped) in %.1f s, %.2f fps, %d input events",
        result.frames,
        summary["dropped"],
        result.duration_s,
        result.effective_fps,
        result.input_events,
    )
    print(f"session: {session_dir}")
    if verdict_line is not None:
        print(verdict_line)
        log_to_file(logging.INFO, verdict_line)  # record.log ends with the verdict
    return status

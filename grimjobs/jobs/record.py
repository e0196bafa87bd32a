"""record: capture + inputs -> a session folder (the run folder), then validate it."""

from __future__ import annotations

import logging
import sys
from typing import Any

from omegaconf import DictConfig, OmegaConf

from grimjobs.capture.base import CaptureSource
from grimjobs.clock import require_fine_clock
from grimjobs.encoder.base import VideoEncoder
from grimjobs.game import Game
from grimjobs.input.base import InputDevice
from grimjobs.pipeline.recorder import Recorder, RecordingResult
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


def summarize(cfg: DictConfig, capture_cfg: dict[str, Any], result: RecordingResult) -> dict[str, Any]:
    encoder_cfg = OmegaConf.to_container(cfg.encoder, resolve=True)
    return {
        "frames": result.frames,
        "dropped": result.dropped,
        "capture_slots": result.slots,
        "duration_s": round(result.duration_s, 6),
        "effective_fps": round(result.effective_fps, 4),
        "nominal_fps": cfg.capture.fps,
        "first_frame_ns": result.first_frame_ns,
        "last_frame_ns": result.last_frame_ns,
        "end_reason": result.end_reason,
        "capture": {"config": capture_cfg, "stats": result.source_stats},
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

    session_dir = run_dir()
    show_status = status_enabled(cfg.status)
    recorder = Recorder(session_dir, source, encoder, device, publisher, status=show_status)
    result = recorder.run()
    summary = summarize(cfg, capture_settings, result)
    # Written as soon as the files are final (the validator reads it too); rewritten with the
    # quality and validation results below.
    write_summary(session_dir / SUMMARY, summary)
    summary["quality"] = quality_summary(session_dir, quality, result, status=show_status)
    status = 0
    if validator is not None:
        report = validator.check(session_dir)
        summary["validation"] = report.as_dict()
        status = 1 if report.verdict == "FAIL" else 0
    write_summary(session_dir / SUMMARY, summary)
    log.info(
        "recorded %d frames (%d dropped) in %.1f s, %.2f fps, %d input events",
        result.frames,
        result.dropped,
        result.duration_s,
        result.effective_fps,
        result.input_events,
    )
    print(f"session: {session_dir}")
    if validator is not None:
        print(f"validation: {report.verdict}" + (f" ({'; '.join(report.reasons)})" if report.reasons else ""))
    return status

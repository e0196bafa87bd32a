"""Size, speed and quality of a finished recording, for summary.json's `quality` block.

Quality needs the exact frames the recorder saw. A reproducible source (synthetic: slot k is always
pattern k; file: slot k is always the same frame of the file) can give them again: a fresh instance
built from the run's capture config is grabbed slot by slot, in order, and each decoded video frame
is compared with the source frame of its slot. Video frame i came from slot i unless frames were
dropped; then the slot is read from the pixels where the source draws it (synthetic), or quality is
skipped with the reason.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grimjobs.errors import UserError
from grimjobs.quality.metrics import QualityTotals
from grimjobs.settings import target_class

log = logging.getLogger(__name__)

# Capture sources whose grab(out, slot) depends only on the slot. A source class can also declare
# itself with a `reproducible = True` class attribute.
REPRODUCIBLE_MODULES = ("grimjobs.capture.synthetic", "grimjobs.capture.file")
# Sources that draw the slot index into the picture (grimjobs.capture.pattern).
INDEXED_MODULES = ("grimjobs.capture.synthetic",)
PROGRESS_INTERVAL_S = 0.5


@dataclass(frozen=True, slots=True)
class QualityPlan:
    """Decided before recording (so `quality=true` on a live source fails before anything runs).
    Plain data only: it crosses process boundaries with the job (joblib, submitit, ray)."""

    enabled: bool
    reason: str  # why quality is not measured, when it is not
    capture: Mapping[str, Any]  # the resolved capture config node
    every: int = 1  # compare every n-th video frame
    indexed: bool = False  # the source draws its slot index into the picture


def plan_quality(setting: Any, capture: Mapping[str, Any], every: Any = 1, sweep: bool = True) -> QualityPlan:
    """`setting` is the `quality` key of conf/record.yaml: auto, true or false.

    `auto` measures sweep members (`-m`, where choosing settings is the point) whose source can be
    replayed; a single recording skips the extra decode unless `quality=true`.
    """
    if setting not in ("auto", True, False):
        raise UserError(
            f"quality={setting!r} is not allowed: use quality=auto, quality=true or quality=false"
        )
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise UserError(f"quality_every={every!r} is not allowed: use a whole number >= 1 (1 = every frame)")
    cls = target_class(capture, "capture")
    reproducible = bool(getattr(cls, "reproducible", cls.__module__ in REPRODUCIBLE_MODULES))
    indexed = cls.__module__ in INDEXED_MODULES
    name = cls.__module__.rpartition(".")[2]
    if setting is False:
        return QualityPlan(False, "quality=false", capture, every, indexed)
    if setting == "auto" and not sweep:
        return QualityPlan(
            False,
            "quality=auto measures multirun sweeps; set quality=true for this run",
            capture,
            every,
            indexed,
        )
    if not reproducible:
        if setting is True:
            raise UserError(
                f"quality=true needs a reproducible capture source (capture=synthetic or capture=file), "
                f"not capture={name}; use quality=auto or quality=false"
            )
        return QualityPlan(
            False, f"capture={name} cannot be replayed to compare against", capture, every, indexed
        )
    return QualityPlan(True, "", capture, every, indexed)


def size_and_speed(
    *,
    frames: int,
    width: int,
    height: int,
    nominal_fps: float,
    bytes_: int,
    encode_seconds: float,
    cpu_seconds: float,
    wall_seconds: float,
) -> dict[str, Any]:
    """Numbers that do not depend on how fast the recording ran.

    `bitrate_bps` is the bitrate of the video played at the capture rate (bytes per frame times
    `capture.fps`): an unpaced recording's timestamps follow the encoder's speed, so bytes over
    recording time would rate a slow encoder as thrifty.
    """
    per_frame = bytes_ / frames if frames else 0.0
    return {
        "bytes": bytes_,
        "frames": frames,
        "bits_per_pixel": round(per_frame * 8 / (width * height), 6) if frames else None,
        "bitrate_bps": round(per_frame * 8 * nominal_fps) if frames else None,
        "encode_fps": round(frames / encode_seconds, 3) if encode_seconds > 0 else None,
        "cpu_seconds": round(cpu_seconds, 3),
        "cpu_seconds_per_frame": round(cpu_seconds / frames, 6) if frames else None,
        "wall_seconds": round(wall_seconds, 3),
    }


def measure_session(
    session_dir: Path, plan: QualityPlan, *, dropped: int, video: str = "capture.mp4", status: bool = False
) -> dict[str, Any]:
    """PSNR/SSIM of `session_dir/video` against the plan's source. Never raises for a bad session:
    the reason goes into the result (`skipped`), so a recording is never lost to its measurement."""
    if not plan.enabled:
        return {"skipped": plan.reason}
    if dropped and not plan.indexed:
        return {"skipped": f"{dropped} frames were dropped and this source does not mark its frames"}
    started = time.perf_counter()
    try:
        totals, unmatched = _compare(session_dir / video, plan, by_pixels=dropped > 0, status=status)
    except Exception as exc:  # the recording is done; a failed measurement is reported, not fatal
        log.exception("quality measurement failed")
        return {"skipped": f"measurement failed: {exc}"}
    result = {
        "reference": str(plan.capture.get("_target_")),
        **totals.as_dict(),
        "every": plan.every,
        "unmatched_frames": unmatched,
        "seconds": round(time.perf_counter() - started, 3),
    }
    log.info("quality: PSNR %s dB, SSIM %s over %d frames", result["psnr_db"], result["ssim"], totals.frames)
    return result


def _compare(path: Path, plan: QualityPlan, *, by_pixels: bool, status: bool) -> tuple[QualityTotals, int]:
    import av
    import numpy as np

    from grimjobs.capture.base import CaptureSource
    from grimjobs.capture.pattern import decode_index
    from grimjobs.quality.compare import FrameComparer, compare_format, frame_from_pixels, peak_value
    from grimjobs.settings import build

    source = build(dict(plan.capture), "capture", CaptureSource)
    fmt = source.open()
    reference = np.empty(fmt.shape, dtype=np.uint8)
    next_slot = 0
    unmatched = 0
    comparer: FrameComparer | None = None
    totals = QualityTotals()
    last_progress = 0.0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            total = stream.frames or 0
            for index, frame in enumerate(container.decode(stream)):
                if index % plan.every:
                    continue
                slot = decode_index(frame.to_ndarray(format="rgb24")) if by_pixels else index
                if slot is None or slot < next_slot - 1:
                    unmatched += 1  # unreadable mark, or a slot already passed (sources only go forward)
                    continue
                # Grab every slot up to this one in order: a file source reads frame after frame.
                while next_slot <= slot:
                    source.grab(reference, next_slot)
                    next_slot += 1
                if comparer is None:
                    pixel_format = compare_format(frame.format.name)
                    comparer = FrameComparer(frame.width, frame.height, pixel_format)
                    totals.peak = peak_value(pixel_format)
                for score in comparer.push(frame, frame_from_pixels(reference, fmt.pixel_format)):
                    totals.add(score)
                if status and time.perf_counter() - last_progress > PROGRESS_INTERVAL_S:
                    last_progress = time.perf_counter()
                    sys.stderr.write(f"\r[quality] {index + 1}/{total or '?'} frames compared ")
                    sys.stderr.flush()
        if comparer is not None:
            for score in comparer.finish():
                totals.add(score)
    finally:
        source.close()
        if status:
            sys.stderr.write("\n")
    return totals, unmatched


def quality_summary(
    session_dir: Path, plan: QualityPlan, result: Any, *, status: bool = False
) -> dict[str, Any]:
    """summary.json's `quality` block for a finished `RecordingResult`."""
    stats = result.encoder
    block = size_and_speed(
        frames=result.frames,
        width=int(plan.capture["width"]),
        height=int(plan.capture["height"]),
        nominal_fps=float(plan.capture["fps"]),
        bytes_=stats.bytes if stats else 0,
        encode_seconds=stats.encode_seconds if stats else 0.0,
        cpu_seconds=result.cpu_seconds,
        wall_seconds=result.wall_seconds,
    )
    if result.frames == 0:
        block["skipped"] = "no frames were recorded"
        return block
    block.update(measure_session(session_dir, plan, dropped=result.dropped, status=status))
    return block

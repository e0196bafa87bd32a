"""The record job against its baselines, measured side by side in one run.

1. Record pipeline vs ffmpeg CLI (issue 2; goal: ratio >= 0.95). The unpaced pipeline (synthetic
   720p source -> capture thread -> bounded queue -> PyAV libx264 veryfast crf 23 -> fragmented MP4
   + sync.csv) against `ffmpeg` encoding the very same pattern frames (rendered beforehand to a
   raw rgb24 file) with the same x264 settings (veryfast, crf 23, keyframe every 60 frames,
   yuv420p, fragmented MP4). fps = frames / wall time of the whole encode, file finalized.
   Also the CPU time per frame of both (informational; steadier than fps on a busy machine).
2. Start-up of `python -m grimjobs record --cfg job` vs `python -c pass` (informational).

    python -m benchmarks.bench_record [--quick]
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import Result, Stopwatch, main, median_of, progress

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT, FPS = 1280, 720, 30
CRF, PRESET, GOP = 23, "veryfast", 60  # the x264 group's defaults: gop = 2 s at 30 fps


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def record_pipeline_fps(frames: int, folder: Path) -> tuple[float, float]:
    """(frames per second, CPU seconds) of the real recorder, unpaced, from open to finalized files."""
    from grimjobs.capture.base import CaptureSource
    from grimjobs.encoder.base import VideoEncoder
    from grimjobs.input.base import InputDevice
    from grimjobs.pipeline.recorder import Recorder
    from grimjobs.settings import build
    from grimjobs.stream.base import FramePublisher

    source = build(
        {
            "_target_": "grimjobs.capture.synthetic.SyntheticSource",
            "width": WIDTH,
            "height": HEIGHT,
            "fps": FPS,
            "duration": None,
            "max_frames": frames,
            "paced": False,
            "seed": 0,
        },
        "capture",
        CaptureSource,
    )
    encoder = build(
        {
            "_target_": "grimjobs.encoder.x264.X264Encoder",
            "crf": CRF,
            "preset": PRESET,
            "gop_seconds": GOP / FPS,
        },
        "encoder",
        VideoEncoder,
    )
    device = build({"_target_": "grimjobs.input.none.NoInput"}, "input", InputDevice)
    publisher = build({"_target_": "grimjobs.stream.none.NoStream"}, "stream", FramePublisher)
    session = folder / "pipeline"
    shutil.rmtree(session, ignore_errors=True)
    cpu = _cpu_seconds(resource.RUSAGE_SELF)
    with Stopwatch() as watch:
        result = Recorder(session, source, encoder, device, publisher).run()
    cpu = _cpu_seconds(resource.RUSAGE_SELF) - cpu
    if result.frames != frames:
        raise RuntimeError(
            f"the pipeline recorded {result.frames} of {frames} frames ({result.dropped} dropped)"
        )
    return frames / watch.seconds, cpu


def write_raw_frames(frames: int, path: Path) -> None:
    """The same frames the synthetic source renders for slots 0..frames-1 (seed 0), as raw rgb24."""
    from grimjobs.capture.pattern import PatternRenderer

    renderer = PatternRenderer(WIDTH, HEIGHT, channels=3, seed=0)
    buffer = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    with path.open("wb") as raw:
        for index in range(frames):
            renderer.render(index, buffer)
            raw.write(buffer.data)


def ffmpeg_fps(ffmpeg: str, frames: int, raw: Path, folder: Path) -> tuple[float, float]:
    """(frames per second, CPU seconds) of the ffmpeg CLI on the same frames."""
    out = folder / "ffmpeg.mp4"
    command = [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{WIDTH}x{HEIGHT}",
        "-framerate",
        str(FPS),
        "-i",
        str(raw),
        "-c:v",
        "libx264",
        "-preset",
        PRESET,
        "-crf",
        str(CRF),
        "-g",
        str(GOP),
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "frag_keyframe+empty_moov+default_base_moof",
        "-f",
        "mp4",
        str(out),
    ]
    cpu = _cpu_seconds(resource.RUSAGE_CHILDREN)
    with Stopwatch() as watch:
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    return frames / watch.seconds, _cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def startup_seconds(command: list[str]) -> float:
    with Stopwatch() as watch:
        subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return watch.seconds


def run(quick: bool) -> list[Result]:
    frames = 90 if quick else 300
    rounds = 1 if quick else 3
    results: list[Result] = []
    ffmpeg = shutil.which("ffmpeg")
    with tempfile.TemporaryDirectory(prefix="bench_record_") as tmp:
        folder = Path(tmp)
        if ffmpeg is None:
            progress("ffmpeg not found: skipping the record pipeline comparison")
        else:
            raw = folder / "frames.rgb"
            progress(f"rendering {frames} pattern frames ({WIDTH}x{HEIGHT}) to a raw file")
            write_raw_frames(frames, raw)
            pipeline, baseline = 0.0, 0.0
            pipeline_cpu, baseline_cpu = float("inf"), float("inf")
            # Alternate the two so both see the same machine state; keep each one's best round.
            for round_ in range(rounds):
                progress(f"round {round_ + 1}/{rounds}: record pipeline, then ffmpeg CLI ({frames} frames)")
                fps, cpu = record_pipeline_fps(frames, folder)
                pipeline, pipeline_cpu = max(pipeline, fps), min(pipeline_cpu, cpu)
                fps, cpu = ffmpeg_fps(ffmpeg, frames, raw, folder)
                baseline, baseline_cpu = max(baseline, fps), min(baseline_cpu, cpu)
            results.append(
                Result(
                    name=f"record pipeline, unpaced 720p x264 {PRESET} crf {CRF}",
                    value=pipeline,
                    baseline=baseline,
                    unit="fps",
                    goal=0.95,
                    baseline_name="ffmpeg CLI",
                    note=f"{frames} frames, best of {rounds}",
                )
            )
            # CPU time hardly depends on what else the machine is doing: the steadier comparison.
            results.append(
                Result(
                    name="record pipeline CPU per frame (same settings)",
                    value=pipeline_cpu / frames * 1000,
                    baseline=baseline_cpu / frames * 1000,
                    unit="ms",
                    higher_is_better=False,
                    baseline_name="ffmpeg CLI",
                    note=f"{frames} frames, least of {rounds}",
                )
            )
        progress("start-up: python -m grimjobs record --cfg job vs python -c pass")
        repeats = 3 if quick else 7
        tool = median_of(
            repeats, lambda: startup_seconds([sys.executable, "-m", "grimjobs", "record", "--cfg", "job"])
        )
        python = median_of(repeats, lambda: startup_seconds([sys.executable, "-c", "pass"]))
        results.append(
            Result(
                name="start-up of `grimjobs record --cfg job`",
                value=tool,
                baseline=python,
                unit="s",
                higher_is_better=False,
                baseline_name="python -c pass",
                note=f"median of {repeats}",
            )
        )
    return results


if __name__ == "__main__":
    main(run)

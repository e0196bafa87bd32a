"""Cost per captured frame against the ffmpeg CLI doing the same job end to end (issue 17).

Every row runs two whole programs one after the other on the same input, on the same machine, in
the same run, and compares what each cost:

1. Paced capture + encode, 720p30 and 1080p60, for the x11grab, monitor and window sources: a
   real X11 window (ffmpeg's SDL2 output device playing `testsrc2`, borderless, filling a private
   Xvfb screen) is recorded by `python -m grimjobs record capture=<source>` and by
   `ffmpeg -f x11grab ... -c:v libx264` with the same preset, crf, GOP, pixel format and
   fragmenting. Cost per frame is marginal: each program runs twice, a short and a long
   recording, and cost = (CPU of the long run - CPU of the short run) / (frames of the long run -
   frames of the short run), so neither side's fixed start-up and shut-down is spread over the
   frames (grimjobs pays ~1.5 CPU s for Python, Hydra's composition and imports; ffmpeg ~0.05 s).
   Ratio = ffmpeg's cost / grimjobs' (goal >= 1.0: at or below ffmpeg's cost). The whole-process
   CPU of the long runs is a second, informational row (what a user pays for that recording),
   and a third says how many slots the long run captured (goal: all of them).
2. File source, unpaced: a 720p FFV1 clip re-encoded by `record capture=file capture.paced=false`
   and by `ffmpeg -i clip -c:v libx264` (same settings). Ratio = ffmpeg's wall time / grimjobs'
   (goal >= 1.0 throughput).
3. Peak memory flat in duration: the peak RSS of a short and a long paced synthetic recording
   (1 and 10 minutes; --quick: 10 s and 60 s). Ratio = short peak / long peak (goal >= 0.909:
   the long run's peak within 10 % of the short one's).

The player that paints the window runs throughout and is not counted on either side. x264 comes
from PyAV's wheel for grimjobs and from Debian for ffmpeg; both run with their default threading.

    python -m benchmarks.bench_cost [--quick]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import Result, main, progress, xvfb

ROOT = Path(__file__).resolve().parent.parent
CRF, PRESET, GOP_SECONDS = 23, "veryfast", 2.0  # conf/encoder/x264.yaml's defaults
FRAGMENTED = "frag_keyframe+empty_moov+default_base_moof"
PLAYER_TITLE = "grimjobs-bench-player"


@dataclass(frozen=True, slots=True)
class Run:
    """What one whole program cost: CPU seconds (user + system, all threads), wall seconds, peak RSS."""

    cpu_s: float
    wall_s: float
    max_rss_mb: float


def run_measured(command: list[str], cwd: Path, timeout_s: float) -> Run:
    """Run `command` to completion and read its own rusage (os.wait4: this child only)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"timed out after {timeout_s:.0f} s: {' '.join(command[:6])} ...")
        time.sleep(0.05)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {process.returncode}: {stderr.strip()[-400:]}")
    # ru_maxrss is in KiB on Linux.
    return Run(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024)


@contextlib.contextmanager
def player(ffmpeg: str, width: int, height: int, fps: int) -> Iterator[None]:
    """A real X11 window showing moving content for the whole measurement."""
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}",
        "-pix_fmt", "yuv420p", "-f", "sdl2",
        "-window_borderless", "1", "-window_x", "0", "-window_y", "0",
        "-window_size", f"{width}x{height}", "-window_enable_quit", "0",
        PLAYER_TITLE,
    ]  # fmt: skip
    env = {**os.environ, "SDL_AUDIODRIVER": "dummy"}
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        time.sleep(1.5)  # the window maps and starts painting
        if process.poll() is not None:
            raise RuntimeError("the ffmpeg SDL2 player window did not start (no SDL2 output device?)")
        yield
    finally:
        process.terminate()
        process.wait(10)


def grimjobs_record(folder: Path, overrides: list[str], timeout_s: float) -> tuple[Run, dict[str, Any]]:
    command = [
        sys.executable, "-m", "grimjobs", "record", "input=none", "validate=false", "quality=false",
        f"hydra.run.dir={folder}", *overrides,
    ]  # fmt: skip
    run = run_measured(command, ROOT, timeout_s)
    summary = json.loads((folder / "summary.json").read_text())
    return run, summary


def x264_args(fps: float) -> list[str]:
    return [
        "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-g", str(round(fps * GOP_SECONDS)),
        "-pix_fmt", "yuv420p", "-movflags", FRAGMENTED, "-flush_packets", "1", "-f", "mp4",
    ]  # fmt: skip


def frames_in(path: Path) -> int:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(out.stdout.strip().splitlines()[0])


def ffmpeg_x11grab(
    ffmpeg: str, display: str, folder: Path, w: int, h: int, fps: int, s: float
) -> tuple[Run, int]:
    out = folder / f"ffmpeg-{s:g}.mp4"
    run = run_measured(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab", "-framerate", str(fps),
         "-video_size", f"{w}x{h}", "-draw_mouse", "0", "-i", f"{display}+0,0",
         "-t", str(s), *x264_args(fps), str(out)],
        folder, s * 4 + 60,
    )  # fmt: skip
    return run, frames_in(out)


def capture_rows(ffmpeg: str, width: int, height: int, fps: int, seconds: float) -> list[Result]:
    results: list[Result] = []
    size = f"{width}x{height}p{fps}"
    short = min(2.0, seconds / 4)
    with (
        xvfb(width, height) as display,
        player(ffmpeg, width, height, fps),
        tempfile.TemporaryDirectory(prefix="grimjobs-bench-cost-") as tmp,
    ):
        folder = Path(tmp)
        progress(f"{size}: ffmpeg -f x11grab ({short:g} s and {seconds:g} s)")
        ff_short, ff_short_frames = ffmpeg_x11grab(ffmpeg, display, folder, width, height, fps, short)
        ff_long, ff_frames = ffmpeg_x11grab(ffmpeg, display, folder, width, height, fps, seconds)
        ff_cost = (ff_long.cpu_s - ff_short.cpu_s) / max(ff_frames - ff_short_frames, 1) * 1000
        sources = {
            "x11grab": ["capture=x11grab"],
            "monitor": ["capture=monitor"],
            "window": ["capture=window", f"capture.title={PLAYER_TITLE}"],
        }
        for name, choice in sources.items():
            progress(f"{size}: grimjobs record capture={name} ({short:g} s and {seconds:g} s)")
            common = [
                *choice, f"capture.width={width}", f"capture.height={height}", f"capture.fps={fps}",
                f"encoder.crf={CRF}", f"encoder.preset={PRESET}", f"encoder.gop_seconds={GOP_SECONDS}",
            ]  # fmt: skip
            timeout = seconds * 4 + 60
            run_short, summary_short = grimjobs_record(
                folder / f"{name}-short", [*common, f"capture.duration={short}"], timeout
            )
            run, summary = grimjobs_record(folder / name, [*common, f"capture.duration={seconds}"], timeout)
            frames, frames_short = int(summary["frames"]), int(summary_short["frames"])
            slots = int(summary.get("capture_slots") or frames)
            cost = (run.cpu_s - run_short.cpu_s) / max(frames - frames_short, 1) * 1000
            results.append(
                Result(
                    f"CPU per frame (marginal), record capture={name} {size} vs ffmpeg x11grab+libx264",
                    cost, ff_cost, "ms", higher_is_better=False, goal=1.0, baseline_name="ffmpeg CLI",
                    note=f"grimjobs {run_short.cpu_s:.2f}/{run.cpu_s:.2f} CPU s for "
                    f"{frames_short}/{frames} frames; ffmpeg {ff_short.cpu_s:.2f}/{ff_long.cpu_s:.2f} "
                    f"CPU s for {ff_short_frames}/{ff_frames} frames",
                )
            )  # fmt: skip
            results.append(
                Result(
                    f"CPU of the whole {seconds:g} s recording, capture={name} {size} (start-up included)",
                    run.cpu_s, ff_long.cpu_s, "s", higher_is_better=False, baseline_name="ffmpeg CLI",
                )
            )  # fmt: skip
            results.append(
                Result(
                    f"slots captured, record capture={name} {size}, {seconds:g} s",
                    frames / max(slots, 1), 1.0, "fraction", goal=1.0, baseline_name="every slot",
                    note=f"{frames} of {slots} slots; dropped {summary.get('dropped')}",
                )
            )  # fmt: skip
    return results


def file_rows(ffmpeg: str, frames: int) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="grimjobs-bench-cost-") as tmp:
        folder = Path(tmp)
        clip = folder / "clip.mkv"
        progress(f"file source: making a {frames}-frame 720p FFV1 clip")
        subprocess.run(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
             "-i", "testsrc2=size=1280x720:rate=30", "-frames:v", str(frames),
             "-c:v", "ffv1", "-pix_fmt", "yuv420p", str(clip)],
            check=True,
        )  # fmt: skip
        progress("file source: ffmpeg -i clip -c:v libx264")
        ff = run_measured(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip), *x264_args(30),
             str(folder / "ffmpeg.mp4")],
            folder, 600,
        )  # fmt: skip
        progress("file source: grimjobs record capture=file capture.paced=false")
        run, summary = grimjobs_record(
            folder / "session",
            ["capture=file", f"capture.path={clip}", "capture.paced=false", "capture.width=1280",
             "capture.height=720", "capture.fps=30", f"encoder.crf={CRF}", f"encoder.preset={PRESET}"],
            600,
        )  # fmt: skip
    return [
        Result(
            f"file source unpaced, {frames} frames 720p FFV1 -> x264, vs ffmpeg -i",
            run.wall_s, ff.wall_s, "s", higher_is_better=False, goal=1.0, baseline_name="ffmpeg CLI",
            note=f"CPU {run.cpu_s:.2f} s vs {ff.cpu_s:.2f} s; {summary['frames']} frames",
        )
    ]  # fmt: skip


def memory_rows(short_s: float, long_s: float) -> list[Result]:
    peaks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="grimjobs-bench-cost-") as tmp:
        for seconds in (short_s, long_s):
            progress(f"peak memory: paced synthetic 720p30 recording of {seconds:g} s")
            run, _ = grimjobs_record(
                Path(tmp) / f"mem{seconds:g}",
                ["capture=synthetic", f"capture.duration={seconds}", "input=scripted"],
                seconds * 3 + 120,
            )
            peaks.append(run.max_rss_mb)
    return [
        Result(
            f"peak RSS, {short_s:g} s vs {long_s:g} s recording (long within 10 %)",
            peaks[1], peaks[0], "MB", higher_is_better=False, goal=1 / 1.1,
            baseline_name=f"{short_s:g} s run",
        )
    ]  # fmt: skip


def run(quick: bool) -> list[Result]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None or shutil.which("ffprobe") is None or shutil.which("Xvfb") is None:
        raise RuntimeError("needs ffmpeg, ffprobe and Xvfb (Debian packages ffmpeg, xvfb)")
    seconds = 8.0 if quick else 20.0
    results = capture_rows(ffmpeg, 1280, 720, 30, seconds)
    results += capture_rows(ffmpeg, 1920, 1080, 60, seconds)
    results += file_rows(ffmpeg, 300 if quick else 1200)
    results += memory_rows(10, 60) if quick else memory_rows(60, 600)
    if not quick:  # 1080p60 with a real-time preset, sustained for 10 minutes
        results += capture_rows(ffmpeg, 1920, 1080, 60, 600)[2::3]
    return results


if __name__ == "__main__":
    main(run)

"""Record a short synthetic session with every encoder and check the video against sync.csv.

One multirun records all encoders (one Hydra start-up). For each: sync.csv's pts are exactly the
pts a decoder sees (the container's dts shift is applied), the decoded frames are the source
frames 0..n-1 in order, and summary.json carries size, speed and quality.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import av
import pytest

from grimjobs.capture.pattern import decode_index
from grimjobs.session.sync import read_sync
from tests.conftest import ffprobe_frames, run_grimjobs

ENCODERS = ("x264", "x265", "svtav1", "ffv1")
FRAMES = 24
COMMON = (
    "input=none",
    "validate=false",
    "status=false",
    "capture.paced=false",
    "capture.duration=null",
    f"capture.max_frames={FRAMES}",
    "capture.width=320",
    "capture.height=180",
)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("encoders")
    done = run_grimjobs("record", "-m", *COMMON, f"encoder={','.join(ENCODERS)}", f"hydra.sweep.dir={folder}")
    assert done.returncode == 0, done.stderr[-3000:]
    members = {}
    for member in sorted(p for p in folder.iterdir() if p.is_dir()):
        config = (member / ".hydra" / "overrides.yaml").read_text()
        name = next(e for e in ENCODERS if f"encoder={e}\n" in config + "\n")
        members[name] = member
    assert set(members) == set(ENCODERS)
    return members


@pytest.mark.parametrize("name", ENCODERS)
def test_sync_pts_equal_decoded_pts(sweep: dict[str, Path], name: str) -> None:
    session = sweep[name]
    table = read_sync(session / "sync.csv")
    with av.open(str(session / "capture.mp4")) as container:
        frames = [
            (frame.pts, decode_index(frame.to_ndarray(format="rgb24"))) for frame in container.decode(video=0)
        ]
    assert len(table) == FRAMES
    assert [pts for pts, _ in frames] == table.pts.tolist()
    assert [index for _, index in frames] == list(range(FRAMES))
    assert table.frame_index.tolist() == list(range(FRAMES))


@pytest.mark.parametrize("name", ENCODERS)
def test_ffprobe_counts_every_frame(sweep: dict[str, Path], name: str) -> None:
    assert ffprobe_frames(sweep[name] / "capture.mp4") == FRAMES


@pytest.mark.parametrize("name", ENCODERS)
def test_summary_has_size_speed_and_quality(sweep: dict[str, Path], name: str) -> None:
    quality = json.loads((sweep[name] / "summary.json").read_text())["quality"]
    size = (sweep[name] / "capture.mp4").stat().st_size
    assert quality["bytes"] == size
    assert quality["frames"] == FRAMES
    assert quality["bitrate_bps"] == round(size / FRAMES * 8 * 30)
    assert quality["encode_fps"] > 0 and quality["cpu_seconds"] > 0
    assert quality["compared_frames"] == FRAMES
    assert quality["reference"] == "grimjobs.capture.synthetic.SyntheticSource"
    if name == "ffv1":  # lossless: the decoded frames are the source frames converted to yuv420p
        assert quality["identical"] is True
        assert quality["psnr_db"] is None and quality["ssim"] == 1.0
    else:
        assert quality["identical"] is False
        assert 30 < quality["psnr_db"] < 80 and math.isfinite(quality["psnr_db"])
        assert 0.9 < quality["ssim"] < 1.0


def test_sweep_report_written_by_the_callback(sweep: dict[str, Path]) -> None:
    folder = next(iter(sweep.values())).parent
    text = (folder / "report.md").read_text()
    for name in ("libx264", "libx265", "libsvtav1", "ffv1"):
        assert name in text
    assert (folder / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_nvenc_without_gpu_fails_in_one_line(tmp_path: Path) -> None:
    done = run_grimjobs("record", *COMMON, "encoder=nvenc", f"hydra.run.dir={tmp_path}")
    if done.returncode == 0:  # a machine with an NVIDIA GPU: then it must record correctly
        table = read_sync(tmp_path / "sync.csv")
        with av.open(str(tmp_path / "capture.mp4")) as container:
            assert [f.pts for f in container.decode(video=0)] == table.pts.tolist()
        return
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(
        "grimjobs record: error: encoder=nvenc: h264_nvenc cannot open"
    )
    assert not (tmp_path / "capture.mp4").exists()


def test_with_drops_the_slot_is_read_from_the_pixels(sweep: dict[str, Path]) -> None:
    """After drops, frame i is no longer slot i; the synthetic source's index band tells the slot,
    and here (no real drops) must give the very same scores as the frame order."""
    from grimjobs.quality.measure import measure_session, plan_quality

    summary = json.loads((sweep["x265"] / "summary.json").read_text())
    plan = plan_quality("auto", summary["capture"]["config"])
    by_pixels = measure_session(sweep["x265"], plan, dropped=1)
    assert by_pixels["compared_frames"] == FRAMES and by_pixels["unmatched_frames"] == 0
    assert by_pixels["psnr_db"] == summary["quality"]["psnr_db"]
    every_third = measure_session(
        sweep["x265"], plan_quality("auto", summary["capture"]["config"], 3), dropped=0
    )
    assert every_third["compared_frames"] == FRAMES // 3


@pytest.mark.parametrize(("encoder", "identical"), [("ffv1", True), ("x264", False)])
def test_quality_against_a_file_source(
    sweep: dict[str, Path], tmp_path: Path, encoder: str, identical: bool
) -> None:
    """capture=file replays the reference video; lossless re-encoding of it scores identical, and a
    lossy one scores like a lossy encode (a misaligned comparison would score far lower)."""
    reference = sweep["ffv1"] / "capture.mp4"
    done = run_grimjobs(
        "record",
        "capture=file",
        f"capture.path={reference}",
        "capture.paced=false",
        "capture.width=320",
        "capture.height=180",
        "input=none",
        "validate=false",
        "status=false",
        "quality=true",
        f"encoder={encoder}",
        f"hydra.run.dir={tmp_path}",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    quality = json.loads((tmp_path / "summary.json").read_text())["quality"]
    assert quality["reference"] == "grimjobs.capture.file.FileSource"
    assert quality["compared_frames"] == FRAMES
    assert quality["identical"] is identical
    if not identical:
        assert quality["psnr_db"] > 40 and quality["ssim"] > 0.98


def test_quality_true_on_a_live_source_fails_before_recording(tmp_path: Path) -> None:
    done = run_grimjobs(
        "record",
        "capture=monitor",
        "quality=true",
        "input=none",
        "validate=false",
        f"hydra.run.dir={tmp_path}",
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "grimjobs record: error: quality=true needs a reproducible capture source (capture=synthetic or "
        "capture=file), not capture=monitor; use quality=auto or quality=false"
    ]
    assert not (tmp_path / "capture.mp4").exists()

"""PSNR/SSIM through PyAV's filter graph, their totals, and when quality is measured."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grimjobs.capture.pattern import PatternRenderer
from grimjobs.errors import UserError
from grimjobs.quality.compare import FrameComparer, compare_format, frame_from_pixels, peak_value
from grimjobs.quality.measure import plan_quality, size_and_speed
from grimjobs.quality.metrics import FrameScore, QualityTotals, psnr_from_mse

W, H = 320, 180


def pattern(index: int) -> np.ndarray:
    out = np.empty((H, W, 3), dtype=np.uint8)
    PatternRenderer(W, H).render(index, out)
    return out


def score_pairs(pairs: list[tuple[np.ndarray, np.ndarray]], pixel_format: str = "yuv420p") -> QualityTotals:
    comparer = FrameComparer(W, H, pixel_format)
    totals = QualityTotals(peak=peak_value(pixel_format))
    for distorted, reference in pairs:
        for score in comparer.push(
            frame_from_pixels(distorted, "rgb24"), frame_from_pixels(reference, "rgb24")
        ):
            totals.add(score)
    for score in comparer.finish():
        totals.add(score)
    return totals


@pytest.mark.parametrize("pixel_format", ["yuv420p", "yuv444p", "gbrp"])
def test_identical_frames_score_inf_and_one(pixel_format: str) -> None:
    frames = [pattern(k) for k in range(3)]
    totals = score_pairs([(f, f) for f in frames], pixel_format)
    assert totals.frames == 3
    assert totals.psnr_db == math.inf and totals.psnr_min_db == math.inf
    assert totals.ssim == 1.0
    assert totals.as_dict()["identical"] is True and totals.as_dict()["psnr_db"] is None


def test_degraded_frames_score_lower_the_more_degraded() -> None:
    rng = np.random.default_rng(1)
    reference = [pattern(k) for k in range(3)]

    def noisy(image: np.ndarray, amplitude: int) -> np.ndarray:
        noise = rng.integers(-amplitude, amplitude + 1, size=image.shape)
        degraded: np.ndarray = np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        return degraded

    light = score_pairs([(noisy(f, 4), f) for f in reference], "gbrp")
    heavy = score_pairs([(noisy(f, 40), f) for f in reference], "gbrp")
    assert math.isfinite(light.psnr_db) and heavy.psnr_db < light.psnr_db < 60
    assert heavy.ssim < light.ssim < 1.0
    # The filter's MSE is the real one: uniform noise in [-a, a] has variance ((2a+1)^2 - 1) / 12
    # (a little less where clipping at 0/255 bites).
    assert light.mse == pytest.approx((9**2 - 1) / 12, rel=0.05)


def test_a_different_frame_scores_much_lower() -> None:
    totals = score_pairs([(pattern(5), pattern(6))])
    assert 5 < totals.psnr_db < 40 and totals.ssim < 0.99


def test_psnr_from_mse() -> None:
    assert psnr_from_mse(0) == math.inf
    assert psnr_from_mse(255.0**2) == 0.0
    assert psnr_from_mse(1.0) == pytest.approx(48.1308, abs=1e-4)
    assert psnr_from_mse(1.0, peak=1023) == pytest.approx(60.1975, abs=1e-4)
    with pytest.raises(ValueError):
        psnr_from_mse(-1)


@given(st.lists(st.floats(0, 1000), min_size=1, max_size=20))
def test_totals_psnr_comes_from_the_mean_mse(mses: list[float]) -> None:
    totals = QualityTotals()
    for mse in mses:
        totals.add(FrameScore(mse, psnr_from_mse(mse), 0.5))
    assert totals.mse == pytest.approx(sum(mses) / len(mses))
    assert totals.psnr_db == psnr_from_mse(totals.mse)
    assert totals.psnr_db <= max(psnr_from_mse(m) for m in mses)
    assert totals.psnr_min_db == min(psnr_from_mse(m) for m in mses)
    assert totals.as_dict()["identical"] == all(m == 0 for m in mses)


def test_frame_score_from_filter_metadata() -> None:
    score = FrameScore.from_metadata(
        {"lavfi.psnr.mse_avg": "0.000000", "lavfi.psnr.psnr_avg": "inf", "lavfi.ssim.All": "1.000000"}
    )
    assert score == FrameScore(0.0, math.inf, 1.0)
    with pytest.raises(ValueError, match=r"lavfi\.ssim\.All"):
        FrameScore.from_metadata({"lavfi.psnr.mse_avg": "1", "lavfi.psnr.psnr_avg": "48"})


def test_compare_format_and_peak() -> None:
    assert compare_format("yuv420p") == "yuv420p"
    assert compare_format("bgr0") == "gbrp"
    assert peak_value("yuv420p") == 255 and peak_value("yuv420p10le") == 1023


SYNTHETIC = {"_target_": "grimjobs.capture.synthetic.SyntheticSource", "width": 320, "height": 180, "fps": 30}


def test_plan_quality_auto_true_false() -> None:
    assert plan_quality("auto", SYNTHETIC).enabled
    assert plan_quality(True, SYNTHETIC).indexed
    assert not plan_quality(False, SYNTHETIC).enabled
    live = {"_target_": "grimjobs.stream.none.NoStream"}  # any class that is not a replayable source
    assert not plan_quality("auto", live).enabled
    with pytest.raises(UserError, match=r"^quality=true needs a reproducible capture source"):
        plan_quality(True, live)
    with pytest.raises(UserError, match=r"^quality='yes' is not allowed"):
        plan_quality("yes", SYNTHETIC)
    with pytest.raises(UserError, match=r"^quality_every=0"):
        plan_quality("auto", SYNTHETIC, 0)


def test_bitrate_is_at_capture_fps_not_recording_speed() -> None:
    block = size_and_speed(
        frames=100,
        width=320,
        height=180,
        nominal_fps=30,
        bytes_=125_000,
        encode_seconds=0.5,
        cpu_seconds=2.0,
        wall_seconds=1.0,
    )
    assert block["bitrate_bps"] == 300_000  # 1250 bytes/frame * 8 * 30 fps
    assert block["bits_per_pixel"] == pytest.approx(10_000 / 57_600, abs=1e-6)
    assert block["encode_fps"] == 200 and block["cpu_seconds_per_frame"] == 0.02

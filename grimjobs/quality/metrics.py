"""Per-frame scores and their totals. Pure: no PyAV, no files.

PSNR over a whole video is computed from the mean MSE of its frames (as FFmpeg's psnr filter
reports its `average`), not as the mean of per-frame PSNRs, so one perfect frame cannot make the
average infinite. Identical videos have MSE 0 and PSNR +inf; JSON has no infinity, so the JSON form
writes `psnr_db: null` with `identical: true`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def psnr_from_mse(mse: float, peak: float = 255.0) -> float:
    """PSNR in dB of a mean squared error for samples whose maximum is `peak`; +inf for mse 0."""
    if mse < 0:
        raise ValueError(f"a mean squared error cannot be negative: {mse}")
    return math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse)


@dataclass(frozen=True, slots=True)
class FrameScore:
    mse: float  # mean over the planes, weighted by their sample counts (FFmpeg's mse_avg)
    psnr_db: float  # of this frame; +inf when identical
    ssim: float  # FFmpeg's SSIM "All": weighted over the planes, 1.0 when identical

    @classmethod
    def from_metadata(cls, metadata: dict[str, str]) -> FrameScore:
        """Read the psnr and ssim filters' per-frame metadata (numbers such as `inf`, `1.000000`)."""
        try:
            return cls(
                mse=float(metadata["lavfi.psnr.mse_avg"]),
                psnr_db=float(metadata["lavfi.psnr.psnr_avg"]),
                ssim=float(metadata["lavfi.ssim.All"]),
            )
        except KeyError as missing:
            raise ValueError(f"frame metadata has no {missing}: {sorted(metadata)}") from None


@dataclass
class QualityTotals:
    """Running totals over compared frames."""

    peak: float = 255.0
    frames: int = 0
    mse_sum: float = 0.0
    ssim_sum: float = 0.0
    psnr_min_db: float = math.inf
    ssim_min: float = math.inf
    identical_frames: int = 0

    def add(self, score: FrameScore) -> None:
        self.frames += 1
        self.mse_sum += score.mse
        self.ssim_sum += score.ssim
        self.psnr_min_db = min(self.psnr_min_db, score.psnr_db)
        self.ssim_min = min(self.ssim_min, score.ssim)
        self.identical_frames += score.mse == 0

    @property
    def mse(self) -> float:
        return self.mse_sum / self.frames if self.frames else math.nan

    @property
    def psnr_db(self) -> float:
        return psnr_from_mse(self.mse, self.peak) if self.frames else math.nan

    @property
    def ssim(self) -> float:
        return self.ssim_sum / self.frames if self.frames else math.nan

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: infinities become null with `identical: true`."""
        identical = self.frames > 0 and self.identical_frames == self.frames
        return {
            "compared_frames": self.frames,
            "psnr_db": _finite(self.psnr_db),
            "psnr_min_db": _finite(self.psnr_min_db),
            "ssim": _finite(self.ssim, digits=6),
            "ssim_min": _finite(self.ssim_min, digits=6),
            "mse": _finite(self.mse, digits=6),
            "identical": identical,
        }


def _finite(value: float, digits: int = 4) -> float | None:
    return round(value, digits) if math.isfinite(value) else None

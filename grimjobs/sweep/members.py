"""The members of a sweep folder: one row per recording, read from its summary.json and .hydra/.

Pure file reading; works on any folder (a multirun folder, a parent of several, one session).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# PSNR of identical videos is +inf; for ranking and plotting a lossless member counts as this.
LOSSLESS_PSNR_DB = 100.0
METRICS = ("psnr", "ssim")


@dataclass(frozen=True, slots=True)
class Member:
    folder: Path
    label: str  # the member's own overrides, e.g. "encoder=x265 encoder.crf=23"
    codec: str
    preset: str  # "-" for codecs without presets
    crf: str  # "-" for codecs without a rate factor
    frames: int
    bytes: int
    bitrate_bps: float | None
    bits_per_pixel: float | None
    encode_fps: float | None
    cpu_seconds: float | None
    psnr_db: float | None  # +inf for identical
    ssim: float | None
    skipped: str | None  # why quality is missing

    @property
    def series(self) -> str:
        """Members drawn as one line: same codec and preset, varying crf."""
        return self.codec if self.preset == "-" else f"{self.codec} {self.preset}"

    def quality(self, metric: str) -> float | None:
        if metric == "psnr":
            if self.psnr_db is None:
                return None
            return LOSSLESS_PSNR_DB if math.isinf(self.psnr_db) else self.psnr_db
        if metric == "ssim":
            return self.ssim
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")

    def quality_per_mbit(self, metric: str) -> float | None:
        """Quality per Mbit/s of video: the table's sort key."""
        q = self.quality(metric)
        if q is None or not self.bitrate_bps:
            return None
        return q / (self.bitrate_bps / 1e6)


def _overrides(folder: Path) -> list[str]:
    path = folder / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return []
    from omegaconf import OmegaConf

    loaded = OmegaConf.load(path)
    return [str(item) for item in loaded if not str(item).startswith("hydra")] if loaded else []


def _text(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def read_member(summary_path: Path) -> Member | None:
    """A member from its summary.json, or None when the file is not a recording's summary."""
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict) or "encoder" not in summary:
        return None
    folder = summary_path.parent
    encoder = summary.get("encoder") or {}
    config = encoder.get("config") or {}
    stats = encoder.get("stats") or {}
    quality = summary.get("quality") or {}
    frames = int(quality.get("frames", summary.get("frames", 0)) or 0)
    size = int(quality.get("bytes", stats.get("bytes", 0)) or 0)
    psnr: float | None = quality.get("psnr_db")
    if psnr is None and quality.get("identical"):
        psnr = math.inf
    codec = str(stats.get("codec") or str(config.get("_target_", "?")).rpartition(".")[2])
    return Member(
        folder=folder,
        label=" ".join(_overrides(folder)) or folder.name,
        codec=codec,
        preset=_text(config.get("preset")),
        crf=_text(config.get("crf")),
        frames=frames,
        bytes=size,
        bitrate_bps=quality.get("bitrate_bps"),
        bits_per_pixel=quality.get("bits_per_pixel"),
        encode_fps=quality.get("encode_fps"),
        cpu_seconds=quality.get("cpu_seconds", summary.get("cpu_seconds")),
        psnr_db=psnr,
        ssim=quality.get("ssim"),
        skipped=quality.get("skipped") if quality else "no quality block in summary.json",
    )


def collect(folder: Path) -> list[Member]:
    """Every recording below `folder` (sorted by folder), skipping files that are not summaries."""
    members = [read_member(path) for path in sorted(folder.rglob("summary.json"))]
    return [m for m in members if m is not None]


def failed_members(folder: Path) -> list[Path]:
    """Member folders of a multirun that have a config but no summary.json (the run failed)."""
    return sorted(
        p.parent.parent
        for p in folder.rglob(".hydra/config.yaml")
        if not (p.parent.parent / "summary.json").exists()
    )

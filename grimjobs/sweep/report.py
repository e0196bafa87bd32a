"""The sweep report: a table sorted by quality per bit, a CSV of the same rows, and a PNG of
bitrate against quality per encoder/preset with the Pareto front marked."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grimjobs.sweep.members import METRICS, Member, collect, failed_members
from grimjobs.sweep.pareto import pareto_front

REPORT_MD = "report.md"
REPORT_CSV = "report.csv"
REPORT_PNG = "report.png"
COLUMNS = (
    "rank",
    "member",
    "codec",
    "preset",
    "crf",
    "Mbit/s",
    "bpp",
    "PSNR dB",
    "SSIM",
    "quality/Mbit",
    "enc fps",
    "CPU s",
    "pareto",
)


@dataclass(frozen=True, slots=True)
class SweepReport:
    metric: str
    ranked: list[Member]  # measured members, best quality per bit first
    unmeasured: list[Member]  # recordings without quality (live source, failed measurement)
    failed: list[Path]  # member folders without summary.json
    front: list[Member]  # Pareto front, by bitrate
    common: list[str]  # overrides every member shares (left out of the member labels)

    def rows(self) -> list[list[str]]:
        on_front = {id(m) for m in self.front}
        rows = []
        for rank, m in enumerate([*self.ranked, *self.unmeasured], start=1):
            measured = rank <= len(self.ranked)
            psnr = "inf" if m.psnr_db is not None and math.isinf(m.psnr_db) else _num(m.psnr_db, 2)
            rows.append(
                [
                    str(rank) if measured else "-",
                    m.label,
                    m.codec,
                    m.preset,
                    m.crf,
                    _num(m.bitrate_bps / 1e6 if m.bitrate_bps else None, 3),
                    _num(m.bits_per_pixel, 4),
                    psnr,
                    _num(m.ssim, 5),
                    _num(m.quality_per_mbit(self.metric), 3),
                    _num(m.encode_fps, 1),
                    _num(m.cpu_seconds, 2),
                    "*" if id(m) in on_front else "",
                ]
            )
        return rows

    def table(self) -> str:
        """A Markdown table (readable as plain text too)."""
        rows = self.rows()
        widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(COLUMNS)]

        def line(cells: list[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        out = [line(list(COLUMNS)), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(r) for r in rows]
        return "\n".join(out)

    def text(self) -> str:
        metric = "PSNR (dB)" if self.metric == "psnr" else "SSIM"
        parts = [
            f"Encoder sweep: {len(self.ranked)} measured, {len(self.unmeasured)} without quality, "
            f"{len(self.failed)} failed. Sorted by {metric} per Mbit/s; * = on the Pareto front "
            "(no other run has a lower bitrate and a higher quality).",
            *([f"Common to all: {' '.join(self.common)}"] if self.common else []),
            "",
            self.table(),
        ]
        for m in self.unmeasured:
            parts.append(f"no quality for {m.label}: {m.skipped}")
        for folder in self.failed:
            parts.append(f"failed (no summary.json): {folder}")
        return "\n".join(parts) + "\n"

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(self.rows())
        return buffer.getvalue()


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def varying_labels(members: Sequence[Member]) -> tuple[list[Member], list[str]]:
    """Members relabelled with only the overrides that differ between them, and the common ones
    (`capture.max_frames=60 encoder=x265 encoder.crf=23` -> `encoder=x265 encoder.crf=23`)."""
    if len(members) < 2:
        return list(members), []
    split = [m.label.split(" ") for m in members]
    common = [word for word in split[0] if all(word in words for words in split[1:])]
    relabelled = [
        replace(m, label=" ".join(w for w in words if w not in common) or m.folder.name)
        for m, words in zip(members, split, strict=True)
    ]
    return relabelled, common


def rank(members: Sequence[Member], metric: str = "psnr", failed: Sequence[Path] = ()) -> SweepReport:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    members, common = varying_labels(members)
    measured = [m for m in members if m.quality(metric) is not None and m.bitrate_bps]
    unmeasured = [m for m in members if m not in measured]
    ranked = sorted(measured, key=lambda m: (-(m.quality_per_mbit(metric) or 0.0), m.label))
    points = [(float(m.bitrate_bps or 0), float(m.quality(metric) or 0)) for m in ranked]
    front = [ranked[i] for i in pareto_front(points)]
    return SweepReport(metric, ranked, unmeasured, list(failed), front, common)


def plot(report: SweepReport, path: Path, title: str = "") -> None:
    """Bitrate (log) against quality, a line per codec/preset, crf beside each point, the Pareto
    front as a dashed line through ringed points. Lossless members sit on the top edge."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = report.metric
    finite = [m.quality(metric) for m in report.ranked if m.psnr_db is None or not math.isinf(m.psnr_db)]
    finite_values = [q for q in finite if q is not None]
    top = (max(finite_values) + (2.0 if metric == "psnr" else 0.005)) if finite_values else None

    def y(m: Member) -> float:
        lossless = metric == "psnr" and m.psnr_db is not None and math.isinf(m.psnr_db)
        return float(top if lossless and top is not None else (m.quality(metric) or 0.0))

    fig, ax = plt.subplots(figsize=(9, 6), dpi=110)
    series: dict[str, list[Member]] = {}
    for m in report.ranked:
        series.setdefault(m.series, []).append(m)
    for name, members in sorted(series.items()):
        members = sorted(members, key=lambda m: m.bitrate_bps or 0)
        xs = [(m.bitrate_bps or 0) / 1e6 for m in members]
        ys = [y(m) for m in members]
        ax.plot(xs, ys, marker="o", label=name)
        for m, px, py in zip(members, xs, ys, strict=True):
            note = "lossless" if py == top and m.psnr_db is not None and math.isinf(m.psnr_db) else m.crf
            if note != "-":
                ax.annotate(note, (px, py), textcoords="offset points", xytext=(4, 4), fontsize=7)
    if report.front:
        fx = [(m.bitrate_bps or 0) / 1e6 for m in report.front]
        fy = [y(m) for m in report.front]
        ax.plot(fx, fy, linestyle="--", color="black", linewidth=1, label="Pareto front")
        ax.scatter(fx, fy, s=140, facecolors="none", edgecolors="black", linewidths=1.2)
    ax.set_xscale("log")
    from matplotlib.ticker import ScalarFormatter

    for axis_formatter in (ax.xaxis.set_major_formatter, ax.xaxis.set_minor_formatter):
        plain = ScalarFormatter()
        plain.set_scientific(False)
        axis_formatter(plain)
    ax.set_xlabel("bitrate at capture fps (Mbit/s, log)")
    ax.set_ylabel("PSNR (dB)" if metric == "psnr" else "SSIM")
    ax.set_title(title or "encoder sweep: bitrate vs quality")
    ax.grid(True, which="both", alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(
    folder: Path, metric: str = "psnr", out: Path | None = None, png: bool = True
) -> SweepReport:
    """Collect `folder`, write report.md, report.csv (and report.png) into `out` (default: folder)."""
    members = collect(folder)
    report = rank(members, metric, failed_members(folder))
    out = out or folder
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_MD).write_text(report.text(), encoding="utf-8")
    (out / REPORT_CSV).write_text(report.csv(), encoding="utf-8")
    if png:
        plot(report, out / REPORT_PNG, title=f"encoder sweep: {folder.name}")
    return report

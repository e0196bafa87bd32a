"""`validate report=<folder>`: PNG plots per session and an index.html with verdicts and reasons.

Plots: frame-interval histogram, pts drift over time, input activity timeline (one row per
button/key, plus event markers). matplotlib runs headless (Agg) and is imported only here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grimjobs.validation.validator import SessionReport

_COLORS = {"PASS": "#1a7f37", "WARN": "#9a6700", "FAIL": "#cf222e"}


def _slug(index: int, session: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(session).name or "session")
    return f"{index:03d}_{name}"


def _figure(width: float = 8, height: float = 3) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100)


def _save(fig: Any, path: Path) -> str:
    from matplotlib import pyplot as plt

    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path.name


def plot_intervals(report: SessionReport, path: Path) -> str | None:
    intervals = report.series.get("intervals_ms")
    if intervals is None or len(intervals) == 0:
        return None
    fig, ax = _figure()
    top = max(
        float(np.percentile(intervals, 99.9)) * 1.2, float(report.metrics.get("nominal_interval_ms", 0)) * 2
    )
    ax.hist(np.clip(intervals, 0, top), bins=120, range=(0, top), color="#0969da")
    ax.set_yscale("log")
    nominal = report.metrics.get("nominal_interval_ms")
    if nominal:
        ax.axvline(nominal, color="black", linestyle="--", linewidth=1, label=f"nominal {nominal:.2f} ms")
        ax.legend()
    ax.set_xlabel("frame interval (ms), clipped at the right edge")
    ax.set_ylabel("frames")
    ax.set_title(
        f"p50 {report.metrics.get('interval_p50_ms')} ms, p99 {report.metrics.get('interval_p99_ms')} ms, "
        f"max {report.metrics.get('interval_max_ms')} ms"
    )
    return _save(fig, path)


def plot_drift(report: SessionReport, path: Path) -> str | None:
    drift, times = report.series.get("drift_ms"), report.series.get("frame_s")
    if drift is None or times is None or len(drift) == 0:
        return None
    fig, ax = _figure()
    step = max(1, len(drift) // 20_000)  # a plot needs no more points than pixels
    ax.plot(times[::step], drift[::step], linewidth=0.8, color="#8250df")
    ax.set_xlabel("session time (s)")
    ax.set_ylabel("monotonic - pts (ms)")
    ax.set_title(f"drift between pts and monotonic_ns (max |drift| {report.metrics.get('drift_max_ms')} ms)")
    return _save(fig, path)


def _held_spans(times: np.ndarray, held: np.ndarray, end: float) -> list[tuple[float, float]]:
    """(start, width) of each run of records in which a control is held, up to the next record."""
    change = np.diff(np.concatenate(([0], held.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(change == 1), np.flatnonzero(change == -1)
    following = np.append(times, end)
    return [(float(times[a]), float(following[b] - times[a])) for a, b in zip(starts, stops, strict=True)]


def control_label(kind: str, control: int) -> str:
    """A person's name for a recorded control id: SDL's button / axis names, key names for
    scancodes; the number only for ids the tables do not name."""
    from grimjobs.input.controls import AXIS_NAMES, BUTTON_NAMES

    if kind == "axis":
        return f"axis {AXIS_NAMES[control]}" if 0 <= control < len(AXIS_NAMES) else f"axis {control}"
    if kind == "button":
        return f"button {BUTTON_NAMES[control]}" if 0 <= control < len(BUTTON_NAMES) else f"button {control}"
    return f"key {_key_names().get(control, str(control))}"


def _key_names() -> dict[int, str]:
    from grimjobs.input.scancodes import CHAR_TO_SDL, KEY_NAME_TO_SDL

    names: dict[int, str] = {}
    for char, code in CHAR_TO_SDL.items():
        if char.isalnum() and not char.isupper():
            names.setdefault(code, char)
    for name, code in KEY_NAME_TO_SDL.items():
        names.setdefault(code, name)  # the first (unsided) name of a key wins: ctrl before ctrl_l
    return names


def plot_input(report: SessionReport, path: Path) -> str | None:
    times = report.series.get("input_s")
    if times is None or len(times) == 0:
        return None
    end = float(report.series["frame_s"][-1]) if "frame_s" in report.series else float(times[-1])
    rows: list[tuple[str, list[tuple[float, float]]]] = []
    for field, label in (("axes", "axis"), ("pressed_buttons", "button"), ("pressed_keys", "key")):
        record, ids = report.series.get(f"{field}_record"), report.series.get(f"{field}_id")
        if record is None or ids is None:
            continue
        for control in np.unique(ids)[:32]:  # the plot stays readable
            held = np.zeros(len(times), bool)
            held[record[ids == control]] = True
            rows.append((control_label(label, int(control)), _held_spans(times, held, end)))
    fig, ax = _figure(8, max(2.5, 0.3 * len(rows) + 1.5))
    reason = report.series.get("input_reason")
    events = times[reason == 0] if reason is not None else times
    ax.eventplot([events], lineoffsets=[0], linelengths=0.8, linewidths=0.6, colors=["#57606a"])
    for row, (_name, spans) in enumerate(rows, start=1):
        ax.broken_barh(spans, (row - 0.35, 0.7), color="#0969da" if _name.startswith("button") else "#8250df")
    ax.set_yticks(range(len(rows) + 1), ["events", *(name for name, _ in rows)])
    ax.set_xlabel("session time (s); bars: held / deflected beyond the neutral zone")
    ax.set_title("input activity")
    return _save(fig, path)


def write_reports(reports: Sequence[SessionReport], folder: Path) -> Path:
    """Write plots for every session and an index.html linking them; returns the index path."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    for index, report in enumerate(reports):
        slug = _slug(index, report.session)
        images = [
            plot(report, folder / f"{slug}_{name}.png")
            for name, plot in (("intervals", plot_intervals), ("drift", plot_drift), ("input", plot_input))
        ]
        reasons = (
            "".join(f"<li>{html.escape(r)}</li>" for r in report.reasons) or "<li>no problems found</li>"
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
        metrics = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
            for k, v in report.metrics.items()
        )
        figures = "".join(f'<a href="{name}"><img src="{name}" alt="{name}"></a>' for name in images if name)
        sections.append(
            f'<section id="{slug}"><h2><span class="verdict" style="background:{_COLORS[report.verdict]}">'
            f"{report.verdict}</span> {html.escape(report.session)}</h2>"
            f"<ul>{reasons}</ul>{f'<p>Notes:</p><ul>{notes}</ul>' if notes else ''}{figures}"
            f"<details><summary>metrics</summary><table>{metrics}</table></details></section>"
        )
    summary = "".join(
        f'<tr><td><span class="verdict" style="background:{_COLORS[r.verdict]}">{r.verdict}</span></td>'
        f'<td><a href="#{_slug(i, r.session)}">{html.escape(r.session)}</a></td>'
        f"<td>{html.escape('; '.join(r.reasons))}</td></tr>"
        for i, r in enumerate(reports)
    )
    index_path = folder / "index.html"
    index_path.write_text(
        "<!doctype html><meta charset=utf-8><title>grimjobs validation</title><style>"
        "body{font-family:sans-serif;margin:2em}img{max-width:48%;margin:4px;border:1px solid #ccc}"
        ".verdict{color:white;padding:2px 6px;border-radius:4px}td{padding:2px 8px;vertical-align:top}"
        "</style><h1>grimjobs validation</h1>"
        f"<table>{summary}</table>{''.join(sections)}",
        encoding="utf-8",
    )
    return index_path

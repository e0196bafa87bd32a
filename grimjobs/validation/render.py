"""Reports as text: a table for people, JSON and CSV (one row per session) for programs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from grimjobs.validation.validator import SessionReport

# The columns of the table and the first columns of the CSV, in order.
TABLE_COLUMNS = (
    ("frames", "frames"),
    ("duration_s", "dur s"),
    ("effective_fps", "fps"),
    ("dropped", "dropped"),
    ("late_frames", "late"),
    ("interval_p99_ms", "p99 ms"),
    ("drift_max_ms", "drift ms"),
    ("input_records", "inputs"),
    ("longest_idle_s", "idle s"),
)


def render(reports: Sequence[SessionReport], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([r.as_dict() for r in reports], indent=2)
    if fmt == "csv":
        return render_csv(reports)
    return render_table(reports)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return str(value)


def render_table(reports: Sequence[SessionReport]) -> str:
    header = ["verdict", "session", *(title for _, title in TABLE_COLUMNS)]
    rows = [[r.verdict, r.session, *(_cell(r.metrics.get(key)) for key, _ in TABLE_COLUMNS)] for r in reports]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]
    ]
    for report in reports:
        if report.reasons:
            lines.append(f"{report.session}:")
            lines += [f"  {reason}" for reason in report.reasons]
    counts = {v: sum(r.verdict == v for r in reports) for v in ("PASS", "WARN", "FAIL")}
    lines.append(f"{len(reports)} sessions: " + ", ".join(f"{n} {v}" for v, n in counts.items()))
    return "\n".join(lines)


def render_csv(reports: Sequence[SessionReport]) -> str:
    keys: list[str] = [key for key, _ in TABLE_COLUMNS]
    for report in reports:
        keys += [k for k in report.metrics if k not in keys]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["session", "verdict", "reasons", *keys])
    for r in reports:
        writer.writerow([r.session, r.verdict, " | ".join(r.reasons), *(r.metrics.get(k, "") for k in keys)])
    return out.getvalue().rstrip("\n")

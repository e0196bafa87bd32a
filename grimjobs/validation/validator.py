"""SessionValidator: every check of a recorded session, its metrics, and a PASS / WARN / FAIL verdict.

Verdict rules (docs/VALIDATION.md): FAIL when frames cannot be paired with their time or input
(missing or unreadable files, non-monotonic clocks, pts drift beyond a frame, video packets that
do not match sync.csv, input clocks going backwards, stale input across a disconnect); WARN when
data is usable but degraded or cut short (torn tails, late/dropped frames, frozen or black video,
idle input); PASS otherwise. Every threshold is a field of `SessionValidator.Settings`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from grimjobs.session import ACTIONS, CAPTURE, SUMMARY, SYNC
from grimjobs.session.actions import ActionsFormatError, ActionsTable, read_actions_table
from grimjobs.session.summary import read_summary
from grimjobs.session.sync import SyncFormatError, SyncTable, read_sync
from grimjobs.settings import Settings
from grimjobs.validation.metrics import InputMetrics, TimingMetrics, input_metrics, rounded, timing_metrics

Verdict = Literal["PASS", "WARN", "FAIL"]
_RANK = {"PASS": 0, "WARN": 1, "FAIL": 2}


@dataclass(slots=True)
class SessionReport:
    """The verdict of one session with the reasons for it and every metric measured."""

    session: str
    verdict: Verdict = "PASS"
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts worth knowing that do not change the verdict
    metrics: dict[str, Any] = field(default_factory=dict)
    activity: dict[str, Any] = field(default_factory=dict)  # per button / key / axis
    truncated: bool = False  # the recorder was killed mid-write; see reasons for what was lost
    # Series for plots (not part of as_dict): frame intervals, drift, input timeline.
    series: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def warn(self, reason: str) -> None:
        self._raise("WARN", reason)

    def fail(self, reason: str) -> None:
        self._raise("FAIL", reason)

    def _raise(self, verdict: Verdict, reason: str) -> None:
        if _RANK[verdict] > _RANK[self.verdict]:
            self.verdict = verdict
        self.reasons.append(f"{verdict}: {reason}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "truncated": self.truncated,
            "metrics": dict(self.metrics),
            "activity": dict(self.activity),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)


class SessionValidator:
    class Settings(Settings):
        nominal_fps: float | None = Field(default=None, gt=0)
        time_base: str = "1/90000"
        late_factor: float = Field(default=1.5, gt=1)
        gap_s: float = Field(default=1.0, gt=0)
        max_late_fraction: float = Field(default=0.02, ge=0, le=1)
        max_dropped_fraction: float = Field(default=0.01, ge=0, le=1)
        fail_dropped_fraction: float = Field(default=0.2, ge=0, le=1)
        min_fps_ratio: float = Field(default=0.9, ge=0, le=1)
        interval_p99_factor: float = Field(default=2.0, gt=1)
        drift_warn_ms: float = Field(default=2.0, ge=0)
        drift_fail_ms: float = Field(default=40.0, ge=0)
        check_video: bool = True
        duration_tolerance_s: float = Field(default=0.5, ge=0)
        sample_windows: int = Field(default=4, ge=0, le=1000)
        sample_frames: int = Field(default=16, ge=0, le=1000)
        duplicate_level: float = Field(default=0.5, ge=0, le=255)
        black_level: float = Field(default=20.0, ge=0, le=255)
        max_duplicate_fraction: float = Field(default=0.5, ge=0, le=1)
        max_black_fraction: float = Field(default=0.5, ge=0, le=1)
        require_input: bool = False
        neutral_axis: float = Field(default=0.1, ge=0, le=1)
        max_out_of_order: int = Field(default=0, ge=0)
        max_stale_records: int = Field(default=0, ge=0)
        idle_warn_s: float = Field(default=120.0, gt=0)
        dead_period_s: float = Field(default=10.0, gt=0)
        max_dead_fraction: float = Field(default=0.5, ge=0, le=1)
        input_stall_s: float = Field(default=2.0, gt=0)

    def __init__(self, settings: SessionValidator.Settings) -> None:
        self.settings = settings

    # ------------------------------------------------------------------------------------------
    def check(self, path: Path) -> SessionReport:
        report = SessionReport(session=str(path))
        summary = self._summary(path, report)
        sync = self._sync(path, report)
        actions = self._actions(path, report, summary)
        timing = self._timing(sync, summary, report) if sync is not None and len(sync) else None
        if self.settings.check_video:
            self._video(path, sync, timing, report)
        if actions is not None and len(actions) and sync is not None and len(sync):
            self._input(actions, sync, report)
        if summary is not None:
            self._against_summary(summary, sync, actions, report)
        return report

    # ------------------------------------------------------------------------------------------
    def _present(self, path: Path, name: str, report: SessionReport) -> Path | None:
        file = path / name
        if not file.is_file():
            report.fail(f"{name} is missing")
            return None
        return file

    def _summary(self, path: Path, report: SessionReport) -> dict[str, Any] | None:
        if (path / "repair.json").is_file():
            report.notes.append("repaired by `grimjobs repair` (see repair.json for what was cut)")
        file = path / SUMMARY
        if not file.is_file():
            report.notes.append(f"no {SUMMARY} (the recorder writes it last; a killed recording has none)")
            return None
        try:
            return read_summary(file)
        except (ValueError, OSError) as exc:
            report.warn(f"{SUMMARY} is unreadable: {exc}")
            return None

    def _sync(self, path: Path, report: SessionReport) -> SyncTable | None:
        file = self._present(path, SYNC, report)
        if file is None:
            return None
        if file.stat().st_size == 0:
            report.fail(f"{SYNC} is empty (not even its header)")
            return None
        try:
            sync = read_sync(file)
        except (SyncFormatError, OSError) as exc:
            report.fail(f"{SYNC} does not parse: {exc}")
            return None
        if sync.torn:
            report.truncated = True
            report.warn(f"truncated: {SYNC} ends in a cut-off row (dropped; repair removes it)")
        if len(sync) == 0:
            report.fail(f"{SYNC} has no frames")
        report.metrics["frames"] = len(sync)
        return sync

    def _actions(
        self, path: Path, report: SessionReport, summary: dict[str, Any] | None
    ) -> ActionsTable | None:
        file = self._present(path, ACTIONS, report)
        if file is None:
            return None
        try:
            table = read_actions_table(file)
        except (ActionsFormatError, OSError) as exc:
            report.fail(f"{ACTIONS} does not parse: {exc}")
            return None
        report.metrics["input_records"] = len(table)
        if table.torn_bytes:
            report.truncated = True
            report.warn(
                f"truncated: {ACTIONS} ends in a partial record ({table.torn_bytes} bytes after byte "
                f"{table.valid_bytes} lost; repair removes them)"
            )
        if len(table) == 0:
            expected = _dig(summary, "input", "records")
            if expected:
                report.fail(f"{ACTIONS} is empty but {SUMMARY} says {expected} input records were written")
            elif self.settings.require_input:
                report.fail(f"{ACTIONS} is empty and validation.require_input is true")
            else:
                report.notes.append(f"no input recorded ({ACTIONS} is empty)")
        return table

    def _timing(
        self, sync: SyncTable, summary: dict[str, Any] | None, report: SessionReport
    ) -> TimingMetrics:
        s = self.settings
        nominal = s.nominal_fps or _dig(summary, "nominal_fps")
        timing = timing_metrics(sync, float(Fraction(s.time_base)), nominal, s.late_factor, s.gap_s)
        report.series["intervals_ms"] = timing.intervals_ms
        report.series["drift_ms"] = timing.drift_ms
        report.series["frame_s"] = (sync.monotonic_ns - sync.monotonic_ns[0]) / 1e9
        reported_dropped = int(_dig(summary, "dropped") or 0)
        dropped = max(reported_dropped, timing.missing_frames)
        dropped_fraction = dropped / max(timing.frames + dropped, 1)
        late_fraction = timing.late_frames / max(timing.frames - 1, 1)
        metrics = {
            k: getattr(timing, k)
            for k in (
                "duration_s",
                "effective_fps",
                "nominal_interval_ms",
                "interval_p50_ms",
                "interval_p99_ms",
                "interval_max_ms",
                "late_frames",
                "missing_frames",
                "gaps",
                "longest_gap_s",
                "drift_max_ms",
                "drift_end_ms",
            )
        }
        metrics.update(
            dropped_reported=reported_dropped,
            dropped=dropped,
            dropped_fraction=dropped_fraction,
            late_fraction=late_fraction,
        )
        report.metrics.update(rounded(metrics, 4))
        if timing.frame_index_errors:
            report.fail(f"{SYNC}: {timing.frame_index_errors} rows whose frame_index is not their row number")
        if timing.backwards_times:
            report.fail(f"{SYNC}: monotonic_ns fails to increase {timing.backwards_times} times")
        if timing.backwards_pts:
            report.fail(f"{SYNC}: pts fails to increase {timing.backwards_pts} times")
        if timing.drift_max_ms > s.drift_fail_ms:
            report.fail(
                f"pts drifts from monotonic_ns by up to {timing.drift_max_ms:.1f} ms (> {s.drift_fail_ms} ms)"
            )
        elif timing.drift_max_ms > s.drift_warn_ms:
            report.warn(
                f"pts drifts from monotonic_ns by up to {timing.drift_max_ms:.2f} ms (> {s.drift_warn_ms} ms)"
            )
        if dropped_fraction > s.fail_dropped_fraction:
            report.fail(f"{dropped} frames dropped ({dropped_fraction:.1%} > {s.fail_dropped_fraction:.0%})")
        elif dropped_fraction > s.max_dropped_fraction:
            report.warn(f"{dropped} frames dropped ({dropped_fraction:.1%} > {s.max_dropped_fraction:.0%})")
        if late_fraction > s.max_late_fraction:
            report.warn(
                f"{timing.late_frames} late frames ({late_fraction:.1%} of intervals > "
                f"{s.late_factor}x {timing.nominal_interval_ms:.1f} ms)"
            )
        if timing.gaps:
            report.warn(f"{timing.gaps} capture gaps over {s.gap_s} s (longest {timing.longest_gap_s:.2f} s)")
        if nominal and timing.duration_s > 0 and timing.effective_fps < s.min_fps_ratio * nominal:
            report.warn(
                f"effective {timing.effective_fps:.2f} fps < {s.min_fps_ratio:.0%} of nominal {nominal} fps"
            )
        if timing.interval_p99_ms > s.interval_p99_factor * timing.nominal_interval_ms > 0:
            report.warn(
                f"frame interval p99 {timing.interval_p99_ms:.1f} ms > {s.interval_p99_factor}x nominal"
            )
        return timing

    def _video(
        self, path: Path, sync: SyncTable | None, timing: TimingMetrics | None, report: SessionReport
    ) -> None:
        file = self._present(path, CAPTURE, report)
        if file is None:
            return
        if file.stat().st_size == 0:
            report.fail(f"{CAPTURE} is empty")
            return
        from grimjobs.validation.video import demux, sample_frames

        info = demux(file)
        if not info.readable:
            report.fail(f"{CAPTURE} is unreadable: {info.error}")
            return
        report.metrics.update(
            video_packets=info.packets,
            video_keyframes=info.keyframes,
            video_duration_s=round(info.duration_s, 4),
            **{f"video_{k}": v for k, v in info.params().items()},
        )
        if info.error:
            report.truncated = True
            report.warn(f"truncated: {CAPTURE} {info.error} (repair remuxes what demuxes)")
        rows = len(sync) if sync is not None else 0
        if sync is not None and rows:
            if info.packets == rows + 1 and sync.torn:
                report.warn(
                    f"truncated: the last video frame's {SYNC} row was cut off (repair drops the frame)"
                )
            elif info.packets > rows:
                report.fail(
                    f"{CAPTURE} holds {info.packets} frames but {SYNC} only {rows}: frames without a time"
                )
            elif info.packets < rows:
                report.truncated = True
                lost_s = float(sync.monotonic_ns[-1] - sync.monotonic_ns[max(info.packets - 1, 0)]) / 1e9
                report.warn(
                    f"truncated: {CAPTURE} holds {info.packets} of the {rows} frames in {SYNC} "
                    f"(last {rows - info.packets} frames, {lost_s:.2f} s of video lost)"
                )
            common = min(info.packets, rows)
            mismatched = int((info.pts[:common] != sync.pts[:common]).sum())
            report.metrics["pts_mismatches"] = mismatched
            if mismatched:
                report.fail(f"{mismatched} video packets have a pts that {SYNC} does not list in that place")
            if info.time_base is not None and Fraction(self.settings.time_base) != info.time_base:
                report.fail(
                    f"video time base {info.time_base} != validation.time_base {self.settings.time_base}"
                )
            if timing is not None and info.packets == rows:
                span = float(sync.monotonic_ns[-1] - sync.monotonic_ns[0]) / 1e9
                if abs(info.duration_s - span) > self.settings.duration_tolerance_s:
                    report.warn(f"video lasts {info.duration_s:.2f} s but {SYNC} spans {span:.2f} s")
        s = self.settings
        sample = sample_frames(file, s.sample_windows, s.sample_frames, s.duplicate_level, s.black_level)
        report.metrics.update(
            sampled_frames=sample.frames, duplicate_pairs=sample.duplicates, black_frames=sample.black
        )
        if sample.error and not info.error:
            report.warn(f"decoding sampled frames failed: {sample.error}")
        if sample.pairs and sample.duplicates / sample.pairs > s.max_duplicate_fraction:
            report.warn(
                f"frozen video: {sample.duplicates} of {sample.pairs} sampled frame pairs are identical"
            )
        if sample.frames and sample.black / sample.frames > s.max_black_fraction:
            report.warn(f"black video: {sample.black} of {sample.frames} sampled frames are black")

    def _input(self, table: ActionsTable, sync: SyncTable, report: SessionReport) -> None:
        s = self.settings
        start, end = int(sync.monotonic_ns[0]), int(sync.monotonic_ns[-1])
        m: InputMetrics = input_metrics(table, start, end, s.neutral_axis, s.dead_period_s)
        span_s = max(end - start, 1) / 1e9
        report.metrics.update(
            rounded(
                {
                    "input_events": m.events,
                    "input_samples": m.samples,
                    "input_connects": m.connects,
                    "input_disconnects": m.disconnects,
                    "input_out_of_order": m.out_of_order,
                    "input_stale_records": m.stale_records,
                    "longest_idle_s": m.longest_idle_s,
                    "dead_periods": m.dead_periods,
                    "dead_s": m.dead_s,
                    "longest_record_gap_s": m.longest_record_gap_s,
                    "input_records_per_s": m.records_per_s,
                    "input_events_per_s": m.events_per_s,
                    "distinct_buttons": len(m.buttons.presses),
                    "distinct_keys": len(m.keys.presses),
                    "distinct_mouse_buttons": len(m.mouse_buttons.presses),
                    "distinct_axes": len(m.axes.presses),
                    "input_outside_video": m.outside_video,
                }
            )
        )
        report.activity = {
            "buttons": m.buttons.as_dict(),
            "keys": m.keys.as_dict(),
            "mouse_buttons": m.mouse_buttons.as_dict(),
            "axes": m.axes.as_dict(),
        }
        report.series["input_s"] = (table.monotonic_ns - start) / 1e9
        report.series["input_reason"] = table.reason
        axis_records = table.axes.record_ids()
        slots = np.arange(len(table.axes.values)) - table.axes.offsets[axis_records]
        deflected = np.abs(table.axes.values) > s.neutral_axis
        report.series["axes_record"], report.series["axes_id"] = axis_records[deflected], slots[deflected]
        for name in ("pressed_buttons", "pressed_keys"):
            ragged = getattr(table, name)
            report.series[f"{name}_record"] = ragged.record_ids()
            report.series[f"{name}_id"] = ragged.values
        if m.out_of_order > s.max_out_of_order:
            report.fail(
                f"{ACTIONS}: {m.out_of_order} records older than the one before (up to "
                f"{m.max_step_back_ms:.1f} ms back): mixed clocks?"
            )
        if m.stale_records > s.max_stale_records:
            report.fail(
                f"{ACTIONS}: {m.stale_records} records show controls held while the device was disconnected "
                "(stale state across a disconnect)"
            )
        if m.events and m.longest_idle_s > s.idle_warn_s:
            report.warn(f"input idle for {m.longest_idle_s:.1f} s (> {s.idle_warn_s} s)")
        if m.events and m.dead_s / span_s > s.max_dead_fraction:
            report.warn(
                f"{m.dead_periods} dead periods (no input event for >= {s.dead_period_s} s) cover "
                f"{m.dead_s / span_s:.0%} of the session"
            )
        if m.samples and m.longest_record_gap_s > s.input_stall_s:
            report.warn(
                f"input logging stalled: no record for {m.longest_record_gap_s:.2f} s (> {s.input_stall_s} s)"
            )

    def _against_summary(
        self,
        summary: dict[str, Any],
        sync: SyncTable | None,
        actions: ActionsTable | None,
        report: SessionReport,
    ) -> None:
        frames = summary.get("frames")
        if sync is not None and isinstance(frames, int) and frames != len(sync) and not sync.torn:
            report.warn(f"{SUMMARY} says {frames} frames but {SYNC} has {len(sync)} rows")
        records = _dig(summary, "input", "records")
        if actions is not None and isinstance(records, int) and len(actions) and records != len(actions):
            report.warn(f"{SUMMARY} says {records} input records but {ACTIONS} has {len(actions)}")


def _dig(data: dict[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data

"""SessionValidator: every check of a recorded session, its metrics, and a PASS / WARN / FAIL verdict.

Verdict rules (docs/VALIDATION.md): FAIL when frames cannot be paired with their time or input
(missing or unreadable files, non-monotonic clocks, pts drift beyond a frame, video packets that
do not match sync.csv, input clocks going backwards, stale input across a disconnect); WARN when
data is usable but degraded or cut short (torn tails, late/dropped frames, frozen or black video,
idle input); PASS otherwise. Every threshold is a field of `SessionValidator.Settings`.
"""

from __future__ import annotations

import json
import logging
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

log = logging.getLogger("grimjobs.validation")

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
        max_gap_fraction: float = Field(default=0.0, ge=0, le=1)
        fail_gap_fraction: float = Field(default=1.0, ge=0, le=1)
        min_fps_ratio: float = Field(default=0.9, ge=0, le=1)
        interval_p99_factor: float = Field(default=2.0, gt=1)
        drift_warn_ms: float = Field(default=2.0, ge=0)
        drift_fail_ms: float = Field(default=40.0, ge=0)
        check_video: bool = True
        duration_tolerance_s: float = Field(default=0.5, ge=0)
        decode_all_frames: int = Field(default=1800, ge=0)
        sample_windows: int = Field(default=4, ge=0, le=1000)
        sample_frames: int = Field(default=60, ge=0, le=100_000)
        repeat_level: int = Field(default=2, ge=0, le=255)
        black_level: int = Field(default=24, ge=0, le=255)
        black_pixel_fraction: float = Field(default=0.001, ge=0, le=1)
        freeze_min_s: float = Field(default=0.5, gt=0)
        black_min_s: float = Field(default=0.5, gt=0)
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
        """Validate one session. Whatever its files hold, this returns a report: a file that
        breaks a reader in a way no check foresaw FAILs this session, never the caller's loop."""
        report = SessionReport(session=str(path))
        try:
            self._check(path, report)
        except (MemoryError, RecursionError, ArithmeticError, ValueError, LookupError, OSError) as exc:
            log.warning("validating %s stopped", path, exc_info=True)
            report.fail(f"validation stopped on a malformed file ({type(exc).__name__}: {exc})")
        return report

    def _check(self, path: Path, report: SessionReport) -> None:
        summary = self._summary(path, report)
        sync = self._sync(path, report)
        actions = self._actions(path, report, summary)
        timing = self._timing(sync, summary, report) if sync is not None and len(sync) else None
        if self.settings.check_video:
            self._video(path, sync, timing, summary, report)
        if actions is not None and len(actions) and sync is not None and len(sync):
            self._input(actions, sync, report)
        if summary is not None:
            self._against_summary(summary, sync, actions, report)

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
        if table.corrupt_ranges:
            lost = sum(end - start for start, end in table.corrupt_ranges)
            where = ", ".join(f"{start}-{end}" for start, end in table.corrupt_ranges[:5])
            report.metrics["input_corrupt_bytes"] = lost
            report.fail(
                f"{ACTIONS} is corrupt in the middle (not a torn tail): {lost} bytes at byte(s) {where} "
                f"hold no valid record; reading resumed at the next valid record ({len(table)} kept); "
                "repair cannot restore what was there"
            )
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
        loop = _dig(summary, "capture", "loop")
        loop = loop if isinstance(loop, dict) else {}
        paced = loop.get("paced", _dig(summary, "capture", "config", "paced"))
        drops = recorded_drops(summary)
        gaps = self._gaps(sync, summary, timing, report)
        if drops is not None:
            dropped, drop_causes = sum(drops.values()), drops
            estimated = False
        elif paced is False:
            dropped, drop_causes, estimated = 0, {}, False  # unpaced: no schedule, nothing can be late
        else:
            # A foreign or killed session: frames missing in late intervals, gaps left out.
            dropped, drop_causes, estimated = timing.missing_frames, {}, True
        report.metrics["drops_source"] = "estimated" if estimated else "recorder"
        if drop_causes:
            report.metrics.update({f"dropped_{cause}": count for cause, count in drop_causes.items()})
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
                "drift_max_ms",
                "drift_end_ms",
            )
        }
        metrics.update(
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
        if dropped_fraction > s.max_dropped_fraction:
            how = "estimated from frame intervals (no recorder counts)" if estimated else _causes(drop_causes)
            text = f"{dropped} frames dropped ({dropped_fraction:.1%}; {how})"
            if dropped_fraction > s.fail_dropped_fraction:
                report.fail(f"{text} > {s.fail_dropped_fraction:.0%}")
            else:
                report.warn(f"{text} > {s.max_dropped_fraction:.0%}")
        if paced is False:
            report.notes.append("unpaced capture: frame intervals follow the source, not a schedule")
            return timing
        # Late frames, the effective rate and the interval spread only mean something outside gaps.
        elapsed_s = report.series["frame_s"]
        in_gap = np.zeros(len(timing.intervals_ms), bool)
        for start, duration in gaps:
            first = max(int(np.searchsorted(elapsed_s, start, "right")) - 1, 0)
            in_gap[first : int(np.searchsorted(elapsed_s, start + duration, "left"))] = True
        outside = timing.intervals_ms[~in_gap]
        late = int((outside > s.late_factor * timing.nominal_interval_ms).sum())
        late_fraction = late / max(len(outside), 1)
        report.metrics.update(late_frames=late, late_fraction=round(late_fraction, 4))
        if late_fraction > s.max_late_fraction:
            report.warn(
                f"{late} late frames ({late_fraction:.1%} of intervals > "
                f"{s.late_factor}x {timing.nominal_interval_ms:.1f} ms)"
            )
        gap_s = sum(duration for _, duration in gaps)
        active_s = timing.duration_s - gap_s
        active_fps = (timing.frames - 1 - int(in_gap.sum())) / active_s if active_s > 0 else 0.0
        if nominal and active_s > 0 and active_fps < s.min_fps_ratio * nominal:
            report.warn(f"effective {active_fps:.2f} fps < {s.min_fps_ratio:.0%} of nominal {nominal} fps")
        p99 = float(np.percentile(outside, 99)) if len(outside) else 0.0
        if p99 > s.interval_p99_factor * timing.nominal_interval_ms > 0:
            report.warn(f"frame interval p99 {p99:.1f} ms > {s.interval_p99_factor}x nominal (outside gaps)")
        return timing

    def _gaps(
        self,
        sync: SyncTable,
        summary: dict[str, Any] | None,
        timing: TimingMetrics,
        report: SessionReport,
    ) -> list[tuple[float, float]]:
        """Capture gaps as (start s from the first frame, duration s): the recorder's list when
        summary.json has one, else intervals above gap_s. Gaps are reported as gaps, never drops."""
        s = self.settings
        first_ns = int(sync.monotonic_ns[0])
        listed = _dig(summary, "capture", "loop", "gaps")
        causes: dict[str, int] = {}
        gaps: list[tuple[float, float]] = []
        if isinstance(listed, list):
            for gap in listed:
                if not isinstance(gap, dict):
                    continue
                start, end = _int(gap.get("start_ns")), _int(gap.get("end_ns"))
                if start is None or end is None or end < start:
                    continue
                gaps.append(((start - first_ns) / 1e9, (end - start) / 1e9))
                cause = str(gap.get("cause", "source"))
                causes[cause] = causes.get(cause, 0) + 1
            source = "recorder"
        else:
            long = np.flatnonzero(timing.intervals_ms > s.gap_s * 1000.0)
            times = sync.monotonic_ns
            gaps = [(float(times[i] - first_ns) / 1e9, float(timing.intervals_ms[i]) / 1000.0) for i in long]
            source = f"frame intervals over {s.gap_s} s"
        total_s = sum(duration for _, duration in gaps)
        session_s = max(timing.duration_s, total_s, 1e-9)
        fraction = total_s / session_s
        gap_slots = _int(_dig(summary, "capture", "loop", "gap_slots"))
        report.metrics.update(
            rounded(
                {
                    "gaps": len(gaps),
                    "gap_s": total_s,
                    "gap_fraction": fraction,
                    "longest_gap_s": max((d for _, d in gaps), default=0.0),
                },
                4,
            )
        )
        if gap_slots is not None:
            report.metrics["gap_slots"] = gap_slots
        if not gaps or (fraction <= s.max_gap_fraction and not (fraction > s.fail_gap_fraction)):
            return gaps
        where = ", ".join(f"at {start:.2f} s for {duration:.2f} s" for start, duration in gaps[:5])
        if len(gaps) > 5:
            where += f", and {len(gaps) - 5} more"
        why = ", ".join(f"{count} {_GAP_CAUSES.get(cause, cause)}" for cause, count in causes.items())
        text = (
            f"{len(gaps)} capture gap(s) ({why or source}) cover {total_s:.2f} s "
            f"({fraction:.0%} of the session): {where}"
        )
        if fraction > s.fail_gap_fraction:
            report.fail(f"{text} > {s.fail_gap_fraction:.0%}")
        else:
            report.warn(text)
        return gaps

    def _video(
        self,
        path: Path,
        sync: SyncTable | None,
        timing: TimingMetrics | None,
        summary: dict[str, Any] | None,
        report: SessionReport,
    ) -> None:
        file = self._present(path, CAPTURE, report)
        if file is None:
            return
        if file.stat().st_size == 0:
            report.fail(f"{CAPTURE} is empty")
            return
        from grimjobs.validation.video import demux, mp4_has_fragment, mp4_torn_at

        info = demux(file)
        rows = len(sync) if sync is not None else 0
        if not info.readable:
            lists = f" ({SYNC} lists {rows} frames)" if rows else ""
            torn_at = mp4_torn_at(file)
            if torn_at is not None and not mp4_has_fragment(file):
                report.truncated = True
                report.fail(
                    f"{CAPTURE} ends at byte {file.stat().st_size}, inside its header, before any video "
                    f"frame{lists}: the recorder stopped (killed?) in its first moments; nothing to repair"
                )
            else:
                report.fail(f"{CAPTURE} cannot be read as a video{lists}: {info.error}")
            return
        if info.packets == 0:
            detail = f" ({info.error})" if info.error else ""
            if rows and sync is not None:
                span = float(sync.monotonic_ns[-1] - sync.monotonic_ns[0]) / 1e9
                report.truncated = True
                report.fail(
                    f"{CAPTURE} holds no video frames although {SYNC} lists {rows} ({span:.2f} s): the "
                    "recorder stopped (killed?) before it wrote the first video fragment, so these frames "
                    f"are lost and repair cannot bring them back{detail}"
                )
            else:
                report.fail(f"{CAPTURE} holds no video frames{detail}")
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
        self._pictures(file, info, summary, report)

    def _pictures(self, file: Path, info: Any, summary: dict[str, Any] | None, report: SessionReport) -> None:
        """Frozen and black video: the recorder's duplicate counts, and runs of decoded frames."""
        from grimjobs.validation.video import scan_frames

        s = self.settings
        stats = _dig(summary, "capture", "stats")
        fps = float(s.nominal_fps or _dig(summary, "nominal_fps") or info.average_rate or 30.0)
        recorder_run = _int(_dig(stats, "longest_duplicate_run"))
        if _int(_dig(stats, "duplicates")) is not None:
            report.metrics["source_duplicates"] = _dig(stats, "duplicates")
        if recorder_run is not None:
            report.metrics["source_longest_duplicate_run"] = recorder_run
        scan = scan_frames(
            file,
            info.packets,
            s.decode_all_frames,
            s.sample_windows,
            s.sample_frames,
            s.repeat_level,
            s.black_level,
            s.black_pixel_fraction,
            1.0 / fps,
        )
        report.metrics.update(
            decoded_frames=scan.frames,
            decoded_all=scan.complete,
            repeated_frames=scan.repeats,
            black_frames=scan.black,
            longest_freeze_s=round(scan.freezes[0].duration_s, 3) if scan.freezes else 0.0,
        )
        if scan.error and not info.error:
            report.warn(f"decoding {CAPTURE} failed after {scan.frames} frames: {scan.error}")
        where = "" if scan.complete else f" (in {scan.frames} decoded of {info.packets} frames)"
        freezes = [run for run in scan.freezes if run.duration_s >= s.freeze_min_s]
        if freezes:
            listed = ", ".join(f"at {r.start_s:.2f} s for {r.duration_s:.2f} s" for r in freezes[:5])
            more = f", and {len(freezes) - 5} more" if len(freezes) > 5 else ""
            report.warn(
                f"frozen video: {len(freezes)} freeze(s) of one repeated picture >= {s.freeze_min_s} s"
                f"{where}: {listed}{more}"
            )
        elif recorder_run is not None and not scan.complete and recorder_run / fps >= s.freeze_min_s:
            # The decoded windows may have missed it; the source saw the same picture this long.
            report.warn(
                f"frozen video: the capture source repeated one picture {recorder_run} times in a row "
                f"({recorder_run / fps:.2f} s; recorder's count, not located in the decoded frames)"
            )
        blacks = [run for run in scan.black_runs if run.duration_s >= s.black_min_s]
        if blacks:
            listed = ", ".join(f"at {r.start_s:.2f} s for {r.duration_s:.2f} s" for r in blacks[:5])
            more = f", and {len(blacks) - 5} more" if len(blacks) > 5 else ""
            report.warn(
                f"black video: {scan.black} of {scan.frames} decoded frames are black{where}: {listed}{more}"
            )

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

    def _ended_early(self, summary: dict[str, Any], report: SessionReport) -> None:
        how_much = _ended_early_text(summary)
        if how_much is not None:
            report.metrics["ended_early"] = True
            report.warn(f"recording ended early ({how_much}): {summary.get('end_reason')}")

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
        self._ended_early(summary, report)
        records = _dig(summary, "input", "records")
        if actions is not None and isinstance(records, int) and len(actions) and records != len(actions):
            report.warn(f"{SUMMARY} says {records} input records but {ACTIONS} has {len(actions)}")


_GAP_CAUSES = {"source": "the source had no picture (window minimized or unmapped)", "paused": "paused"}


def recorded_drops(summary: dict[str, Any] | None) -> dict[str, int] | None:
    """The recorder's exact drop counts by cause ({"late": n, "queue_full": m}), or {"total": n}
    from an older summary.json with only the top-level `dropped`; None when it has neither."""
    loop = _dig(summary, "capture", "loop")
    if isinstance(loop, dict):
        late, full = _int(loop.get("dropped_late")), _int(loop.get("dropped_queue_full"))
        if late is not None and full is not None:
            return {"late": late, "queue_full": full}
    total = _int(_dig(summary, "dropped"))
    return None if total is None else {"total": total}


def _causes(causes: dict[str, int]) -> str:
    if set(causes) == {"total"}:
        return "recorder's count"
    names = {"late": "capture woke too late", "queue_full": "encoder queue full"}
    return "recorder's count: " + ", ".join(f"{n} {names.get(c, c)}" for c, n in causes.items() if n)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ended_early_text(summary: dict[str, Any]) -> str | None:
    """Why the recording stopped before the duration / frame count it was asked for, or None."""
    end_reason = summary.get("end_reason")
    if not isinstance(end_reason, str) or not end_reason.startswith(("source ended", "capture error")):
        return None
    config = _dig(summary, "capture", "config") or {}
    asked_s, asked_frames = config.get("duration"), config.get("max_frames")
    got_s = summary.get("duration_s")
    slots = summary.get("capture_slots")
    if isinstance(asked_s, int | float) and isinstance(got_s, int | float) and got_s < asked_s:
        return f"{got_s:.2f} s of the {asked_s:g} s asked for"
    if isinstance(asked_frames, int) and isinstance(slots, int) and slots < asked_frames:
        return f"{slots} of the {asked_frames} frames asked for"
    if end_reason.startswith("capture error") or "window" in end_reason:
        return f"after {got_s:.2f} s" if isinstance(got_s, int | float) else "early"
    return None  # e.g. a file source that reached its end: the normal end of that recording


def _dig(data: dict[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data

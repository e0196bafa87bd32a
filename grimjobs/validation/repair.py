"""Repair a session cut short: drop torn tails, remux what of the video demuxes, re-pair sync.csv.

Every repaired file is written next to the original as `<name>.repair`, verified by reading it
back, and only then swapped in; the original is kept as `<name>.orig` (unless keep_originals is
false, in which case it is deleted only after the verification). What was done is returned as
sentences and recorded in `repair.json`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grimjobs.session import ACTIONS, CAPTURE, SYNC
from grimjobs.session.actions import ActionsFormatError, read_actions_table
from grimjobs.session.sync import SyncFormatError, read_sync, write_sync_table

REPAIR_LOG = "repair.json"


class RepairError(RuntimeError):
    """A repaired file failed its verification; the original is untouched."""


@dataclass(slots=True)
class RepairResult:
    session: Path
    actions: list[str] = field(default_factory=list)  # what was done, one sentence each
    problems: list[str] = field(default_factory=list)  # what could not be repaired
    originals: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


def _free_name(path: Path, suffix: str) -> Path:
    candidate = path.with_name(path.name + suffix)
    number = 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}{suffix}{number}")
    return candidate


def _swap(original: Path, repaired: Path, keep: bool, result: RepairResult, dry_run: bool) -> None:
    if dry_run:
        repaired.unlink()
        return
    backup = _free_name(original, ".orig")
    os.replace(original, backup)
    os.replace(repaired, original)
    if keep:
        result.originals.append(backup.name)
    else:
        backup.unlink()


def repair_actions(session: Path, keep: bool, dry_run: bool, result: RepairResult) -> None:
    file = session / ACTIONS
    if not file.is_file():
        return
    try:
        table = read_actions_table(file)
    except ActionsFormatError as exc:
        result.problems.append(f"{ACTIONS} is corrupt before its end, not only torn: {exc}")
        return
    if table.corrupt_ranges:
        # Never cut here: the records after the damage are valid and every reader resynchronises
        # on them. What the damaged bytes held is gone; say so and leave them in place.
        where = ", ".join(f"{start}-{end}" for start, end in table.corrupt_ranges[:5])
        result.problems.append(
            f"{ACTIONS} is corrupt in the middle (bytes {where}), not torn: the {len(table)} valid "
            "records around it are kept as they are; what the damaged bytes held cannot be restored"
        )
    if not table.torn_bytes:
        return
    repaired = file.with_name(file.name + ".repair")
    with open(file, "rb") as source, open(repaired, "wb") as target:
        target.write(source.read(table.valid_bytes))
    check = read_actions_table(repaired)
    if check.torn_bytes or len(check) != len(table) or check.corrupt_ranges != table.corrupt_ranges:
        repaired.unlink()
        raise RepairError(f"{ACTIONS}: the truncated copy did not read back as {len(table)} whole records")
    _swap(file, repaired, keep, result, dry_run)
    result.actions.append(
        f"{ACTIONS}: cut the torn tail ({table.torn_bytes} bytes after byte {table.valid_bytes}); "
        f"{len(table)} records kept"
    )


def repair_sync(
    session: Path, video_pts: np.ndarray | None, keep: bool, dry_run: bool, result: RepairResult
) -> None:
    """Drop a torn last row, and rows for frames the (repaired) video no longer holds."""
    file = session / SYNC
    if not file.is_file():
        return
    try:
        sync = read_sync(file)
    except SyncFormatError as exc:
        result.problems.append(f"{SYNC} is malformed, not only torn: {exc}")
        return
    keep_rows = np.ones(len(sync), bool)
    if video_pts is not None:
        keep_rows = np.isin(sync.pts, video_pts)
    dropped = int((~keep_rows).sum())
    if not sync.torn and not dropped:
        return
    times, pts = sync.monotonic_ns[keep_rows], sync.pts[keep_rows]
    repaired = file.with_name(file.name + ".repair")
    write_sync_table(repaired, times, pts)
    check = read_sync(repaired)
    if check.torn or not np.array_equal(check.monotonic_ns, times) or not np.array_equal(check.pts, pts):
        repaired.unlink()
        raise RepairError(f"{SYNC}: the repaired copy did not read back")
    _swap(file, repaired, keep, result, dry_run)
    if sync.torn:
        result.actions.append(f"{SYNC}: removed the cut-off last row")
    if dropped:
        result.actions.append(f"{SYNC}: removed {dropped} rows for frames the video does not hold")


def repair_video(
    session: Path, sync_pts: np.ndarray | None, keep: bool, dry_run: bool, result: RepairResult
) -> np.ndarray | None:
    """Remux every packet that demuxes (and has a sync row) into a new playable file.

    Returns the pts the video holds afterwards (None when the video could not be read at all).
    """
    import av

    from grimjobs.encoder.pyav import FRAGMENTED_MP4
    from grimjobs.validation.video import demux

    file = session / CAPTURE
    if not file.is_file() or file.stat().st_size == 0:
        result.problems.append(f"{CAPTURE} is missing or empty: nothing to remux")
        return None
    info = demux(file)
    if not info.readable:
        result.problems.append(f"{CAPTURE} cannot be opened ({info.error}): nothing to remux")
        return None
    extra = 0 if sync_pts is None else int((~np.isin(info.pts, sync_pts)).sum())
    if not info.error and not extra:
        return info.pts
    repaired = file.with_name(file.name + ".repair")
    kept: list[int] = []
    with (
        av.open(str(file)) as source,
        av.open(str(repaired), mode="w", format="mp4", container_options=FRAGMENTED_MP4) as target,
    ):
        in_stream = source.streams.video[0]
        out_stream = target.add_stream_from_template(in_stream)
        complete = info.pts if sync_pts is None else info.pts[np.isin(info.pts, sync_pts)]
        allowed = set(complete.tolist())
        try:
            for packet in source.demux(in_stream):
                if packet.size == 0 or packet.pts is None:
                    continue
                if packet.pts not in allowed:
                    continue  # a partial frame of a cut-off fragment, or a frame without a sync row
                kept.append(packet.pts)
                packet.stream = out_stream
                target.mux(packet)
        except (av.error.FFmpegError, OSError):
            pass  # the torn end: everything before it is kept
    check = demux(repaired)
    if not check.readable or check.error or check.packets != len(kept):
        repaired.unlink()
        raise RepairError(
            f"{CAPTURE}: the remuxed copy does not demux cleanly ({check.error or check.packets})"
        )
    _swap(file, repaired, keep, result, dry_run)
    what = f"{CAPTURE}: remuxed the {len(kept)} frames that demux into a playable file"
    if info.error:
        what += f" (the original {info.error})"
    if extra:
        what += f"; dropped {extra} frames without a {SYNC} row"
    result.actions.append(what)
    return np.sort(np.asarray(kept, np.int64))


def repair_session(session: Path, keep_originals: bool = True, dry_run: bool = False) -> RepairResult:
    result = RepairResult(session)
    repair_actions(session, keep_originals, dry_run, result)
    sync_pts: np.ndarray | None = None
    try:
        if (session / SYNC).is_file():
            sync_pts = read_sync(session / SYNC).pts
    except SyncFormatError:
        pass
    video_pts = repair_video(session, sync_pts, keep_originals, dry_run, result)
    repair_sync(session, video_pts, keep_originals, dry_run, result)
    if result.changed and not dry_run:
        log = session / REPAIR_LOG
        history = json.loads(log.read_text()) if log.is_file() else []
        history.append(
            {"actions": result.actions, "problems": result.problems, "originals": result.originals}
        )
        log.write_text(json.dumps(history, indent=2) + "\n")
    return result

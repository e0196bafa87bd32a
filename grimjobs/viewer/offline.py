"""A recorded session for the viewer: random access to its video frames, and the input snapshot in
effect at each frame. PyAV is imported only when the video is opened.

Frame i of capture.mp4 (in presentation order) is row i of sync.csv: its `monotonic_ns` is the
capture moment. The input shown with a frame is the newest actions.bin record not later than that
moment (the state the player was holding when the frame was on screen), never a later one.
"""

from __future__ import annotations

import bisect
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grimjobs.clock import NS_PER_S
from grimjobs.errors import UserError
from grimjobs.session import ACTIONS, CAPTURE, SUMMARY, SYNC
from grimjobs.session.actions import REASON_SAMPLE, ActionsFormatError, InputSnapshot, read_actions
from grimjobs.session.summary import read_summary
from grimjobs.session.sync import SyncFormatError, SyncTable, read_sync
from grimjobs.viewer.align import Gap, detect_gaps

log = logging.getLogger(__name__)


class VideoReader:
    """Decoded RGB frames of an MP4 by index, with a small cache and keyframe seeking.

    The packet index (presentation timestamps and keyframes) is read once by demuxing without
    decoding; stepping forward decodes one frame, jumping seeks to the keyframe before.
    """

    def __init__(self, path: Path, cache_frames: int = 24) -> None:
        import av

        self.path = path
        try:
            self._container: Any = av.open(str(path))
        except (OSError, av.FFmpegError) as exc:
            raise UserError(f"path: cannot open {path}: {exc}; is it a session's {CAPTURE}?") from None
        if not self._container.streams.video:
            raise UserError(f"path: {path} has no video stream")
        self._stream = self._container.streams.video[0]
        self.width = int(self._stream.codec_context.width)
        self.height = int(self._stream.codec_context.height)
        pts: list[int] = []
        for packet in self._container.demux(self._stream):
            if packet.pts is not None and packet.size:
                pts.append(int(packet.pts))
        pts.sort()
        self.pts = pts
        self._index_of = {value: index for index, value in enumerate(pts)}
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_frames = cache_frames
        self._decoder: Any = None
        self._next_index: int | None = None  # index the running decoder yields next

    def __len__(self) -> int:
        return len(self.pts)

    def close(self) -> None:
        self._container.close()

    def frame(self, index: int) -> np.ndarray:
        """RGB pixels of frame `index` (0 <= index < len)."""
        if not 0 <= index < len(self.pts):
            raise IndexError(index)
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        if self._next_index is None or not (self._next_index <= index < self._next_index + 48):
            self._seek(index)
        while True:
            frame = next(self._decoder, None)
            if frame is None:
                self._seek(index)  # the decoder ran dry (torn tail): restart at the keyframe
                frame = next(self._decoder, None)
                if frame is None:
                    raise UserError(f"path: {self.path}: frame {index} cannot be decoded")
            found = self._index_of.get(int(frame.pts)) if frame.pts is not None else None
            if found is None:
                continue
            self._next_index = found + 1
            if found >= index - 2:
                pixels = frame.to_ndarray(format="rgb24")
                self._remember(found, pixels)
            if found == index:
                return self._cache[index]
            if found > index:  # the wanted frame was not produced (damaged): show the next one
                return self._cache[found]

    def _seek(self, index: int) -> None:
        self._container.seek(self.pts[index], stream=self._stream, backward=True, any_frame=False)
        self._decoder = self._container.decode(self._stream)
        self._next_index = 0

    def _remember(self, index: int, pixels: np.ndarray) -> None:
        self._cache[index] = pixels
        self._cache.move_to_end(index)
        while len(self._cache) > self._cache_frames:
            self._cache.popitem(last=False)


@dataclass(slots=True)
class SessionData:
    path: Path
    frames: int
    times_ns: np.ndarray  # capture moment of each video frame (sync.csv), int64
    sync_torn: bool
    snapshots: list[InputSnapshot]
    snapshot_times: list[int]
    actions_torn_bytes: int
    gaps: list[Gap]
    summary: dict[str, Any]
    warnings: list[str]

    def snapshot_at(self, t_ns: int) -> tuple[int, InputSnapshot] | None:
        """(record index, snapshot) in effect at t_ns: the newest record not later than it."""
        at = bisect.bisect_right(self.snapshot_times, t_ns)
        if at == 0:
            return None
        return at - 1, self.snapshots[at - 1]

    def history(self, t_ns: int, window_ns: int) -> tuple[np.ndarray, np.ndarray]:
        """Axis values of the records within +-window of t_ns (plus the one in effect before it):
        (times in seconds relative to t_ns, axes [n, 6])."""
        lo = max(0, bisect.bisect_left(self.snapshot_times, t_ns - window_ns) - 1)
        hi = bisect.bisect_right(self.snapshot_times, t_ns + window_ns)
        chosen = self.snapshots[lo:hi]
        if not chosen:
            return np.zeros(0), np.zeros((0, 6))
        times = (
            np.array([max(s.monotonic_ns, t_ns - window_ns) - t_ns for s in chosen], dtype=np.float64)
            / NS_PER_S
        )
        axes = np.zeros((len(chosen), 6), dtype=np.float64)
        for row, snapshot in enumerate(chosen):
            values = list(snapshot.axes)[:6]
            axes[row, : len(values)] = values
        end = min(
            t_ns + window_ns, self.snapshot_times[-1] if hi == len(self.snapshots) else t_ns + window_ns
        )
        # hold the last value to the end of the window (or to the last record)
        times = np.append(times, (end - t_ns) / NS_PER_S)
        axes = np.vstack([axes, axes[-1:]])
        return times, axes

    def event_marks(self, limit: int = 400) -> list[float]:
        """Scrubber ticks (0..1) at input events (not periodic samples), at most `limit`."""
        if self.frames < 2 or not self.snapshots:
            return []
        start, end = int(self.times_ns[0]), int(self.times_ns[-1])
        span = max(1, end - start)
        ticks = {
            round((s.monotonic_ns - start) / span * limit)
            for s in self.snapshots
            if s.reason != REASON_SAMPLE and start <= s.monotonic_ns <= end
        }
        return sorted(t / limit for t in ticks)


def load_session(path: Path, gap_min_ns: int, gap_factor: float) -> SessionData:
    """Read sync.csv, actions.bin and summary.json of a session folder (video opened separately)."""
    if not path.is_dir():
        raise UserError(f"path={path}: not a folder; give a session folder (the record job's run folder)")
    if not (path / CAPTURE).exists():
        raise UserError(f"path={path}: no {CAPTURE} in this folder; give a session folder")
    warnings: list[str] = []
    sync: SyncTable | None = None
    if (path / SYNC).exists():
        try:
            sync = read_sync(path / SYNC)
        except SyncFormatError as exc:
            warnings.append(f"{SYNC} unreadable: {exc}")
    else:
        warnings.append(f"no {SYNC}: frame times unknown, inputs cannot be paired")
    if sync is not None and sync.torn:
        warnings.append(f"{SYNC}: torn last line (recorder stopped mid-write)")
    snapshots: list[InputSnapshot] = []
    torn = 0
    if (path / ACTIONS).exists():
        try:
            actions = read_actions(path / ACTIONS)
            snapshots, torn = actions.records, actions.torn_bytes
        except ActionsFormatError as exc:
            warnings.append(f"{ACTIONS} unreadable: {exc}")
    else:
        warnings.append(f"no {ACTIONS}: no inputs to show")
    if torn:
        warnings.append(f"{ACTIONS}: {torn} torn bytes at the end")
    snapshots.sort(key=lambda s: s.monotonic_ns)
    summary: dict[str, Any] = {}
    if (path / SUMMARY).exists():
        try:
            summary = read_summary(path / SUMMARY)
        except (ValueError, OSError) as exc:
            warnings.append(f"{SUMMARY} unreadable: {exc}")
    times = sync.monotonic_ns if sync is not None else np.zeros(0, dtype=np.int64)
    return SessionData(
        path=path,
        frames=len(times),
        times_ns=times,
        sync_torn=bool(sync.torn) if sync is not None else False,
        snapshots=snapshots,
        snapshot_times=[s.monotonic_ns for s in snapshots],
        actions_torn_bytes=torn,
        gaps=detect_gaps(times, "video", gap_min_ns, gap_factor),
        summary=summary,
        warnings=warnings,
    )

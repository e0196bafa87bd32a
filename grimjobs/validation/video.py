"""What capture.mp4 holds, by demuxing (no decoding), plus a bounded sample of decoded frames.

PyAV is imported here only, so validating the other files works without it loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(slots=True)
class VideoInfo:
    readable: bool
    error: str | None = None  # why demuxing stopped early (a torn tail) or could not start
    codec: str | None = None
    width: int = 0
    height: int = 0
    pixel_format: str | None = None
    time_base: Fraction | None = None
    average_rate: float | None = None
    packets: int = 0
    keyframes: int = 0
    pts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    duration_s: float = 0.0  # last pts - first pts, in seconds

    def params(self) -> dict[str, Any]:
        return {
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "pixel_format": self.pixel_format,
            "time_base": str(self.time_base) if self.time_base else None,
            "average_rate": round(self.average_rate, 3) if self.average_rate else None,
        }


def demux(path: Path) -> VideoInfo:
    """Count the video packets and collect their pts without decoding anything.

    A file cut off mid-fragment (a killed recorder) demuxes up to the damage; the error is kept.
    """
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        return VideoInfo(readable=False, error=f"cannot open: {exc}")
    with container:
        if not container.streams.video:
            return VideoInfo(readable=False, error="no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if ctx is None:
            return VideoInfo(readable=False, error="its header ends before the video's codec parameters")
        info = VideoInfo(
            readable=True,
            codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            pixel_format=ctx.pix_fmt,
            time_base=stream.time_base,
            average_rate=float(stream.average_rate) if stream.average_rate else None,
        )
        size = path.stat().st_size
        torn_at = mp4_torn_at(path)
        try:
            samples = fragment_samples(path)
        except MalformedMP4 as exc:
            info.readable, info.error = False, str(exc)
            return info
        if samples is not None:
            pts_array, ends_array, keys = samples
            whole = ends_array <= size
        else:
            pts_array, ends_array, keys = _demux_packets(container, stream, info)
            # FFmpeg hands out the last packet of a cut-off fragment clipped at the end of the file.
            whole = ends_array < size if torn_at is not None else np.ones(len(pts_array), bool)
        partial = int((~whole).sum())
        pts_array, keyframes = pts_array[whole], int(keys[whole].sum())
        if torn_at is not None:
            info.error = (
                f"ends in a box cut off at byte {size} (box starts at byte {torn_at}); "
                f"{partial} partial frame(s) left out"
            )
        info.pts = np.sort(pts_array)
        info.packets = len(pts_array)
        info.keyframes = keyframes
        if len(info.pts) > 1 and info.time_base is not None:
            info.duration_s = float((info.pts[-1] - info.pts[0]) * info.time_base)
    return info


def _demux_packets(container: Any, stream: Any, info: VideoInfo) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pts, byte end, is_keyframe) per packet through PyAV, for files fragment_samples cannot read."""
    import av

    pts: list[int] = []
    ends: list[int] = []
    keys: list[bool] = []
    try:
        for packet in container.demux(stream):
            if packet.size == 0:  # the flush packet at the end
                continue
            pts.append(packet.pts if packet.pts is not None else -1)
            ends.append(packet.pos + packet.size if packet.pos is not None and packet.pos >= 0 else 0)
            keys.append(packet.is_keyframe)
    except (av.error.FFmpegError, OSError) as exc:
        info.error = f"demux stopped after {len(pts)} packets: {exc}"
    return np.asarray(pts, np.int64), np.asarray(ends, np.int64), np.asarray(keys, bool)


def mp4_torn_at(path: Path) -> int | None:
    """Offset of the first top-level MP4 box that runs past the end of the file, or None.

    A recorder killed mid-fragment leaves its last `moof`/`mdat` box shorter than its header says.
    Only box headers are read (two per fragment), never the media data.
    """
    size = path.stat().st_size
    offset = 0
    with open(path, "rb") as file:
        while offset < size:
            file.seek(offset)
            header = file.read(16)
            if len(header) < 8:
                return offset
            box_size = int.from_bytes(header[:4], "big")
            if box_size == 1:
                if len(header) < 16:
                    return offset
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                return None  # "extends to the end of the file"
            if box_size < 8 or offset + box_size > size:
                return offset
            offset += box_size
    return None


def mp4_has_fragment(path: Path) -> bool:
    """Whether any top-level `moof` box (a fragment of frames) starts in the file."""
    size = path.stat().st_size
    offset = 0
    with open(path, "rb") as file:
        while offset + 8 <= size:
            file.seek(offset)
            header = file.read(16)
            if header[4:8] == b"moof":
                return True
            box_size = int.from_bytes(header[:4], "big")
            if box_size == 1 and len(header) >= 16:
                box_size = int.from_bytes(header[8:16], "big")
            if box_size < 8:
                return False
            offset += box_size
    return False


@dataclass(slots=True)
class Run:
    """Consecutive frames of one kind (a held picture, or black), by time from the first frame."""

    start_s: float  # when the run starts, from the video's first frame
    duration_s: float  # how long the picture is held: until the next different frame (or the last one)
    frames: int


@dataclass(slots=True)
class FrameScan:
    """Decoded frames compared at full resolution: truly repeated pictures and truly black ones."""

    frames: int = 0  # frames decoded
    pairs: int = 0  # consecutive decoded pairs compared
    repeats: int = 0  # frames equal to the frame before them (luma within repeat_level everywhere)
    black: int = 0
    complete: bool = False  # every frame of the video was decoded (else evenly spaced windows)
    freezes: list[Run] = field(default_factory=list)  # held pictures (black excluded), longest first
    black_runs: list[Run] = field(default_factory=list)
    error: str | None = None

    @property
    def longest_repeat_run(self) -> int:
        return max((run.frames - 1 for run in self.freezes), default=0)


def _luma(frame: Any) -> np.ndarray:
    """The frame's luma plane as a view (planar YUV), else a gray conversion."""
    if frame.format.name.startswith(("yuv", "yuvj", "nv12", "gray")):
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        return rows[: frame.height, : frame.width]
    gray: np.ndarray = frame.to_ndarray(format="gray")
    return gray


class _Runs:
    """Collects runs of flagged frames: a run is the frame before the first flag plus the flagged ones."""

    def __init__(self) -> None:
        self.runs: list[Run] = []
        self._start: float | None = None
        self._frames = 0
        self._last = 0.0

    def add(self, t_s: float, flagged: bool, previous_s: float | None, start_here: bool = False) -> None:
        if flagged:
            if self._start is None:
                self._start = t_s if start_here or previous_s is None else previous_s
                self._frames = 1 if start_here or previous_s is None else 2
            else:
                self._frames += 1
            self._last = t_s
        elif self._start is not None:
            self._close(t_s)

    def _close(self, end_s: float) -> None:
        assert self._start is not None
        self.runs.append(Run(self._start, end_s - self._start, self._frames))
        self._start = None

    def finish(self, frame_s: float) -> list[Run]:
        if self._start is not None:
            self._close(self._last + frame_s)
        return self.runs


def scan_frames(
    path: Path,
    packets: int,
    all_frames: int,
    windows: int,
    frames_per_window: int,
    repeat_level: int,
    black_level: int,
    black_pixel_fraction: float,
    frame_s: float,
) -> FrameScan:
    """Decode the video (every frame when its `packets` are at most `all_frames`, else
    `frames_per_window` consecutive frames at `windows` evenly spaced keyframes) and find runs of
    repeated and of black pictures.

    A frame repeats the one before it when no luma sample differs by more than `repeat_level`
    (0-255) at full resolution: a small sprite moving on a static background changes dozens of
    samples by far more, while an encoder re-coding a held picture stays within a level or two.
    A frame is black when at most `black_pixel_fraction` of its luma samples exceed `black_level`
    (video black is 16): a dark scene still has brighter samples somewhere. `frame_s` (the nominal
    frame interval) closes a run that lasts to the end of what was decoded.
    """
    import av

    scan = FrameScan()
    if windows <= 0 or frames_per_window <= 0:
        return scan
    held, dark = _Runs(), _Runs()
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            time_base = float(stream.time_base) if stream.time_base else 1 / 90000
            total = packets
            first_pts: int | None = None
            if 0 < total <= all_frames or windows == 1:
                plan: list[float | None] = [None]
                scan.complete = 0 < total <= all_frames
                budget = total if scan.complete else frames_per_window
            else:
                duration = float(stream.duration * time_base) if stream.duration else None
                if duration is None and container.duration:
                    duration = container.duration / 1_000_000
                plan = list(np.linspace(0, max((duration or 0) - 0.5, 0), windows))
                budget = frames_per_window
            previous_window_end = -1
            for start_s in plan:
                if start_s is not None:
                    container.seek(int(start_s / time_base), stream=stream, backward=True, any_frame=False)
                previous: np.ndarray | None = None
                previous_s: float | None = None
                taken = 0
                for frame in container.decode(stream):
                    pts = frame.pts if frame.pts is not None else previous_window_end + 1
                    if pts <= previous_window_end:
                        continue  # windows overlap on a short video: do not count a frame twice
                    if first_pts is None:
                        first_pts = pts
                    t_s = (pts - first_pts) * time_base
                    luma = _luma(frame)
                    scan.frames += 1
                    is_black = bool(np.count_nonzero(luma > black_level) <= black_pixel_fraction * luma.size)
                    scan.black += int(is_black)
                    dark.add(t_s, is_black, None, start_here=True)
                    repeat = False
                    if previous is not None:
                        scan.pairs += 1
                        difference = np.maximum(luma, previous) - np.minimum(luma, previous)
                        repeat = int(difference.max()) <= repeat_level
                        scan.repeats += int(repeat)
                    held.add(t_s, repeat and not is_black, previous_s)
                    previous, previous_s = luma.copy(), t_s
                    previous_window_end = pts
                    taken += 1
                    if taken >= budget:
                        break
                held.finish(frame_s)
                dark.finish(frame_s)
    except (av.error.FFmpegError, OSError, IndexError) as exc:
        scan.error = str(exc)
    scan.freezes = sorted(held.runs, key=lambda run: -run.duration_s)
    scan.black_runs = sorted(dark.runs, key=lambda run: -run.duration_s)
    return scan


# Fragmented MP4 sample tables, read directly ------------------------------------------------
# PyAV hands out one Python object per packet (~5-10 us each: about a second for an hour at 30 fps).
# A fragmented MP4 lists every sample's duration, size and composition offset in the `trun` box of
# each fragment, so the same pts and byte ranges come from a few numpy reads per fragment.


class MalformedMP4(ValueError):
    """A box whose numbers cannot be true for this file (e.g. more samples than bytes)."""


_TRUN_FIELDS = ((0x100, "duration"), (0x200, "size"), (0x400, "flags"), (0x800, "cto"))
_NON_SYNC = 0x00010000


def _boxes(data: memoryview, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes in data[start:end]; stops at a cut-off box."""
    out = []
    offset = start
    while offset + 8 <= end:
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = bytes(data[offset + 4 : offset + 8])
        header = 8
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            break
        out.append((kind, offset + header, offset + size))
        offset += size
    return out


def fragment_samples(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(pts, byte end, is_keyframe) of every sample of a single-track fragmented MP4, in decode order.

    None when the file is not a single-track fragmented MP4 this reader understands (the caller
    then demuxes with PyAV). pts are in the track's timescale: decode time + composition offset.
    """
    # Only moov and the moof boxes are read (the media data in mdat is skipped by seeking).
    loaded: list[tuple[bytes, int, memoryview]] = []  # (type, file offset of the box, its bytes)
    with open(path, "rb") as file:
        size = file.seek(0, 2)
        offset = 0
        while offset + 8 <= size:
            file.seek(offset)
            header = file.read(16)
            box_size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if box_size == 1:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8 or offset + box_size > size:
                break  # a cut-off box: its samples are not listed
            if kind in (b"moov", b"moof"):
                file.seek(offset)
                loaded.append((kind, offset, memoryview(file.read(box_size))))
            offset += box_size
    moov = [data for kind, _, data in loaded if kind == b"moov"]
    if len(moov) != 1:
        return None
    moov_boxes = _boxes(moov[0], 8, len(moov[0]))
    if sum(1 for b in moov_boxes if b[0] == b"trak") != 1:
        return None
    trex_flags: int | None = None
    for kind, start, end in moov_boxes:
        if kind == b"mvex":
            for kind2, start2, _end2 in _boxes(moov[0], start, end):
                if kind2 == b"trex":
                    trex_flags = int.from_bytes(moov[0][start2 + 20 : start2 + 24], "big")
    pts_parts, end_parts, key_parts = [], [], []
    next_dts = 0
    for kind, moof_start, data in loaded:
        if kind != b"moof":
            continue
        trafs = [b for b in _boxes(data, 8, len(data)) if b[0] == b"traf"]
        if len(trafs) != 1:
            return None
        children = _boxes(data, trafs[0][1], trafs[0][2])
        tfhd = next((b for b in children if b[0] == b"tfhd"), None)
        if tfhd is None:
            return None
        flags = int.from_bytes(data[tfhd[1] + 1 : tfhd[1] + 4], "big")
        cursor = tfhd[1] + 8
        base = moof_start
        if flags & 0x01:
            base = int.from_bytes(data[cursor : cursor + 8], "big")
            cursor += 8
        if flags & 0x02:
            cursor += 4
        defaults = {}
        for bit, name in ((0x08, "duration"), (0x10, "size"), (0x20, "flags")):
            if flags & bit:
                defaults[name] = int.from_bytes(data[cursor : cursor + 4], "big")
                cursor += 4
        dts = next_dts
        for kind2, start2, _end2 in children:
            if kind2 == b"tfdt":
                version = data[start2]
                width = 8 if version == 1 else 4
                dts = int.from_bytes(data[start2 + 4 : start2 + 4 + width], "big")
        for kind2, start2, end2 in children:
            if kind2 != b"trun":
                continue
            version = data[start2]
            tflags = int.from_bytes(data[start2 + 1 : start2 + 4], "big")
            count = int.from_bytes(data[start2 + 4 : start2 + 8], "big")
            cursor = start2 + 8
            data_offset = 0
            if tflags & 0x01:
                data_offset = int.from_bytes(data[cursor : cursor + 4], "big", signed=True)
                cursor += 4
            first_flags = None
            if tflags & 0x04:
                first_flags = int.from_bytes(data[cursor : cursor + 4], "big")
                cursor += 4
            present = [name for bit, name in _TRUN_FIELDS if tflags & bit]
            if cursor + 4 * len(present) * count > end2:
                return None
            # Every sample takes at least one byte of the file: a larger count is crafted or
            # corrupt, and would make the default-filled columns below gigabytes long.
            if count > size:
                raise MalformedMP4(
                    f"a fragment at byte {moof_start} claims {count} samples in a {size}-byte file"
                )
            table = np.frombuffer(data, ">u4", count * len(present), cursor).reshape(count, len(present))
            columns = {name: table[:, i].astype(np.int64) for i, name in enumerate(present)}
            if "cto" in columns and version == 1:
                columns["cto"] = table[:, present.index("cto")].view(">i4").astype(np.int64)
            if ("duration" not in columns and "duration" not in defaults) or (
                "size" not in columns and "size" not in defaults
            ):
                return None
            durations = columns.get("duration", np.full(count, defaults.get("duration", 0), np.int64))
            sizes = columns.get("size", np.full(count, defaults.get("size", 0), np.int64))
            if "flags" in columns:
                sample_flags = columns["flags"]
            else:
                default = defaults.get("flags", trex_flags if trex_flags is not None else _NON_SYNC)
                sample_flags = np.full(count, default, np.int64)
                if first_flags is not None and count:
                    sample_flags[0] = first_flags
                elif "flags" not in defaults and trex_flags is None and count:
                    sample_flags[0] = 0  # frag_keyframe: a fragment starts at a keyframe
            decode = dts + np.cumsum(durations) - durations
            pts_parts.append(decode + columns.get("cto", np.zeros(count, np.int64)))
            end_parts.append(base + data_offset + np.cumsum(sizes))
            key_parts.append((sample_flags & _NON_SYNC) == 0)
            dts = int(decode[-1] + durations[-1]) if count else dts
        next_dts = dts
    if not pts_parts:
        return None
    return np.concatenate(pts_parts), np.concatenate(end_parts), np.concatenate(key_parts)

"""Dataset writers: per-session parts, then one merge into LeRobot v3 or npz.

A part (`<out>/parts/<name>/`) is one session converted on its own: `frames.parquet` (the
episode's columns), `episode.json` (session, counts, per-feature stats, notes) and `video.mp4`.
Parts can be made in parallel (one job per session); `merge` numbers the episodes (sorted by
session path), concatenates the data and writes the metadata. See docs/DATASET.md.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grimjobs.dataset.episode import Episode, Feature, column_stats, pool_stats
from grimjobs.errors import UserError
from grimjobs.session import CAPTURE

log = logging.getLogger(__name__)

CODEBASE_VERSION = "v3.0"
VIDEO_KEY = "observation.images.screen"
CHUNKS_SIZE = 1000
DATA_FILES_SIZE_IN_MB = 100
VIDEO_FILES_SIZE_IN_MB = 200
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
PART_FRAMES = "frames.parquet"
PART_META = "episode.json"
PART_VIDEO = "video.mp4"
PTS_PER_SECOND = 90000  # sync.csv pts time base (grimjobs writes 1/90000)
# Columns LeRobot adds to every dataset (shape (1,)).
INDEX_FEATURES = {
    "episode_index": Feature("int64", (1,)),
    "index": Feature("int64", (1,)),
    "task_index": Feature("int64", (1,)),
}

Progress = Callable[[int], None]


def _arrow_column(values: np.ndarray) -> Any:
    import pyarrow as pa

    if values.ndim == 1:
        return pa.array(values)
    width = int(np.prod(values.shape[1:]))
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), width)


def to_table(columns: dict[str, np.ndarray]) -> Any:
    import pyarrow as pa

    return pa.table({name: _arrow_column(values) for name, values in columns.items()})


def probe_video(path: Path) -> dict[str, Any]:
    """The LeRobot video info of a video file (PyAV): size, codec, pix_fmt, audio."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        return {
            "video.height": ctx.height,
            "video.width": ctx.width,
            "video.codec": ctx.name,
            "video.pix_fmt": ctx.pix_fmt,
            "video.channels": 3,
            "video.is_depth_map": False,
            "has_audio": bool(container.streams.audio),
        }


def remux(source: Path, target: Path) -> None:
    """Copy the video packets into a regular (non-fragmented, faststart) MP4; pts are kept."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w", options={"movflags": "+faststart"}) as dst:
        in_stream = src.streams.video[0]
        out_stream = dst.add_stream_from_template(in_stream)
        for packet in src.demux(in_stream):
            if packet.dts is None:
                continue
            packet.stream = out_stream
            dst.mux(packet)


def write_part(
    part_dir: Path,
    episode: Episode,
    meta: dict[str, Any],
    video: str,
    source_video: Path | None,
) -> dict[str, Any]:
    """Write one session's part atomically (a folder renamed into place when complete)."""
    import pyarrow.parquet as pq

    tmp = part_dir.with_name(part_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    pq.write_table(to_table(episode.columns), tmp / PART_FRAMES)
    video_info: dict[str, Any] | None = None
    if video != "none" and source_video is not None and source_video.exists():
        if video == "remux":
            remux(source_video, tmp / PART_VIDEO)
        else:
            shutil.copyfile(source_video, tmp / PART_VIDEO)
        video_info = probe_video(tmp / PART_VIDEO)
    elif video != "none":
        episode.notes.append("capture.mp4: missing; episode has no video")
    record = {
        **meta,
        "session": str(episode.session),
        "frames": episode.frames,
        "records": episode.records,
        "notes": episode.notes,
        "first_pts": int(episode.columns["pts"][0]),
        "duration_s": float(episode.columns["timestamp"][-1]),
        "video": video_info,
        "features": {name: f.as_info() for name, f in episode.features.items()},
        "stats": {name: column_stats(values) for name, values in episode.columns.items()},
    }
    (tmp / PART_META).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    if part_dir.exists():
        shutil.rmtree(part_dir)
    tmp.replace(part_dir)
    return record


def read_part(part_dir: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((part_dir / PART_META).read_text(encoding="utf-8"))
    return meta


def _chunk_file(number: int) -> tuple[int, int]:
    return number // CHUNKS_SIZE, number % CHUNKS_SIZE


def _frame_interval(part: dict[str, Any]) -> float:
    frames = int(part["frames"])
    return float(part["duration_s"]) / (frames - 1) if frames > 1 else 0.0


def nominal_fps(parts: Sequence[dict[str, Any]]) -> float:
    """The sessions' nominal fps (summary.json) if they agree, else the measured median rate."""
    nominal = {p.get("nominal_fps") for p in parts}
    if len(nominal) == 1 and None not in nominal:
        return float(next(iter(nominal)))  # type: ignore[arg-type]
    intervals = [_frame_interval(p) for p in parts if _frame_interval(p) > 0]
    return round(1.0 / float(np.median(intervals)), 3) if intervals else 0.0


def _check_same_features(parts: Sequence[dict[str, Any]], dirs: Sequence[Path]) -> dict[str, Any]:
    features: dict[str, Any] = parts[0]["features"]
    for part, where in zip(parts[1:], dirs[1:], strict=True):
        if part["features"] != features:
            raise UserError(
                f"{where}: its columns differ from {dirs[0]} (another profile or horizon_ms); "
                "export all sessions with the same profile and horizon_ms"
            )
    return features


def merge_lerobot(
    part_dirs: Sequence[Path],
    parts: Sequence[dict[str, Any]],
    out: Path,
    task: str,
    extra_info: dict[str, Any],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write the LeRobot v3 layout under `out` from parts (in the given order = episode order);
    `parts` are their `read_part` records."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not parts:
        raise UserError(f"{out}: no exported sessions to merge")
    features = _check_same_features(parts, part_dirs)
    fps = nominal_fps(parts)
    has_video = all(p["video"] for p in parts)
    without_video = [str(p["session"]) for p in parts if not p["video"]]
    if without_video and len(without_video) < len(parts):
        # LeRobot has a video feature for every episode or for none: say why none got one.
        log.warning(
            "export: %d episode(s) have no video (%s); the dataset is written without videos",
            len(without_video),
            ", ".join(without_video),
        )
    task_index = 0

    writer: Any = None
    data_file, data_bytes = 0, 0
    episode_rows: list[dict[str, Any]] = []
    index = 0
    for number, (part_dir, part) in enumerate(zip(part_dirs, parts, strict=True)):
        table = pq.read_table(part_dir / PART_FRAMES)
        length = table.num_rows
        # An episode never spans two data files; a new file starts past the size budget.
        if writer is not None and data_bytes > DATA_FILES_SIZE_IN_MB * 1024 * 1024:
            writer.close()
            writer, data_file, data_bytes = None, data_file + 1, 0
        chunk_index, file_index = _chunk_file(data_file)
        table = table.append_column("episode_index", pa.array(np.full(length, number, dtype=np.int64)))
        table = table.append_column("index", pa.array(np.arange(index, index + length, dtype=np.int64)))
        table = table.append_column("task_index", pa.array(np.full(length, task_index, dtype=np.int64)))
        if writer is None:
            path = out / DATA_PATH.format(chunk_index=chunk_index, file_index=file_index)
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(str(path), table.schema)
        writer.write_table(table)
        data_bytes += table.nbytes
        row: dict[str, Any] = {
            "episode_index": number,
            "tasks": [task],
            "length": length,
            "data/chunk_index": chunk_index,
            "data/file_index": file_index,
            "dataset_from_index": index,
            "dataset_to_index": index + length,
        }
        if has_video:
            video_chunk, video_file = _chunk_file(number)
            target = out / VIDEO_PATH.format(
                video_key=VIDEO_KEY, chunk_index=video_chunk, file_index=video_file
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(part_dir / PART_VIDEO, target)
            # LeRobot seeks `from_timestamp + timestamp`: the first frame's pts in the file, so the
            # measured timestamps land on the real frames.
            start = int(part["first_pts"]) / PTS_PER_SECOND
            row[f"videos/{VIDEO_KEY}/chunk_index"] = video_chunk
            row[f"videos/{VIDEO_KEY}/file_index"] = video_file
            row[f"videos/{VIDEO_KEY}/from_timestamp"] = start
            row[f"videos/{VIDEO_KEY}/to_timestamp"] = (
                start + float(part["duration_s"]) + _frame_interval(part)
            )
        row["meta/episodes/chunk_index"] = 0
        row["meta/episodes/file_index"] = 0
        for name, stats in part["stats"].items():
            for stat, values in stats.items():
                row[f"stats/{name}/{stat}"] = [float(v) for v in values]
        row["grimjobs/session"] = part["session"]
        row["grimjobs/verdict"] = part.get("verdict")
        row["grimjobs/notes"] = list(part["notes"])
        episode_rows.append(row)
        index += length
        if progress is not None:
            progress(length)
    if writer is not None:
        writer.close()

    episodes_path = out / EPISODES_PATH.format(chunk_index=0, file_index=0)
    episodes_path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(episode_rows), episodes_path)
    _write_tasks(out / "meta" / "tasks.parquet", [task])

    all_features: dict[str, Any] = {}
    if has_video:
        video = dict(parts[0]["video"])
        video["video.fps"] = fps
        all_features[VIDEO_KEY] = {
            "dtype": "video",
            "shape": [video["video.height"], video["video.width"], 3],
            "names": ["height", "width", "channels"],
            "info": video,
        }
    all_features.update(features)
    all_features.update({name: f.as_info() for name, f in INDEX_FEATURES.items()})
    stats = {name: pool_stats([p["stats"][name] for p in parts]) for name in features}
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": "gamepad",
        "total_episodes": len(parts),
        "total_frames": index,
        "total_tasks": 1,
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": DATA_FILES_SIZE_IN_MB,
        "video_files_size_in_mb": VIDEO_FILES_SIZE_IN_MB,
        "fps": fps,
        "splits": {"train": f"0:{len(parts)}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if has_video else None,
        "features": all_features,
        "grimjobs": extra_info,
    }
    _write_json(out / "meta" / "info.json", info)
    _write_json(out / "meta" / "stats.json", stats)
    return info


def merge_npz(
    part_dirs: Sequence[Path],
    parts: Sequence[dict[str, Any]],
    out: Path,
    extra_info: dict[str, Any],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """One `dataset.npz` (columns concatenated, with episode_index and index) + `meta.json`."""
    import pyarrow.parquet as pq

    if not parts:
        raise UserError(f"{out}: no exported sessions to merge")
    features = _check_same_features(parts, part_dirs)
    arrays: dict[str, list[np.ndarray]] = {name: [] for name in features}
    episode_index: list[np.ndarray] = []
    for number, part_dir in enumerate(part_dirs):
        table = pq.read_table(part_dir / PART_FRAMES)
        for name, spec in features.items():
            column = table.column(name).combine_chunks()
            if spec["shape"] == [1]:
                values = column.to_numpy(zero_copy_only=False)
            else:
                values = (
                    column.flatten().to_numpy(zero_copy_only=False).reshape(table.num_rows, *spec["shape"])
                )
            arrays[name].append(values)
        episode_index.append(np.full(table.num_rows, number, dtype=np.int64))
        if progress is not None:
            progress(table.num_rows)
    merged = {name.replace(".", "_"): np.concatenate(chunks) for name, chunks in arrays.items()}
    merged["episode_index"] = np.concatenate(episode_index)
    merged["index"] = np.arange(len(merged["episode_index"]), dtype=np.int64)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "dataset.npz", **merged)  # type: ignore[arg-type]
    meta = {
        "fps": nominal_fps(parts),
        "features": features,
        "keys": {name: name.replace(".", "_") for name in features},
        "episodes": [
            {
                "episode_index": i,
                "session": p["session"],
                "length": p["frames"],
                "video": str(Path(p["session"]) / CAPTURE),
            }
            for i, p in enumerate(parts)
        ],
        "grimjobs": extra_info,
    }
    _write_json(out / "meta.json", meta)
    return meta


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def _write_tasks(path: Path, tasks: list[str]) -> None:
    """meta/tasks.parquet as LeRobot writes it from pandas: task strings as the index, task_index."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [],
        "columns": [
            {
                "name": "task_index",
                "field_name": "task_index",
                "pandas_type": "int64",
                "numpy_type": "int64",
                "metadata": None,
            },
            {
                "name": "task",
                "field_name": "task",
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": None,
            },
        ],
        "creator": {"library": "grimjobs", "version": "0"},
        "pandas_version": "2.2.0",
    }
    table = pa.table(
        {"task_index": pa.array(range(len(tasks)), pa.int64()), "task": pa.array(tasks, pa.string())}
    )
    table = table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)

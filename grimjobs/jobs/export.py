"""export: sessions -> an aligned (frame, action) dataset (LeRobot v3 or npz).

Each session becomes a part (`<out>/parts/<name>/`), then `merge` numbers the episodes and writes
the dataset. `mode=part` only converts (one multirun job per session, locally with the joblib
launcher or on a cluster with submitit/ray), `mode=merge` only merges. See docs/DATASET.md.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig

from grimjobs.errors import ConfigError, UserError
from grimjobs.runner import hydra_job
from grimjobs.settings import build

log = logging.getLogger("grimjobs.export")

FORMATS = ("lerobot", "npz")
MODES = ("all", "part", "merge")
VIDEO_MODES = ("copy", "remux", "none")
SKIPPED = "parts/_skipped"


class Progress:
    """One status line on stderr: sessions done / total and frames of the current step."""

    def __init__(self, enabled: bool, sessions: int) -> None:
        self.enabled = enabled
        self.sessions = sessions
        self.done = 0
        self.frames = 0
        self.total_frames = 0
        self.label = ""
        self._last = 0.0

    def start(self, label: str, total_frames: int) -> None:
        self.label, self.frames, self.total_frames = label, 0, total_frames
        self.draw(force=True)

    def advance(self, frames: int) -> None:
        self.frames += frames
        self.draw()

    def finish_session(self) -> None:
        self.done += 1
        self.draw(force=True)

    def draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        width = 20
        filled = width * self.done // max(self.sessions, 1)
        bar = "#" * filled + "." * (width - filled)
        frames = f"{self.frames}/{self.total_frames} frames" if self.total_frames else ""
        line = f"export [{bar}] {self.done}/{self.sessions} sessions  {self.label} {frames}"
        sys.stderr.write("\r" + line[:150].ljust(150))
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def expand_sessions(spec: Any) -> list[Path]:
    """`sessions=` -> session folders: each item is a folder (itself or the sessions below it) or a glob."""
    from grimjobs.session import find_sessions

    many = isinstance(spec, (list, tuple, ListConfig))
    items: list[str] = [str(item) for item in spec] if many else [str(spec)]
    found: list[Path] = []
    for item in items:
        matches = sorted(glob.glob(item, recursive=True)) if glob.has_magic(item) else [item]
        if not matches:
            raise UserError(f"sessions={item!r} matches nothing; check the glob (quote it in the shell)")
        for match in matches:
            path = Path(match)
            if not path.exists():
                raise UserError(f"sessions={item!r}: {path} does not exist")
            found.extend(find_sessions(path))
    unique = sorted({p.resolve() for p in found})
    if not unique:
        raise UserError(f"sessions={spec!r}: no session folders (capture.mp4 / sync.csv / actions.bin) found")
    return unique


def part_name(session: Path) -> str:
    digest = hashlib.sha1(str(session.resolve()).encode()).hexdigest()[:8]
    return f"{session.name}-{digest}"


def _nominal_fps(session: Path) -> float | None:
    from grimjobs.session import SUMMARY
    from grimjobs.session.summary import read_summary

    try:
        value = read_summary(session / SUMMARY).get("nominal_fps")
    except (OSError, ValueError):
        return None
    return float(value) if isinstance(value, (int, float)) else None


def _check(cfg: DictConfig) -> None:
    for key, value, allowed in (
        ("format", cfg.format, FORMATS),
        ("mode", cfg.mode, MODES),
        ("video", cfg.video, VIDEO_MODES),
    ):
        if value not in allowed:
            raise ConfigError(f"{key}={value!r} is not allowed; use one of {', '.join(allowed)}")
    if not isinstance(cfg.horizon_ms, (int, float)) or cfg.horizon_ms < 0:
        raise ConfigError(f"horizon_ms={cfg.horizon_ms!r}: must be a number >= 0")
    if not (
        isinstance(cfg.shards, int)
        and cfg.shards >= 1
        and isinstance(cfg.shard, int)
        and 0 <= cfg.shard < cfg.shards
    ):
        raise ConfigError(
            f"shard={cfg.shard!r} shards={cfg.shards!r}: need shards >= 1 and 0 <= shard < shards"
        )


def resolve_profile(value: str) -> Path:
    """A profile path as given, else relative to conf/ (`profiles/manny_xbox.yaml`)."""
    from grimjobs.config_dir import config_dir

    path = Path(value).expanduser()
    if not path.exists() and not path.is_absolute() and (config_dir() / path).exists():
        return config_dir() / path
    return path


def load_definition(cfg: DictConfig) -> Any:
    """The game-actions definition of `game=` (export and map)."""
    from grimjobs.dataset.actions import load_game_actions
    from grimjobs.game import Game

    game = build(cfg.game, "game", Game)
    if game.actions_path is None:
        raise ConfigError(
            f"game={game.settings.name} has no action definition; pick game=manny or set game.actions"
        )
    return load_game_actions(game.actions_path)


def load_mapping(cfg: DictConfig) -> Any:
    """The compiled profile (None without `profile=`), validated against the game's definition."""
    if cfg.profile is None:
        return None
    from grimjobs.dataset.apply import CompiledMapping
    from grimjobs.dataset.profile import load_profile

    definition = load_definition(cfg)
    profile, warnings = load_profile(resolve_profile(str(cfg.profile)), definition)
    for warning in warnings:
        log.warning("%s: %s", cfg.profile, warning)
    return CompiledMapping.build(profile, definition)


def convert(cfg: DictConfig, sessions: Sequence[Path], out: Path, progress: Progress) -> list[dict[str, Any]]:
    """Convert sessions into parts; returns one record per session (exported or skipped, with why)."""
    from grimjobs.dataset.episode import build_episode
    from grimjobs.dataset.lerobot import write_part
    from grimjobs.session import CAPTURE

    mapping = load_mapping(cfg)
    validator = build(cfg.validation, "validation") if cfg.validate else None
    results: list[dict[str, Any]] = []
    for session in sessions:
        progress.start(session.name, 0)
        record: dict[str, Any] = {"session": str(session)}
        verdict = None
        if validator is not None:
            report = validator.check(session)
            verdict = report.verdict
            record["verdict"] = verdict
            if verdict == "FAIL" and not cfg.include_failed:
                reason = "validation FAIL: " + "; ".join(report.reasons[:3])
                log.warning("skipping %s: %s (include_failed=true exports it anyway)", session, reason)
                results.append(_skip(out, session, record, reason))
                progress.finish_session()
                continue
        try:
            episode = build_episode(session, mapping, float(cfg.horizon_ms))
        except UserError as exc:
            log.warning("skipping %s: %s", session, exc)
            results.append(_skip(out, session, record, str(exc)))
            progress.finish_session()
            continue
        (out / SKIPPED / f"{part_name(session)}.json").unlink(missing_ok=True)
        progress.start(session.name, episode.frames)
        meta = {"verdict": verdict, "nominal_fps": _nominal_fps(session), "horizon_ms": float(cfg.horizon_ms)}
        write_part(out / "parts" / part_name(session), episode, meta, str(cfg.video), session / CAPTURE)
        progress.advance(episode.frames)
        record.update({"part": part_name(session), "frames": episode.frames, "notes": episode.notes})
        results.append(record)
        progress.finish_session()
    return results


def _skip(out: Path, session: Path, record: dict[str, Any], reason: str) -> dict[str, Any]:
    """Remember why a session was left out, for the merge (which may run as another job)."""
    import json

    record["skipped"] = reason
    path = out / SKIPPED / f"{part_name(session)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    shutil.rmtree(out / "parts" / part_name(session), ignore_errors=True)
    return record


def merge(cfg: DictConfig, out: Path, progress: Progress) -> dict[str, Any]:
    import json

    from grimjobs.dataset.lerobot import PART_META, merge_lerobot, merge_npz, read_part

    skipped = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / SKIPPED).glob("*.json"))]

    parts_dir = out / "parts"
    found = (
        [d for d in parts_dir.iterdir() if (d / PART_META).exists() and not d.name.endswith(".tmp")]
        if parts_dir.is_dir()
        else []
    )
    if not found:
        raise UserError(f"{parts_dir}: no converted sessions to merge; run mode=part (or mode=all) first")
    # Each part's episode.json is read once (its stats make it large); episodes in session order.
    ordered = sorted(((d, read_part(d)) for d in found), key=lambda pair: str(pair[1]["session"]))
    part_dirs = [d for d, _ in ordered]
    parts = [part for _, part in ordered]
    total = sum(int(part["frames"]) for part in parts)
    progress.start("merge", total)
    extra = {
        "game": str(cfg.game.name),
        "profile": str(cfg.profile) if cfg.profile is not None else None,
        "horizon_ms": float(cfg.horizon_ms),
        "alignment": "last input snapshot at or before each frame's capture time (sync.csv monotonic_ns)",
        "skipped": skipped,
    }
    if cfg.format == "npz":
        info = merge_npz(part_dirs, parts, out, extra, progress.advance)
    else:
        info = merge_lerobot(part_dirs, parts, out, str(cfg.task), extra, progress.advance)
    return info


def _parts_present(out: Path, results: list[dict[str, Any]]) -> bool:
    from grimjobs.dataset.lerobot import PART_META

    return all("part" not in r or (out / "parts" / str(r["part"]) / PART_META).exists() for r in results)


@hydra_job("export")
def main(cfg: DictConfig) -> int:
    _check(cfg)
    out = Path(str(cfg.out))
    enabled = sys.stderr.isatty() if cfg.progress == "auto" else bool(cfg.progress)
    status = 0
    # Sharded (shards > 1): each job converts its shard; the multirun callback (or mode=merge) merges.
    sharded = cfg.shards > 1
    if cfg.mode in ("all", "part"):
        from grimjobs.multirun import ShardRun

        run = ShardRun.open("export", cfg, out, lambda: expand_sessions(cfg.sessions)) if sharded else None
        mine = run.sessions if run is not None else expand_sessions(cfg.sessions)
        earlier = run.finished() if run is not None else None
        if run is not None and earlier is not None and _parts_present(out, earlier["results"]):
            print(f"export: shard {cfg.shard}/{cfg.shards} already done, skipped", file=sys.stderr)
            return 0
        progress = Progress(enabled, len(mine))
        try:
            results = convert(cfg, mine, out, progress)
        finally:
            progress.close()
        if run is not None:
            run.finish({"results": results})
        skipped = [r for r in results if "skipped" in r]
        exported = len(results) - len(skipped)
        for record in skipped:
            print(f"skipped {record['session']}: {record['skipped']}", file=sys.stderr)
        print(f"export: {exported} session(s) converted, {len(skipped)} skipped", file=sys.stderr)
        if exported == 0 and (mine or cfg.mode == "all"):
            status = 1  # every session was skipped (an empty shard is fine)
    if (cfg.mode == "merge" or (cfg.mode == "all" and not sharded)) and status == 0:
        progress = Progress(enabled, 1)
        try:
            if cfg.mode == "merge":
                from grimjobs.multirun import merge_plan

                info = merge_plan(cfg, out, tidy=False)  # refuses a sharded run with shards missing
            else:
                info = merge(cfg, out, progress)
        finally:
            progress.close()
        frames = info.get("total_frames", sum(e["length"] for e in info.get("episodes", [])))
        episodes = info.get("total_episodes", len(info.get("episodes", [])))
        print(f"export: {out} ({cfg.format}): {episodes} episode(s), {frames} frames", file=sys.stderr)
        if cfg.mode == "all" and not cfg.keep_parts:
            shutil.rmtree(out / "parts", ignore_errors=True)
    return status

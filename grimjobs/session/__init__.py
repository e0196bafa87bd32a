"""The on-disk contract of a recording session: file names, formats, readers and writers.

Pure: these modules touch files only, never devices or sockets.
"""

from pathlib import Path

CAPTURE = "capture.mp4"
SYNC = "sync.csv"
ACTIONS = "actions.bin"
SUMMARY = "summary.json"
SESSION_FILES = (CAPTURE, SYNC, ACTIONS)


def is_session(path: Path) -> bool:
    """A folder is a session when it holds any of the recorder's artifacts."""
    return path.is_dir() and any((path / name).exists() for name in SESSION_FILES)


def find_sessions(path: Path) -> list[Path]:
    """`path` itself if it is a session, else every session folder below it, sorted."""
    if is_session(path):
        return [path]
    if not path.is_dir():
        return []
    found = {p.parent for name in SESSION_FILES for p in path.rglob(name)}
    return sorted(found)

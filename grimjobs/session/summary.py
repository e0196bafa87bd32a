"""summary.json: what a recording did, with the versions that did it."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from grimjobs import __version__

PACKAGES = (
    "av",
    "numpy",
    "hydra-core",
    "omegaconf",
    "pydantic",
    "protobuf",
    "mss",
    "pysdl2",
    "pysdl2-dll",
    "msgpack",
)


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_revision(where: Path | None = None) -> str | None:
    """The grimjobs checkout's commit (with `-dirty`), or None for an installed wheel."""
    where = where or Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def environment() -> dict[str, Any]:
    return {
        "grimjobs": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_revision": git_revision(),
        "packages": package_versions(),
    }


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """Write atomically: a crash never leaves a half-written summary.json."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_summary(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object")
    return data

"""Fixtures of the scale tests: tiny generated sessions, their one-process export and validation
(the references every launcher must reproduce), and a real local Ray head.

The launchers are optional extras (`grimjobs[ray]`, `grimjobs[slurm]`): outside CI a test whose
launcher is not installed skips naming the extra; in CI (CI=true) it fails instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI, run_grimjobs
from tests.scale.cluster import RayHead, local_ray_head

SESSIONS = 8
FRAMES = 30  # one second at 30 fps: the tests stay fast on 2 loaded cores


def require_launcher(module: str, extra: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        if IN_CI:
            raise AssertionError(f"{module} missing in CI: pip install -e '.[{extra}]' ({exc})") from exc
        pytest.skip(f"{module} not installed: pip install -e '.[{extra}]'")


@dataclass(frozen=True, slots=True)
class Corpus:
    sessions: Path  # a folder of SESSIONS session folders
    reference: Path  # `export sessions=<folder> out=<reference>` in one process
    verdicts_csv: str  # `validate path=<folder> format=csv` in one process


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    from tests.validation.fixtures import SessionSpec, write_session

    root = tmp_path_factory.mktemp("scale")
    sessions = root / "sessions"
    for i in range(SESSIONS):
        # Different seeds and capture jitter: every row of the dataset and the verdict table differs.
        write_session(sessions / f"s{i:02d}", SessionSpec(frames=FRAMES, seed=i, jitter_ms=2.0 * (i % 3)))
    reference = root / "reference"
    done = run_grimjobs(
        "export",
        f"sessions={sessions}",
        f"out={reference}",
        "progress=false",
        f"hydra.run.dir={root / 'run1'}",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    checked = run_grimjobs("validate", f"path={sessions}", "format=csv", f"hydra.run.dir={root / 'run2'}")
    assert checked.returncode in (0, 1), checked.stderr[-3000:]
    return Corpus(sessions, reference, checked.stdout.strip())


@pytest.fixture(scope="session")
def ray_head() -> Iterator[RayHead]:
    require_launcher("hydra_plugins.hydra_ray_launcher.ray_launcher", "ray")
    with local_ray_head(num_cpus=2) as head:
        yield head

"""A non-editable `pip install .`, run from another folder, finds its configs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_wheel_install_runs_from_another_folder(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import grimjobs, grimjobs.config_dir as c; print(grimjobs.__file__); print(c.config_dir())",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert str(venv) in where[0] and where[1].startswith(str(venv))  # the installed copy, not the checkout
    cfg = subprocess.run(
        [str(python), "-m", "grimjobs", "record", "--cfg", "job", "encoder=x264"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert cfg.returncode == 0, cfg.stderr[-2000:]
    assert "grimjobs.encoder.x264.X264Encoder" in cfg.stdout
    run = subprocess.run(
        [str(venv / "bin" / "grimjobs"), "record", "capture.duration=1", "input=none", "validate=false"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert list((elsewhere / "outputs").rglob("capture.mp4"))

"""A non-editable `pip install .`, run from another folder, finds its configs."""

from __future__ import annotations

import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_wheel_install_runs_from_another_folder(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    _see_running_dependencies(python)
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


def _see_running_dependencies(python: Path) -> None:
    """Let the new venv import the dependencies of the interpreter running the tests.

    `--system-site-packages` would give it the *base* interpreter's packages, which have none of
    the dependencies when the suite runs in a venv or a uv environment. A `.pth` file listing this
    interpreter's site folders works in all three (venv, uv, system). Lines of a `.pth` file are
    appended after the venv's own site-packages, and `.pth` files inside them are not processed, so
    the wheel installed below wins over an editable checkout installed here.
    """
    folders = [*site.getsitepackages(), site.getusersitepackages(), sysconfig.get_paths()["purelib"]]
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lines = [folder for folder in dict.fromkeys(folders) if Path(folder).is_dir()]
    (Path(target) / "_running_deps.pth").write_text("\n".join(lines) + "\n")

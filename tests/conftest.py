"""Shared fixtures: a real X server, the CI skip policy, and running grimjobs as a user would.

Policy (DEVELOPERS.md): outside CI a test that needs a missing tool (Xvfb, xdotool, ffprobe)
skips with a reason; with CI=true it fails instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """The path of an executable, or skip (locally) / fail (in CI) naming what to install."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: see .ci/run for the package)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def _free_display() -> int:
    for number in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise RuntimeError("no free X display number between :90 and :199")


class XServer:
    def __init__(self, display: str, process: subprocess.Popen[bytes], width: int, height: int) -> None:
        self.display = display
        self.process = process
        self.width = width
        self.height = height

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display}


def start_xvfb(width: int = 1920, height: int = 1080) -> XServer:
    xvfb = require_tool("Xvfb")
    for _attempt in range(5):
        number = _free_display()
        process = subprocess.Popen(
            [
                xvfb,
                f":{number}",
                "-screen",
                "0",
                f"{width}x{height}x24",
                "-nolisten",
                "tcp",
                "-ac",
                "-noreset",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        socket = Path(f"/tmp/.X11-unix/X{number}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None and not socket.exists():
            time.sleep(0.05)
        if process.poll() is None and socket.exists():
            return XServer(f":{number}", process, width, height)
        process.kill()
        process.wait()
    raise RuntimeError("Xvfb did not start")


@pytest.fixture(scope="session")
def xvfb() -> Iterator[XServer]:
    """A real X server for the whole test session; DISPLAY is set while it runs."""
    server = start_xvfb()
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = server.display
    try:
        yield server
    finally:
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous
        server.process.terminate()
        try:
            server.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.process.kill()


def run_grimjobs(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`python -m grimjobs <args>` in a subprocess, as a user would type it."""
    return subprocess.run(
        [sys.executable, "-m", "grimjobs", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ffprobe_frames(video: Path) -> int:
    """Frames in the first video stream as ffprobe counts them by decoding (an independent check)."""
    ffprobe = require_tool("ffprobe")
    out = subprocess.run(
        [
            ffprobe,
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
            str(video),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip().rstrip(","))  # some ffprobe builds end csv rows with a comma

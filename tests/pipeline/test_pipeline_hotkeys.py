"""Global hotkeys on a real X server (Xvfb, keys sent through XTEST by xdotool): pause/resume is a
gap with cause "paused", stop ends the recording; combinations are parsed by key name."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grimjobs.pipeline.hotkeys import HotkeySettings, parse_combo
from grimjobs.session.sync import read_sync
from tests.conftest import ROOT, XServer, require_tool


def test_combinations_parse_by_name_and_refuse_unknown_keys() -> None:
    assert parse_combo("ctrl+alt+p") == (frozenset({224, 228}), frozenset({226, 230}), frozenset({19}))
    assert parse_combo("F9") == (frozenset({66}),)
    for bad in ("ctrl+", "ctrl+nokey", "", "+p"):
        with pytest.raises(ValueError):
            parse_combo(bad)
    assert HotkeySettings.model_validate({}).bindings() == {}


def test_hotkeys_pause_resume_and_end_a_recording(tmp_path: Path, xvfb: XServer) -> None:
    xdotool = require_tool("xdotool")
    run = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "grimjobs", "record", "capture.duration=120", "capture.width=320",
         "capture.height=240", "input=none", "hotkeys.pause=ctrl+alt+p", "hotkeys.stop=ctrl+alt+e",
         "validate=false", f"hydra.run.dir={run}"],
        cwd=ROOT, env=xvfb.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    sync = run / "sync.csv"

    def rows() -> int:
        return sync.read_text().count("\n") if sync.exists() else 0

    def wait_rows(n: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and rows() < n and process.poll() is None:
            time.sleep(0.05)

    def key(combo: str) -> None:
        subprocess.run([xdotool, "key", combo], env=xvfb.env(), check=True)

    try:
        wait_rows(20)
        key("ctrl+alt+p")
        time.sleep(1.0)
        key("ctrl+alt+p")
        wait_rows(rows() + 20)
        key("ctrl+alt+e")
        _stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr[-2000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["end_reason"] == "hotkey"
    assert summary["hotkeys"] == {"pause": 2, "stop": 1}
    loop = summary["capture"]["loop"]
    paused = [g for g in loop["gaps"] if g["cause"] == "paused"]
    assert paused and sum(g["slots"] for g in paused) > 0  # late drops may split the span
    assert loop["captured"] + summary["dropped"] + loop["gap_slots"] == loop["slots"]
    assert summary["frames"] == len(read_sync(sync))

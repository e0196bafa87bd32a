"""rerun uses the saved config even when conf/ changed since the run (lists and dicts included)."""

from __future__ import annotations

from pathlib import Path

import yaml  # type: ignore[import-untyped]  # PyYAML comes with Hydra; its stubs are not a dependency

from tests.conftest import run_grimjobs


def test_rerun_pins_values_that_differ_from_the_saved_config(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_grimjobs("record", "capture.max_frames=2", "validate=false", f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stderr[-2000:]
    # Stand-in for "conf/ changed since": the saved config now differs from today's composition.
    saved_path = run / ".hydra" / "config.yaml"
    saved = yaml.safe_load(saved_path.read_text())
    saved["capture"]["fps"] = 12.5
    saved["input"]["timeline"][0] = {"t": 0.31, "press": "b"}
    saved["game"]["window_title"] = 'Manny\'s "office"'
    saved_path.write_text(yaml.safe_dump(saved))

    again = run_grimjobs("rerun", str(run), "--cfg", "job")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "pinning the saved values" in again.stderr
    rerun_cfg = yaml.safe_load(again.stdout)
    assert rerun_cfg["capture"]["fps"] == 12.5
    assert rerun_cfg["input"]["timeline"][0] == {"t": 0.31, "press": "b"}
    assert rerun_cfg["input"]["timeline"][1:] == saved["input"]["timeline"][1:]
    assert rerun_cfg["game"]["window_title"] == 'Manny\'s "office"'
    assert rerun_cfg == saved

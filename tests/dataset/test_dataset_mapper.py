"""The `map` job end to end: a real terminal (tmux), real curses, an SDL virtual controller
attached inside the mapper (pad=virtual:<script>) whose moves go through SDL's event path."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from grimjobs.dataset.workflow import MapperState, Observer
from tests.conftest import ROOT, require_tool


def test_observer_candidates() -> None:
    digital = Observer("digital", {"lefty": 0.5, "triggerleft": 0.5})
    digital.update([0.0] * 6, {9})
    digital.update([0.0, -0.8, 0, 0, 0, 0], {9, 0})
    digital.update([0.0] * 6, {0})  # releasing one member keeps the combo
    assert digital.candidate is not None and digital.candidate.combo == ["leftshoulder", "a", "lefty-"]
    digital.update([0.0] * 6, set())
    digital.update([0.0] * 6, {1})  # a new press after a full release starts a new set
    assert digital.candidate is not None and digital.candidate.button == "b"
    trigger = Observer("trigger", {})
    trigger.update([0, 0, 0, 0, 0, 0.7], set())
    assert trigger.candidate is not None and (trigger.candidate.trigger, trigger.candidate.threshold) == (
        "triggerright",
        0.35,
    )
    analog = Observer("analog", {})
    analog.update([0, 0, 0, -0.9, 0, 0], set())
    assert analog.candidate is not None and (analog.candidate.axis, analog.candidate.invert) == (
        "righty",
        True,
    )


class Terminal:
    def __init__(self, socket: str) -> None:
        self.tmux = [require_tool("tmux"), "-L", socket]

    def run(self, *args: str) -> str:
        return subprocess.run([*self.tmux, *args], capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", *keys)


def test_mapper_end_to_end_through_a_terminal_and_a_virtual_pad(tmp_path: Path) -> None:
    script = tmp_path / "pad.txt"
    script.write_text("")
    out = tmp_path / "profile.yaml"
    command = " ".join(shlex.quote(a) for a in [
        sys.executable, "-m", "grimjobs", "map", "game=manny", "profile=profiles/manny_xbox.yaml",
        f"pad=virtual:{script}", f"out={out}", f"hydra.run.dir={tmp_path / 'run'}",
    ])  # fmt: skip
    term = Terminal(f"grimjobs-map-{tmp_path.name}")
    term.run(
        "new-session", "-d", "-x", "150", "-y", "45", "-c", str(ROOT), f"{command}; echo EXIT=$?; sleep 60"
    )

    def pad(*lines: str) -> None:
        with open(script, "a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))

    try:
        screen = term.wait_for("Choose action classes")
        assert "[x] movement" in screen and "[ ] tank" in screen  # preloaded from the profile
        term.wait_for("pad: grimjobs map virtual pad")
        term.keys("Down", "Space", "Enter")  # add the tank class, start mapping
        term.wait_for("ACTION 1/")
        term.keys("BSpace")  # clear walk's preloaded left stick, then bind the right stick
        pad("axis rightx 0.9", "axis rightx 0")
        term.wait_for("observed: right stick")
        term.keys("Space")
        term.wait_for("bound:    right stick")
        term.keys("Right")  # run: a trigger press derives the threshold
        term.wait_for("ACTION 2/")
        term.keys("BSpace")
        pad("axis triggerleft 0.8", "axis triggerleft 0")
        term.wait_for("observed: triggerleft>=0.4")
        term.keys("Space", "Right")  # tank_turn: an axis, inverted when pushed negative
        term.wait_for("ACTION 3/")
        pad("axis leftx -1.0", "axis leftx 0")
        term.wait_for("observed: -leftx")
        term.keys("Space", "Right", "Right")  # leave tank_forward unbound -> a review warning
        term.wait_for("ACTION 5/")  # examine: a combo of a button and a stick direction
        term.keys("BSpace")
        pad("press leftshoulder", "axis lefty -0.9", "release leftshoulder", "axis lefty 0")
        term.wait_for("observed: leftshoulder+lefty-")
        term.keys("Space", "Enter")
        screen = term.wait_for("REVIEW")
        assert "warning: action 'tank_forward': has no binding" in screen
        term.keys("s")
        term.wait_for("EXIT=0")
    finally:
        subprocess.run([*term.tmux, "kill-server"], capture_output=True, check=False)

    saved = yaml.safe_load(out.read_text())
    assert saved["class_ids"] == ["movement", "tank", "interaction", "inventory", "dialogue", "system"]
    assert saved["bindings"]["walk"] == [{"stick": "right"}]
    assert saved["bindings"]["run"] == [{"trigger": "triggerleft", "threshold": 0.4}]
    assert saved["bindings"]["tank_turn"] == [{"axis": "leftx", "invert": True}]
    assert "tank_forward" not in saved["bindings"]
    assert saved["bindings"]["examine"] == [{"combo": ["leftshoulder", "lefty-"]}]
    assert saved["bindings"]["use"] == [{"button": "a"}]  # untouched preloaded binding


def test_map_needs_a_terminal(tmp_path: Path) -> None:
    from tests.conftest import run_grimjobs

    result = run_grimjobs("map", f"out={tmp_path / 'p.yaml'}", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2 and "needs a terminal" in result.stderr


def test_workflow_needs_a_class_and_refuses_to_save_errors() -> None:
    from grimjobs.config_dir import config_dir
    from grimjobs.dataset.actions import load_game_actions
    from grimjobs.dataset.profile import Binding

    state = MapperState.start(load_game_actions(config_dir() / "game" / "actions" / "manny.yaml"))
    state.on_key("enter")
    assert state.screen == "classes" and "select at least one class" in state.message
    state.on_key("space")  # movement
    state.on_key("enter")
    state.bindings["walk"] = [Binding(button="a")]  # a vector2 action cannot use a button
    state.on_key("enter")
    assert str(state.screen) == "review"
    state.on_key("s")
    assert str(state.screen) == "review"
    assert state.message.startswith("cannot save: error: action 'walk'"), state.message
    state.bindings["walk"] = [Binding(stick="left")]
    state.on_key("s")
    assert str(state.screen) == "saved"
    assert state.profile().bindings == {"walk": [Binding(stick="left")]}


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

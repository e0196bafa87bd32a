"""Game-actions definitions and mapping profiles: validation messages and vectorized application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml  # type: ignore[import-untyped]

from grimjobs.config_dir import config_dir
from grimjobs.dataset.actions import load_game_actions, parse_game_actions
from grimjobs.dataset.apply import CompiledMapping, RawInputs
from grimjobs.dataset.controls import AXES, BUTTONS
from grimjobs.dataset.profile import (
    check_profile,
    load_profile,
    parse_profile,
    save_profile,
    validate_profile,
)
from grimjobs.errors import UserError
from grimjobs.game import Game, GameSettings
from grimjobs.session.actions import InputSnapshot

MANNY = config_dir() / "game" / "actions" / "manny.yaml"
EXAMPLE = config_dir() / "profiles" / "manny_xbox.yaml"


@pytest.fixture(scope="module")
def game() -> Any:
    return load_game_actions(MANNY)


def test_manny_definition_is_where_the_game_config_points() -> None:
    path = Game(GameSettings(name="manny", actions="actions/manny.yaml")).actions_path
    assert path == MANNY
    definition = load_game_actions(MANNY)
    types = {a.type for a in definition.all_actions()}
    assert types == {"digital", "analog", "vector2", "trigger"}
    ids = {a.id for a in definition.all_actions()}
    assert {"walk", "run", "examine", "pick_up", "use", "inventory", "menu", "skip_dialogue"} <= ids


def test_example_profile_is_valid(game: Any) -> None:
    profile, warnings = load_profile(EXAMPLE, game)  # errors raise; the example has no warnings either
    assert warnings == []
    assert profile.bindings["walk"][0].stick == "left"


def _profile(**bindings: Any) -> dict[str, Any]:
    return {"game": "manny", "class_ids": ["movement", "interaction", "tank"], "bindings": bindings}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (_profile(examine=[{"button": "q"}]), "action 'examine': bindings[0].button='q': unknown button"),
        (
            _profile(run=[{"trigger": "triggerright", "threshold": 1.5}]),
            "action 'run': bindings[0].threshold=1.5",
        ),
        (
            _profile(use=[{"button": "a", "axis": "leftx"}]),
            "action 'use': bindings[0]: a binding needs exactly one",
        ),
        (_profile(use=[{"combo": ["a", "leftx"]}]), "action 'use': bindings[0].combo"),
        (_profile(use=[{"butten": "a"}]), "action 'use': bindings[0].butten is not a known field"),
        ({"game": "manny", "bindings": {}}, "class_ids is required"),
        ({**_profile(), "axis_thresholds": {"leftz": 0.5}}, "axis_thresholds"),
    ],
)
def test_profile_structure_errors_name_file_action_and_field(raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(UserError) as info:
        parse_profile(raw, "my.yaml")
    message = str(info.value)
    assert message.startswith("my.yaml: ") and expected in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("bindings", "expected"),
    [
        (
            {"walk": [{"button": "a"}]},
            "action 'walk': bindings[0].button: a vector2 action cannot use a button",
        ),
        ({"tank_turn": [{"stick": "left"}]}, "action 'tank_turn': bindings[0].stick: a analog action cannot"),
        ({"fly": [{"button": "a"}]}, "action 'fly': is not defined by the game"),
        ({"menu": [{"button": "start"}]}, "action 'menu': its class 'system' is not in class_ids"),
    ],
)
def test_profile_semantic_errors(game: Any, bindings: dict[str, Any], expected: str) -> None:
    profile = parse_profile(_profile(**bindings), "p.yaml")
    with pytest.raises(UserError) as info:
        validate_profile(profile, game, "p.yaml")
    assert str(info.value).startswith("p.yaml: " + expected), str(info.value)


def test_warnings_for_unbound_and_shared_controls(game: Any) -> None:
    profile = parse_profile(_profile(examine=[{"button": "a"}], use=[{"button": "a"}]), "p.yaml")
    issues = check_profile(profile, game)
    assert all(i.level == "warning" for i in issues)
    text = [str(i) for i in issues]
    assert "warning: action 'walk': has no binding; it will always be 0" in text
    assert any("a is also bound to use" in t for t in text)


def test_unknown_class_and_definition_errors(tmp_path: Path, game: Any) -> None:
    profile = parse_profile({"game": "manny", "class_ids": ["flying"]}, "p.yaml")
    with pytest.raises(UserError, match="class_ids: unknown class 'flying'"):
        validate_profile(profile, game, "p.yaml")
    bad = {"game": "g", "classes": [{"id": "c", "actions": [{"id": "jump", "type": "button"}]}]}
    with pytest.raises(UserError, match=r"^defs.yaml: action 'jump': type='button'"):
        parse_game_actions(bad, "defs.yaml")
    twice = {
        "game": "g",
        "classes": [{"id": "c", "actions": [{"id": "a", "type": "digital"}, {"id": "a", "type": "digital"}]}],
    }
    with pytest.raises(UserError, match="action 'a' is defined in classes"):
        parse_game_actions(twice, "defs.yaml")
    missing = tmp_path / "nope.yaml"
    with pytest.raises(UserError, match=r"nope\.yaml: game-actions file not found"):
        load_game_actions(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("game: [\n")
    with pytest.raises(UserError, match=r"broken.yaml:\d+: not valid YAML"):
        load_game_actions(broken)


def test_save_and_reload_round_trip(tmp_path: Path, game: Any) -> None:
    profile, _ = load_profile(EXAMPLE, game)
    path = tmp_path / "out.yaml"
    save_profile(profile, path, header="test")
    again, _ = load_profile(path, game)
    assert again == profile
    assert yaml.safe_load(path.read_text())["bindings"]["run"] == [
        {"trigger": "triggerright", "threshold": 0.4}
    ]


def test_trigger_aliases_are_accepted(game: Any) -> None:
    profile = parse_profile(
        _profile(run=[{"trigger": "righttrigger"}], use=[{"combo": ["a", "lefttrigger"]}]), "p"
    )
    assert profile.bindings["run"][0].trigger == "triggerright"
    assert profile.bindings["use"][0].combo == ["a", "triggerleft"]


def _raw(rows: list[tuple[dict[str, float], list[str]]]) -> RawInputs:
    snapshots = []
    for number, (axes, buttons) in enumerate(rows):
        values = [0.0] * 6
        for name, value in axes.items():
            values[AXES[name]] = value
        snapshots.append(InputSnapshot(number, axes=values, pressed_buttons=[BUTTONS[b] for b in buttons]))
    return RawInputs.from_snapshots(snapshots)


def test_apply_every_binding_kind(game: Any) -> None:
    profile = parse_profile(
        {
            "game": "manny",
            "class_ids": ["movement", "tank", "interaction", "dialogue"],
            "axis_thresholds": {"lefty": 0.6, "triggerleft": 0.3},
            "bindings": {
                "walk": [{"stick": "left"}, {"stick": "right"}],
                "run": [{"trigger": "triggerright", "threshold": 0.4}, {"button": "b"}],
                "tank_turn": [{"axis": "rightx", "invert": True}],
                "tank_forward": [{"axis": "lefty"}],
                "examine": [{"button": "x"}],
                "use": [{"combo": ["a", "triggerleft"]}],
                "choice_up": [{"combo": ["lefty-"]}],
                "skip_dialogue": [{"trigger": "triggerleft"}],
            },
        },
        "p",
    )
    validate_profile(profile, game, "p")
    mapping = CompiledMapping.build(profile, game)
    assert mapping.names[:3] == ("walk.x", "walk.y", "run")
    raw = _raw([
        ({}, []),
        ({"leftx": 0.2, "lefty": -0.7, "rightx": 0.9, "triggerright": 0.4}, ["x"]),
        ({"triggerright": 0.39, "triggerleft": 0.35}, ["a", "b"]),
        ({"lefty": -0.5, "triggerleft": 0.29}, ["a"]),
    ])  # fmt: skip
    out = mapping.apply(raw.axes, raw.buttons)
    col = {name: out[:, i] for i, name in enumerate(mapping.names)}
    np.testing.assert_allclose(col["walk.x"], [0, 0.9, 0, 0], atol=1e-6)  # right stick is longer in row 1
    np.testing.assert_allclose(col["walk.y"], [0, 0, 0, -0.5], atol=1e-6)
    assert col["run"].tolist() == [0, 1, 1, 0]  # 0.4 >= 0.4; row 2 by button b
    np.testing.assert_allclose(col["tank_turn"], [0, -0.9, 0, 0], atol=1e-6)
    np.testing.assert_allclose(col["tank_forward"], [0, -0.7, 0, -0.5], atol=1e-6)
    assert col["examine"].tolist() == [0, 1, 0, 0]
    assert col["use"].tolist() == [0, 0, 1, 0]  # triggerleft 0.29 < 0.3 in row 3
    assert col["choice_up"].tolist() == [0, 1, 0, 0]  # -0.5 does not reach the 0.6 threshold
    assert col["skip_dialogue"].tolist() == [0, 0, 1, 0]  # profile threshold 0.3 for triggerleft
    assert col["pick_up"].tolist() == [0, 0, 0, 0]  # unbound


def test_raw_inputs_scatter_ids_sort_by_time_and_count_what_does_not_fit() -> None:
    raw = RawInputs.from_snapshots([
        InputSnapshot(50, axes=[0.25] * 8, pressed_buttons=[3, 25], pressed_keys=[600, 5],
                      pressed_mouse_buttons=[0, 1, 5, 6], mouse=(-3, 4), reason=2),
        InputSnapshot(10, pressed_buttons=[20]),  # written out of order: sorted before alignment
    ])  # fmt: skip
    assert raw.t_ns.tolist() == [10, 50]
    assert np.flatnonzero(raw.buttons[0]).tolist() == [20] and np.flatnonzero(raw.buttons[1]).tolist() == [3]
    assert np.flatnonzero(raw.keys[1]).tolist() == [5]
    assert np.flatnonzero(raw.mouse_buttons[1]).tolist() == [0, 4]  # SDL buttons 1 and 5
    assert raw.axes[1].tolist() == [0.25] * 6 and raw.axes[0].tolist() == [0.0] * 6
    assert np.isnan(raw.mouse_xy[0]).all() and raw.mouse_xy[1].tolist() == [-3.0, 4.0]
    assert raw.reason.tolist() == [0, 2]
    assert raw.dropped == 2 + 1 + 1 + 2  # axes 7-8, button 25, key 600, mouse buttons 0 and 6

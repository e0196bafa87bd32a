"""`game-actions` definitions: what a player can do in a game, grouped into classes.

A definition is YAML (conf/game/actions/<game>.yaml):

    game: manny
    title: Grim Fandango Remastered
    classes:
      - id: movement
        name: Movement
        actions:
          - {id: walk, type: vector2, description: walk in the direction of the stick}
          - {id: run, type: trigger, threshold: 0.5}

Action ids are unique across the whole definition (profiles and dataset columns name actions by
id). Types: `digital` (on/off), `analog` (one axis, -1..1 or 0..1), `vector2` (a whole stick: x, y),
`trigger` (an analog control read as pressed at or above `threshold`).
Pure: files only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grimjobs.errors import UserError

ActionType = Literal["digital", "analog", "vector2", "trigger"]
ACTION_TYPES: tuple[str, ...] = ("digital", "analog", "vector2", "trigger")
ID_PATTERN = r"^[a-z][a-z0-9_]*$"
DEFAULT_TRIGGER_THRESHOLD = 0.5


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionDef(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    type: ActionType
    description: str = ""
    # Only for `trigger` actions: the default press threshold in [0, 1] (a profile may override it).
    threshold: float | None = Field(default=None, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _threshold_only_for_triggers(self) -> ActionDef:
        if self.threshold is not None and self.type != "trigger":
            raise ValueError("threshold is only allowed for type trigger")
        return self

    @property
    def label(self) -> str:
        return self.name or self.id.replace("_", " ")

    @property
    def trigger_threshold(self) -> float:
        return self.threshold if self.threshold is not None else DEFAULT_TRIGGER_THRESHOLD

    @property
    def columns(self) -> tuple[str, ...]:
        """The dataset columns this action produces: a vector2 has two (x, y)."""
        return (f"{self.id}.x", f"{self.id}.y") if self.type == "vector2" else (self.id,)


class ActionClass(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    description: str = ""
    actions: list[ActionDef] = Field(min_length=1)

    @property
    def label(self) -> str:
        return self.name or self.id.replace("_", " ")


class GameActions(_Model):
    game: str
    title: str = ""
    classes: list[ActionClass] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> GameActions:
        seen_classes: set[str] = set()
        seen_actions: dict[str, str] = {}
        for cls in self.classes:
            if cls.id in seen_classes:
                raise ValueError(f"class id {cls.id!r} is defined twice")
            seen_classes.add(cls.id)
            for action in cls.actions:
                if action.id in seen_actions:
                    raise ValueError(
                        f"action {action.id!r} is defined in classes {seen_actions[action.id]!r} and "
                        f"{cls.id!r}; action ids must be unique"
                    )
                seen_actions[action.id] = cls.id
        return self

    def class_by_id(self, class_id: str) -> ActionClass | None:
        return next((c for c in self.classes if c.id == class_id), None)

    def action(self, action_id: str) -> ActionDef | None:
        return next((a for a in self.all_actions() if a.id == action_id), None)

    def all_actions(self) -> Iterator[ActionDef]:
        for cls in self.classes:
            yield from cls.actions

    def actions_of(self, class_ids: Sequence[str]) -> list[ActionDef]:
        """The actions of the selected classes, in definition order."""
        wanted = set(class_ids)
        return [a for c in self.classes if c.id in wanted for a in c.actions]

    def class_of(self, action_id: str) -> str | None:
        return next((c.id for c in self.classes for a in c.actions if a.id == action_id), None)


def read_yaml(path: Path, what: str) -> Any:
    import yaml  # type: ignore[import-untyped]

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: {what} file not found; check the path") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read {what}: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{path}{where}: not valid YAML: {problem}") from None


def _walk(raw: Any, loc: Sequence[int | str]) -> Any:
    node = raw
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def describe_location(raw: Any, loc: Sequence[int | str]) -> str:
    """`action 'run': type` / `class 'movement': actions` / `classes[2].id` from a pydantic loc."""
    parts = list(loc)
    # classes.<i>.actions.<j>.<field...>
    if len(parts) >= 4 and parts[0] == "classes" and parts[2] == "actions":
        action = _walk(raw, parts[:4])
        action_id = action.get("id") if isinstance(action, Mapping) else None
        field = ".".join(str(p) for p in parts[4:]) or "(action)"
        name = f"action {action_id!r}" if action_id else f"classes[{parts[1]}].actions[{parts[3]}]"
        return f"{name}: {field}"
    if len(parts) >= 2 and parts[0] == "classes":
        cls = _walk(raw, parts[:2])
        class_id = cls.get("id") if isinstance(cls, Mapping) else None
        field = ".".join(str(p) for p in parts[2:]) or "(class)"
        name = f"class {class_id!r}" if class_id else f"classes[{parts[1]}]"
        return f"{name}: {field}"
    return ".".join(str(p) for p in parts) or "(top level)"


def first_error(exc: ValidationError, raw: Any, describe: Any = describe_location) -> str:
    first = exc.errors()[0]
    where = describe(raw, first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        return f"{where} is required but missing"
    if first["type"] in ("extra_forbidden",):
        return f"{where} is not a known field; remove it"
    shown = first.get("input")
    if isinstance(shown, (str, int, float)):
        return f"{where}={shown!r}: {message}"
    return f"{where}: {message}"


def parse_game_actions(raw: Any, source: str) -> GameActions:
    if not isinstance(raw, Mapping):
        raise UserError(f"{source}: a game-actions file must be a mapping with game and classes")
    try:
        return GameActions.model_validate(raw)
    except ValidationError as exc:
        raise UserError(f"{source}: {first_error(exc, raw)}") from None


def load_game_actions(path: Path) -> GameActions:
    """Read and validate a game-actions YAML; a mistake raises UserError naming file, action, field."""
    return parse_game_actions(read_yaml(path, "game-actions"), str(path))

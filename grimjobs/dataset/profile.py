"""`action-mapping` profiles: which pad controls perform which game actions.

    game: manny
    class_ids: [movement, interaction]
    axis_thresholds: {leftx: 0.5, lefty: 0.5, triggerleft: 0.3}   # axis-as-button gates (combos)
    bindings:
      walk: [{stick: left}]
      tank_turn: [{axis: leftx}]
      tank_forward: [{axis: lefty, invert: true}]
      run: [{trigger: triggerright, threshold: 0.4}]
      examine: [{button: x}]
      skip_dialogue: [{button: back}, {combo: [leftshoulder, rightshoulder]}]
      walk_up: [{combo: [lefty-]}]

A binding is exactly one of: `button`, `axis` (+ `invert`), `stick` (left | right),
`trigger` (+ `threshold`), `combo` (buttons and axis-as-button members held together; stick
directions `leftx+`/`lefty-`/... and triggers count as held at or beyond the top-level
`axis_thresholds` of their axis). Several bindings of one action are alternatives.
Pure: files only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grimjobs.dataset.actions import ActionDef, GameActions, first_error, read_yaml
from grimjobs.dataset.controls import (
    AXES,
    AXIS_NAMES,
    BUTTON_NAMES,
    BUTTONS,
    TRIGGERS,
    axis_member,
    canonical_axis,
)
from grimjobs.errors import UserError

DEFAULT_AXIS_THRESHOLD = 0.5
BINDING_KINDS = ("button", "axis", "stick", "trigger", "combo")
# Which binding kinds can drive which action types.
ALLOWED_KINDS: dict[str, tuple[str, ...]] = {
    "digital": ("button", "combo", "trigger"),
    "trigger": ("trigger", "button", "combo"),
    "analog": ("axis",),
    "vector2": ("stick",),
}


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    button: str | None = None
    axis: str | None = None
    invert: bool = False
    stick: Literal["left", "right"] | None = None
    trigger: str | None = None
    threshold: float | None = Field(default=None, gt=0.0, le=1.0)
    combo: list[str] | None = Field(default=None, min_length=1)

    @field_validator("button")
    @classmethod
    def _known_button(cls, value: str | None) -> str | None:
        if value is not None and value not in BUTTONS:
            raise ValueError(f"unknown button; use one of {', '.join(BUTTON_NAMES)}")
        return value

    @field_validator("axis")
    @classmethod
    def _known_axis(cls, value: str | None) -> str | None:
        value = canonical_axis(value) if value is not None else None
        if value is not None and value not in AXES:
            raise ValueError(f"unknown axis; use one of {', '.join(AXIS_NAMES)}")
        return value

    @field_validator("trigger")
    @classmethod
    def _known_trigger(cls, value: str | None) -> str | None:
        value = canonical_axis(value) if value is not None else None
        if value is not None and value not in TRIGGERS:
            raise ValueError(f"unknown trigger; use one of {', '.join(TRIGGERS)}")
        return value

    @field_validator("combo")
    @classmethod
    def _known_members(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        value = [canonical_axis(member) for member in value]
        for member in value:
            if member not in BUTTONS:
                axis_member(member)  # raises ValueError naming the allowed forms
        if len(set(value)) != len(value):
            raise ValueError("a combo lists a control twice")
        return value

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Binding:
        kinds = [k for k in BINDING_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            found = ", ".join(kinds) if kinds else "none"
            raise ValueError(f"a binding needs exactly one of {', '.join(BINDING_KINDS)} (found {found})")
        if self.invert and self.axis is None:
            raise ValueError("invert is only allowed with axis")
        if self.threshold is not None and self.trigger is None:
            raise ValueError("threshold is only allowed with trigger (combos use axis_thresholds)")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in BINDING_KINDS if getattr(self, k) is not None)

    def controls(self) -> frozenset[str]:
        """The physical controls this binding reads (for conflict warnings)."""
        if self.button is not None:
            return frozenset({self.button})
        if self.axis is not None:
            return frozenset({self.axis})
        if self.stick is not None:
            return frozenset({f"{self.stick}stick"})
        if self.trigger is not None:
            return frozenset({self.trigger})
        return frozenset(self.combo or ())

    def describe(self) -> str:
        if self.button is not None:
            return self.button
        if self.axis is not None:
            return f"{'-' if self.invert else ''}{self.axis}"
        if self.stick is not None:
            return f"{self.stick} stick"
        if self.trigger is not None:
            return f"{self.trigger}>={self.threshold}" if self.threshold is not None else self.trigger
        return "+".join(self.combo or ())

    def as_yaml(self) -> dict[str, Any]:
        return self.model_dump(exclude_defaults=True)


def _default_thresholds() -> dict[str, float]:
    return {name: DEFAULT_AXIS_THRESHOLD for name in AXIS_NAMES}


class MappingProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    game: str
    class_ids: list[str] = Field(min_length=1)
    axis_thresholds: dict[str, float] = Field(default_factory=_default_thresholds)
    bindings: dict[str, list[Binding]] = Field(default_factory=dict)

    @field_validator("axis_thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        value = {canonical_axis(name): threshold for name, threshold in value.items()}
        for name, threshold in value.items():
            if name not in AXES:
                raise ValueError(f"unknown axis {name!r}; use one of {', '.join(AXIS_NAMES)}")
            if not 0.0 < threshold <= 1.0:
                raise ValueError(f"{name}={threshold}: a threshold must be in (0, 1]")
        return {**_default_thresholds(), **value}

    @field_validator("bindings", mode="before")
    @classmethod
    def _single_binding_shorthand(cls, value: Any) -> Any:
        # `run: {button: a}` is shorthand for `run: [{button: a}]`; `run: null` means unbound.
        if isinstance(value, Mapping):
            return {k: ([] if v is None else [v] if isinstance(v, Mapping) else v) for k, v in value.items()}
        return value

    def as_yaml(self) -> dict[str, Any]:
        return {
            "game": self.game,
            "class_ids": list(self.class_ids),
            "axis_thresholds": dict(self.axis_thresholds),
            "bindings": {k: [b.as_yaml() for b in v] for k, v in self.bindings.items()},
        }


@dataclass(frozen=True, slots=True)
class Issue:
    level: Literal["error", "warning"]
    where: str  # "action 'run': bindings[0]" or "class_ids"
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


def _describe_profile_location(raw: Any, loc: Sequence[int | str]) -> str:
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "bindings":
        rest = parts[2:]
        field = "bindings"
        if rest:
            field += f"[{rest[0]}]" if isinstance(rest[0], int) else f".{rest[0]}"
            if len(rest) > 1:
                field += "." + ".".join(str(p) for p in rest[1:])
        return f"action {parts[1]!r}: {field}"
    return ".".join(str(p) for p in parts) or "(top level)"


def parse_profile(raw: Any, source: str) -> MappingProfile:
    if not isinstance(raw, Mapping):
        raise UserError(
            f"{source}: an action-mapping profile must be a mapping with game, class_ids, bindings"
        )
    try:
        return MappingProfile.model_validate(raw)
    except ValidationError as exc:
        raise UserError(f"{source}: {first_error(exc, raw, _describe_profile_location)}") from None


def check_profile(profile: MappingProfile, game: GameActions) -> list[Issue]:
    """Errors (the profile cannot be used) and warnings (it can, but probably not as meant)."""
    issues: list[Issue] = []
    if profile.game != game.game:
        issues.append(
            Issue("error", "game", f"{profile.game!r} does not match the definition's {game.game!r}")
        )
    for class_id in profile.class_ids:
        if game.class_by_id(class_id) is None:
            known = ", ".join(c.id for c in game.classes)
            issues.append(Issue("error", "class_ids", f"unknown class {class_id!r}; use one of {known}"))
    selected = {a.id for a in game.actions_of(profile.class_ids)}
    for action_id, bindings in profile.bindings.items():
        action = game.action(action_id)
        where = f"action {action_id!r}"
        if action is None:
            issues.append(
                Issue("error", where, "is not defined by the game; remove the binding or fix the id")
            )
            continue
        if action_id not in selected:
            issues.append(
                Issue(
                    "error",
                    where,
                    f"its class {game.class_of(action_id)!r} is not in class_ids; "
                    "add the class or remove the binding",
                )
            )
        for number, binding in enumerate(bindings):
            allowed = ALLOWED_KINDS[action.type]
            if binding.kind not in allowed:
                issues.append(
                    Issue(
                        "error",
                        f"{where}: bindings[{number}].{binding.kind}",
                        f"a {action.type} action cannot use a {binding.kind} binding; "
                        f"use {' or '.join(allowed)}",
                    )
                )
    # Warnings: unbound actions and controls shared between actions.
    for action in game.actions_of(profile.class_ids):
        if not profile.bindings.get(action.id):
            issues.append(Issue("warning", f"action {action.id!r}", "has no binding; it will always be 0"))
    users: dict[frozenset[str], list[str]] = {}
    for action_id, bindings in profile.bindings.items():
        for binding in bindings:
            users.setdefault(binding.controls(), []).append(action_id)
    for controls, action_ids in users.items():
        if len(set(action_ids)) > 1:
            issues.append(
                Issue(
                    "warning",
                    f"action {action_ids[0]!r}",
                    f"{'+'.join(sorted(controls))} is also bound to {', '.join(sorted(set(action_ids[1:])))}",
                )
            )
    return issues


def validate_profile(profile: MappingProfile, game: GameActions, source: str) -> list[Issue]:
    """Raise UserError (file, action, field) on the first error; return the warnings."""
    issues = check_profile(profile, game)
    for issue in issues:
        if issue.level == "error":
            raise UserError(f"{source}: {issue.where}: {issue.message}")
    return issues


def load_profile(path: Path, game: GameActions) -> tuple[MappingProfile, list[Issue]]:
    profile = parse_profile(read_yaml(path, "action-mapping profile"), str(path))
    return profile, validate_profile(profile, game, str(path))


def save_profile(profile: MappingProfile, path: Path, header: str = "") -> None:
    """Write atomically (a crash never leaves half a profile)."""
    import yaml  # type: ignore[import-untyped]

    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(profile.as_yaml(), sort_keys=False, default_flow_style=None)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text((f"# {header}\n" if header else "") + text, encoding="utf-8")
    tmp.replace(path)


def trigger_threshold(binding: Binding, action: ActionDef, profile: MappingProfile) -> float:
    """A trigger binding's press threshold: its own, else the action's (trigger actions), else the
    profile's axis threshold for that trigger."""
    if binding.threshold is not None:
        return binding.threshold
    if action.type == "trigger" and action.threshold is not None:
        return action.threshold
    assert binding.trigger is not None
    return profile.axis_thresholds[binding.trigger]

"""The `map` job's workflow as a pure state machine: screens, keys, pad observations, rendering.

Screens: `classes` (pick the action classes) -> `mapping` (one action at a time: press the
control on the pad, Space confirms it, Left/Right move, Backspace clears, Enter reviews) ->
`review` (bindings with validation warnings/errors; Up/Down pick an action, Space remaps it,
S saves, Q quits without saving). The terminal and the pad are driven from outside (jobs/map.py),
so tests can run the whole flow without either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from grimjobs.dataset.actions import ActionDef, GameActions
from grimjobs.dataset.controls import AXIS_NAMES, BUTTON_NAMES, STICKS, TRIGGERS
from grimjobs.dataset.profile import Binding, Issue, MappingProfile, _default_thresholds, check_profile

Screen = Literal["classes", "mapping", "review", "saved", "quit"]
# A control counts as moved for analog / vector2 capture past this deflection.
MOVE_THRESHOLD = 0.5


def trigger_threshold_from_peak(peak: float) -> float:
    """A trigger action's threshold derived from the observed press: half the peak, in [0.1, 0.9]."""
    return round(min(0.9, max(0.1, peak * 0.5)), 2)


@dataclass(slots=True)
class Observer:
    """Turns the live pad state into the candidate binding for one action type."""

    action_type: str
    thresholds: dict[str, float]
    held_set: list[str] = field(default_factory=list)  # the simultaneous set being remembered
    peaks: dict[str, float] = field(default_factory=dict)  # axis name -> peak signed value
    candidate: Binding | None = None
    _was_held: bool = False  # anything held at the last update

    def reset(self) -> None:
        self.held_set = []
        self.peaks = {}
        self.candidate = None
        self._was_held = False

    def update(
        self, axes: Sequence[float], buttons: Sequence[int] | set[int] | frozenset[int]
    ) -> Binding | None:
        for slot, value in enumerate(axes[: len(AXIS_NAMES)]):
            name = AXIS_NAMES[slot]
            if abs(value) > abs(self.peaks.get(name, 0.0)):
                self.peaks[name] = float(value)
        if self.action_type in ("digital", "trigger"):
            held = [BUTTON_NAMES[b] for b in sorted(buttons) if 0 <= b < len(BUTTON_NAMES)]
            for slot, value in enumerate(axes[: len(AXIS_NAMES)]):
                name = AXIS_NAMES[slot]
                threshold = self.thresholds.get(name, 0.5)
                if name in TRIGGERS:
                    if value >= threshold or (self.action_type == "trigger" and value >= 0.1):
                        held.append(name)
                elif value >= threshold:
                    held.append(f"{name}+")
                elif value <= -threshold:
                    held.append(f"{name}-")
            if held:
                # A new press after everything was released starts a new set; while anything is
                # held the set only grows (so a combo survives releasing its buttons one by one).
                self.held_set = held if not self._was_held else _union(self.held_set, held)
                self.candidate = self._digital_candidate(self.held_set)
            self._was_held = bool(held)
        elif self.action_type == "analog":
            best = max(self.peaks.items(), key=lambda item: abs(item[1]), default=None)
            if best is not None and abs(best[1]) >= MOVE_THRESHOLD:
                self.candidate = Binding(axis=best[0], invert=best[1] < 0 and best[0] not in TRIGGERS)
        else:  # vector2
            magnitudes = {
                stick: (self.peaks.get(x, 0.0) ** 2 + self.peaks.get(y, 0.0) ** 2) ** 0.5
                for stick, (x, y) in STICKS.items()
            }
            stick, size = max(magnitudes.items(), key=lambda item: item[1])
            if size >= MOVE_THRESHOLD:
                self.candidate = Binding(stick=stick)  # type: ignore[arg-type]
        return self.candidate

    def _digital_candidate(self, members: list[str]) -> Binding:
        if len(members) == 1:
            only = members[0]
            if only in BUTTON_NAMES:
                return Binding(button=only)
            if only in TRIGGERS:
                if self.action_type == "trigger":
                    return Binding(
                        trigger=only, threshold=trigger_threshold_from_peak(self.peaks.get(only, 1.0))
                    )
                return Binding(trigger=only)
        return Binding(combo=list(members))


def _union(previous: list[str], current: list[str]) -> list[str]:
    return previous + [m for m in current if m not in previous]


@dataclass(slots=True)
class MapperState:
    game: GameActions
    selected: list[str] = field(default_factory=list)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=_default_thresholds)
    screen: Screen = "classes"
    class_cursor: int = 0
    action_cursor: int = 0
    review_cursor: int = 0
    message: str = ""
    observer: Observer | None = None

    @staticmethod
    def start(game: GameActions, profile: MappingProfile | None = None) -> MapperState:
        state = MapperState(game)
        if profile is not None:
            state.selected = [c.id for c in game.classes if c.id in profile.class_ids]
            state.bindings = {k: list(v) for k, v in profile.bindings.items()}
            state.thresholds = dict(profile.axis_thresholds)
        return state

    # -- what the screens show -------------------------------------------------------------
    def actions(self) -> list[ActionDef]:
        return self.game.actions_of(self.selected)

    @property
    def current(self) -> ActionDef | None:
        actions = self.actions()
        return actions[self.action_cursor] if 0 <= self.action_cursor < len(actions) else None

    def profile(self) -> MappingProfile:
        selected_ids = {a.id for a in self.actions()}
        return MappingProfile(
            game=self.game.game,
            class_ids=list(self.selected) or [self.game.classes[0].id],
            axis_thresholds=dict(self.thresholds),
            bindings={k: list(v) for k, v in self.bindings.items() if k in selected_ids and v},
        )

    def issues(self) -> list[Issue]:
        return check_profile(self.profile(), self.game)

    # -- input -----------------------------------------------------------------------------
    def on_pad(self, axes: Sequence[float], buttons: set[int] | frozenset[int] | Sequence[int]) -> None:
        if self.screen == "mapping" and self.observer is not None:
            self.observer.update(axes, buttons)

    def on_key(self, key: str) -> None:
        self.message = ""
        handler = {
            "classes": self._classes_key,
            "mapping": self._mapping_key,
            "review": self._review_key,
        }.get(self.screen)
        if handler is not None:
            handler(key)

    def _classes_key(self, key: str) -> None:
        count = len(self.game.classes)
        if key == "up":
            self.class_cursor = (self.class_cursor - 1) % count
        elif key == "down":
            self.class_cursor = (self.class_cursor + 1) % count
        elif key == "space":
            class_id = self.game.classes[self.class_cursor].id
            if class_id in self.selected:
                self.selected.remove(class_id)
            else:
                self.selected.append(class_id)
            order = [c.id for c in self.game.classes]
            self.selected.sort(key=order.index)
        elif key == "enter":
            if not self.selected:
                self.message = "select at least one class (Space)"
                return
            self._enter_mapping(0)
        elif key == "q":
            self.screen = "quit"

    def _enter_mapping(self, index: int) -> None:
        self.screen = "mapping"
        self.action_cursor = max(0, min(index, len(self.actions()) - 1))
        self._new_observer()

    def _new_observer(self) -> None:
        action = self.current
        self.observer = Observer(action.type, self.thresholds) if action is not None else None

    def _mapping_key(self, key: str) -> None:
        action = self.current
        if action is None:
            return
        if key == "space":
            candidate = self.observer.candidate if self.observer else None
            if candidate is None:
                self.message = "nothing observed yet: press the control on the pad first"
                return
            current = self.bindings.setdefault(action.id, [])
            if candidate in current:
                self.message = f"{candidate.describe()} is already bound"
            else:
                current.append(candidate)
                self.message = f"bound {action.id} to {candidate.describe()}"
            self._new_observer()
        elif key == "right":
            if self.action_cursor + 1 < len(self.actions()):
                self.action_cursor += 1
                self._new_observer()
            else:
                self.message = "last action: Enter reviews"
        elif key == "left":
            if self.action_cursor > 0:
                self.action_cursor -= 1
                self._new_observer()
        elif key == "backspace":
            self.bindings.pop(action.id, None)
            self.message = f"cleared {action.id}"
            self._new_observer()
        elif key == "enter":
            self.screen = "review"
            self.review_cursor = min(self.review_cursor, len(self.actions()) - 1)
        elif key == "esc":
            self.screen = "classes"

    def _review_key(self, key: str) -> None:
        count = len(self.actions())
        if key == "up":
            self.review_cursor = (self.review_cursor - 1) % count
        elif key == "down":
            self.review_cursor = (self.review_cursor + 1) % count
        elif key in ("space", "left", "esc"):
            self._enter_mapping(self.review_cursor)
        elif key == "s":
            errors = [i for i in self.issues() if i.level == "error"]
            if errors:
                self.message = f"cannot save: {errors[0]}"
                return
            self.screen = "saved"
        elif key == "q":
            self.screen = "quit"

    # -- rendering (plain lines; the terminal driver only draws them) ----------------------
    def render(self) -> list[str]:
        lines = [f"grimjobs map - {self.game.title or self.game.game}", ""]
        if self.screen == "classes":
            lines.append("Choose action classes (Up/Down move, Space toggles, Enter continues, Q quits)")
            for number, cls in enumerate(self.game.classes):
                mark = "[x]" if cls.id in self.selected else "[ ]"
                pointer = ">" if number == self.class_cursor else " "
                lines.append(f"{pointer} {mark} {cls.id}: {cls.label} ({len(cls.actions)} actions)")
        elif self.screen == "mapping":
            lines.extend(self._render_mapping())
        elif self.screen == "review":
            lines.extend(self._render_review())
        if self.message:
            lines += ["", self.message]
        return lines

    def _render_mapping(self) -> list[str]:
        action = self.current
        assert action is not None
        actions = self.actions()
        hint = {
            "digital": "press a button or a combination (hold them together)",
            "trigger": "pull a trigger as far as it should count as pressed, or press a button",
            "analog": "move one axis in the action's positive direction",
            "vector2": "move a whole stick",
        }[action.type]
        candidate = self.observer.candidate if self.observer else None
        bound = ", ".join(b.describe() for b in self.bindings.get(action.id, [])) or "-"
        left = [
            f"ACTION {self.action_cursor + 1}/{len(actions)}: {action.id} ({action.type})",
            f"  {action.description}" if action.description else "",
            f"  {hint}",
            f"  observed: {candidate.describe() if candidate else '(waiting for the pad)'}",
            f"  bound:    {bound}",
            "",
            "Space confirms, Left/Right move, Backspace clears, Enter reviews, Esc classes",
        ]
        right = []
        for number, other in enumerate(actions):
            pointer = ">" if number == self.action_cursor else " "
            status = ", ".join(b.describe() for b in self.bindings.get(other.id, [])) or "unbound"
            right.append(f"{pointer} {other.id}: {status}")
        width = max(len(line) for line in left) + 3
        rows = max(len(left), len(right))
        return [
            (left[i] if i < len(left) else "").ljust(width) + (right[i] if i < len(right) else "")
            for i in range(rows)
        ]

    def _render_review(self) -> list[str]:
        lines = ["REVIEW (Up/Down pick, Space remaps, S saves, Q quits without saving)"]
        for number, action in enumerate(self.actions()):
            pointer = ">" if number == self.review_cursor else " "
            bound = ", ".join(b.describe() for b in self.bindings.get(action.id, [])) or "unbound"
            lines.append(f"{pointer} {action.id} ({action.type}): {bound}")
        issues = self.issues()
        lines.append("")
        lines.append(f"{len(issues)} issue(s)" if issues else "no issues")
        lines.extend(f"  {issue}" for issue in issues)
        return lines

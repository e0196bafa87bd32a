"""The game being recorded: its window title, process and action definition."""

from __future__ import annotations

from pathlib import Path

from grimjobs.config_dir import config_dir
from grimjobs.settings import Settings


class GameSettings(Settings):
    name: str
    window_title: str | None = None
    process_name: str | None = None
    actions: str | None = None


class Game:
    Settings = GameSettings

    def __init__(self, settings: GameSettings) -> None:
        self.settings = settings

    @property
    def actions_path(self) -> Path | None:
        """The game-actions definition file, resolved against `conf/game/` when relative."""
        if self.settings.actions is None:
            return None
        path = Path(self.settings.actions)
        return path if path.is_absolute() else config_dir() / "game" / path

"""view: the dual-pane live viewer of two GrimStreams, or a recorded session with its inputs.

Thin: validates the config, builds the view model, and runs it in a window or headless.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from omegaconf import DictConfig, OmegaConf
from pydantic import Field, ValidationError, field_validator

from grimjobs.errors import ConfigError, UserError
from grimjobs.runner import Settings, format_validation_error, hydra_job

log = logging.getLogger("grimjobs.view")
SUMMARY = "dual-pane live viewer, or play a recorded session with its inputs"


class AlignSettings(Settings):
    mode: Literal["first_message", "shared"] = "first_message"
    gap_min_ms: float = Field(250, gt=0)
    gap_factor: float = Field(4.0, ge=1)
    sync_tolerance_ms: float = Field(50, gt=0)
    drift_warn_ms: float = Field(20, gt=0)
    heartbeat_late_s: float = Field(3.0, gt=0)
    frame_buffer: int = Field(600, ge=2)
    state_buffer: int = Field(8192, ge=2)
    keep_frames: int = Field(16, ge=2, le=1024)
    trail_seconds: float = Field(30.0, gt=0)
    plane: Literal["xy", "xz", "yz", "yx", "zx", "zy"] = "xy"


class ViewSettings(Settings):
    path: Path | None = None
    retail: str | None = "tcp://127.0.0.1:17400"
    engine: str | None = "tcp://127.0.0.1:17500"
    screenshot: Path | None = None
    frames: int = Field(1, ge=1)
    frame: int = Field(0, ge=0)
    window: Literal["auto"] | bool = "auto"
    paused: bool = False
    diff: bool = False
    speed: float = Field(1.0, gt=0)
    loop: bool = False
    width: int = Field(1280, ge=320, le=7680)
    height: int = Field(720, ge=240, le=4320)
    timeout_s: float = Field(15, gt=0)
    max_seconds: float = Field(0, ge=0)
    reconnect_delay_s: float = Field(0.75, gt=0)
    max_payload: int = Field(64 << 20, ge=1024)
    align: AlignSettings = AlignSettings.model_validate({})

    @field_validator("screenshot")
    @classmethod
    def _png(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix.lower() != ".png":
            raise ValueError("must name a .png file")
        return value

    @property
    def use_window(self) -> bool:
        return self.screenshot is None if self.window == "auto" else bool(self.window)


def settings_from(cfg: DictConfig) -> ViewSettings:
    raw = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(raw, dict)
    values = {str(k): v for k, v in raw.items() if k != "hydra"}
    try:
        return ViewSettings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, "view", values).replace("view.", "", 1)) from None


@hydra_job("view")
def main(cfg: DictConfig) -> int:
    settings = settings_from(cfg)
    from grimjobs.viewer.run import run_live, run_offline

    if settings.path is not None:
        return run_offline(settings)
    if not settings.retail and not settings.engine:
        raise UserError(
            "retail and engine are both null: give a stream URL, or path=<session> to play a recording"
        )
    return run_live(settings)

"""The `view` job's validated settings (conf/view.yaml), below the job so the viewer imports them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from grimjobs.settings import Settings


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
    movie_answer: Literal["finished", "skipped", "key"] = "finished"
    movie_root: Path | None = None
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

"""view: the dual-pane live viewer of two GrimStreams, or a recorded session with its inputs.

Thin: validates the config, builds the view model, and runs it in a window or headless.
"""

from __future__ import annotations

import logging

from omegaconf import DictConfig, OmegaConf
from pydantic import ValidationError

from grimjobs.errors import ConfigError, UserError
from grimjobs.runner import hydra_job
from grimjobs.settings import format_validation_error
from grimjobs.viewer.settings import ViewSettings

log = logging.getLogger("grimjobs.view")
SUMMARY = "dual-pane live viewer, or play a recorded session with its inputs"


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

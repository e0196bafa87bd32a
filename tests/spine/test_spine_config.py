"""Every primary config composes, and every option of every group composes and builds
(lightning-hydra-template style): a broken yaml or a _target_ that does not import fails here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from grimjobs.config_dir import config_dir
from grimjobs.settings import build

CONF = config_dir()
GROUPS = ("capture", "encoder", "input", "stream", "validation", "game")
# Options that need a value the user must give (a path, a URL) get one here.
EXTRA: dict[str, list[str]] = {
    "capture/window": ["game=manny"],
    "capture/file": ["capture.path=/tmp/video.mp4"],
}


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.fixture
def hydra_conf() -> Iterator[None]:
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def _compose(job: str, overrides: list[str]) -> DictConfig:
    return compose(config_name=job, overrides=overrides, return_hydra_config=False)


@pytest.mark.parametrize("job", sorted(p.stem for p in CONF.glob("*.yaml")))
def test_primary_config_composes(job: str, hydra_conf: None) -> None:
    cfg = _compose(job, [])
    assert isinstance(cfg, DictConfig)


@pytest.mark.parametrize(
    ("group", "option"), [(g, o) for g in GROUPS for o in _options(g)], ids=lambda v: str(v)
)
def test_group_option_composes_and_builds(group: str, option: str, hydra_conf: None) -> None:
    cfg = _compose("record", [f"{group}={option}", *EXTRA.get(f"{group}/{option}", [])])
    component: object = build(cfg[group], group)
    assert type(component).__module__.startswith("grimjobs.")


def test_each_group_folder_mirrors_a_component_folder() -> None:
    package = Path(__file__).resolve().parents[2] / "grimjobs"
    for group in GROUPS:
        assert (package / group).is_dir(), f"conf/{group}/ has no grimjobs/{group}/"
        for option in _options(group):
            if group in ("game", "validation"):
                continue  # data, not one class per option
            cfg_text = (CONF / group / f"{option}.yaml").read_text()
            target = next(
                line.split(":", 1)[1].strip() for line in cfg_text.splitlines() if line.startswith("_target_")
            )
            module = target.rsplit(".", 1)[0]
            assert module.startswith(f"grimjobs.{group}."), f"conf/{group}/{option}.yaml -> {target}"

"""Every encoder group composes, builds, and rejects bad values in one line naming the key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from grimjobs.config_dir import config_dir
from grimjobs.encoder.base import VideoEncoder
from grimjobs.errors import ConfigError
from grimjobs.settings import build
from tests.conftest import run_grimjobs

ENCODERS = ("x264", "x265", "svtav1", "ffv1", "nvenc")
CODECS = {"x264": "libx264", "x265": "libx265", "svtav1": "libsvtav1", "ffv1": "ffv1", "nvenc": "h264_nvenc"}


@pytest.fixture(scope="module")
def hydra_init() -> Iterator[None]:
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        yield


def compose_record(*overrides: str) -> DictConfig:
    return compose(config_name="record", overrides=list(overrides))


@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_config_composes_and_builds(hydra_init: None, name: str) -> None:
    cfg = compose_record(f"encoder={name}")
    encoder = build(cfg.encoder, "encoder", VideoEncoder)
    assert encoder.codec == CODECS[name]  # type: ignore[attr-defined]
    # Constructors only store settings: nothing is opened or created.
    assert not hasattr(encoder, "_container")


@pytest.mark.parametrize(
    ("name", "key", "value", "allowed"),
    [
        ("x264", "crf", 52, "less than or equal to 51"),
        ("x265", "crf", -1, "greater than or equal to 0"),
        ("svtav1", "crf", 64, "less than or equal to 63"),
        ("svtav1", "preset", 14, "less than or equal to 13"),
        ("x265", "preset", "'turbo'", "ultrafast"),
        ("nvenc", "preset", "'p9'", "p1"),
        ("ffv1", "pixel_format", "'nv12'", "yuv420p"),
        ("x265", "gop_seconds", 5, "less than or equal to 2"),
    ],
)
def test_bad_value_names_the_key(hydra_init: None, name: str, key: str, value: object, allowed: str) -> None:
    cfg = compose_record(f"encoder={name}", f"encoder.{key}={value}")
    with pytest.raises(ConfigError) as caught:
        build(cfg.encoder, "encoder", VideoEncoder)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"encoder.{key}=")
    assert allowed in message


def test_ffv1_has_no_crf(hydra_init: None) -> None:
    cfg = compose_record("encoder=ffv1", "+encoder.crf=18")
    with pytest.raises(ConfigError, match=r"^encoder\.crf=18 is not allowed: Extra inputs"):
        build(cfg.encoder, "encoder", VideoEncoder)


def test_sweepable_keys_are_shared(hydra_init: None) -> None:
    """crf and preset exist in every rate-controlled encoder, so one sweep can cross them."""
    for name in ("x264", "x265", "svtav1", "nvenc"):
        node = OmegaConf.to_container(compose_record(f"encoder={name}").encoder)
        assert isinstance(node, dict)
        assert {"crf", "preset", "gop_seconds", "queue_size", "threads"} <= set(node)


def test_bad_crf_on_the_command_line_is_one_line() -> None:
    done = run_grimjobs("record", "encoder=svtav1", "encoder.crf=99", "input=none")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "grimjobs record: error: encoder.crf=99 is not allowed: Input should be less than or equal to 63"
    ]

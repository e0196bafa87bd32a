"""Component parameters: the pydantic base every component declares, and building from config.

This sits below the Hydra/CLI layer (`grimjobs.runner`), so components, the pipeline and pure
code import it without pulling in Hydra. `build` validates a config node against the class's
`Settings` and constructs it; nothing opens a device or a file there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel, ConfigDict, ValidationError

from grimjobs.errors import ConfigError


class Settings(BaseModel):
    """Base for every component's parameters: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


C = TypeVar("C")


def format_validation_error(error: ValidationError, key: str, values: Mapping[str, Any]) -> str:
    """One line per the first problem: `encoder.crf=99: Input should be less than or equal to 51`."""
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    full_key = f"{key}.{loc}" if loc else key
    top = first["loc"][0] if first["loc"] else None
    if first["type"] == "missing":
        return f"{full_key} is required but not set; add {full_key}=<value> to the command line"
    message = str(first["msg"]).removeprefix("Value error, ")
    if not loc:  # a check across several fields: the message names them
        return f"{key}: {message}"
    value = values.get(top, first.get("input")) if isinstance(top, str) else first.get("input")
    shown = OmegaConf.to_container(value) if isinstance(value, DictConfig) else value
    return f"{full_key}={shown!r} is not allowed: {message}"


def target_class(node: DictConfig | Mapping[str, Any], key: str) -> type[Any]:
    """Import the `_target_` class of a config node; it must live under `grimjobs.`."""
    import importlib

    target = node.get("_target_") if node is not None else None
    if not isinstance(target, str) or not target.startswith("grimjobs."):
        raise ConfigError(f"{key}._target_={target!r}: must name a class under grimjobs.*")
    module_name, _, class_name = target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{key}._target_={target!r} cannot be imported: {exc}") from None
    if not isinstance(cls, type):
        raise ConfigError(f"{key}._target_={target!r} is not a class")
    return cls


def validate_settings(cls: type[Any], node: DictConfig | Mapping[str, Any], key: str) -> Any:
    """Validate a config node against `cls.Settings`; the error names the key, value and rule."""
    raw = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    assert isinstance(raw, dict)
    values = {str(k): v for k, v in raw.items() if k != "_target_"}
    try:
        return cls.Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, key, values)) from None


def build(node: DictConfig | Mapping[str, Any], key: str, expect: type[C] | None = None) -> C:
    """Instantiate a component from its config node after validating its parameters.

    Constructors only store settings; devices and files open later in `open()`, so a bad value
    anywhere in the config fails before anything is touched.
    """
    cls = target_class(node, key)
    if expect is not None and not issubclass(cls, expect):
        raise ConfigError(f"{key}._target_={cls.__module__}.{cls.__name__} is not a {expect.__name__}")
    settings = validate_settings(cls, node, key)
    return cls(settings)  # type: ignore[no-any-return]

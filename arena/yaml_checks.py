"""Checks shared by the YAML files arena reads (leagues, training files): errors that name file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from arena.errors import ConfigError


def read_yaml(path: Path, kind: str) -> tuple[Any, str]:
    """The parsed content and the text of a YAML file; ``kind`` ('league file') names it in errors."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"{kind} {str(path)!r} cannot be read: {error.strerror}") from None
    try:
        return yaml.safe_load(text), text
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None


def key_error(source: str, key: str, problem: str) -> ConfigError:
    """``FILE: key.path: problem``."""
    return ConfigError(f"{source}: {key}: {problem}")


def whole(source: str, key: str, value: Any, minimum: int = 1) -> int:
    """A whole number of at least ``minimum`` (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise key_error(source, key, f"{value!r} must be a whole number >= {minimum}")
    return value


def seed(source: str, value: Any) -> int:
    """A ``seed:`` value: any whole number (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise key_error(source, "seed", f"{value!r} must be a whole number")
    return value


def mapping(source: str, key: str, value: Any, allowed: set[str]) -> dict[str, Any]:
    """A mapping (None counts as empty) whose keys are all in ``allowed``; ``key`` '' is the top level."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise key_error(source, key or "(top level)", f"must be a mapping, not {type(value).__name__}")
    unknown = sorted(set(value) - allowed, key=str)
    if unknown:
        path = f"{key}.{unknown[0]}" if key else str(unknown[0])
        raise key_error(source, path, f"unknown key; allowed keys: {', '.join(sorted(allowed))}")
    return value

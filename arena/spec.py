"""Player specs: what to build, as text (``stockfish:skill=3``), YAML, or a dict.

A :class:`PlayerSpec` is plain data, so it can be sent to worker processes
that build their own players from it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from arena.errors import ConfigError
from arena.player import Player
from arena.plugins import Plugins


@dataclass(frozen=True)
class PlayerSpec:
    """A player type, its options, and an optional explicit name."""

    type: str
    options: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    source: str = "command line"

    def describe(self) -> str:
        """The spec as it would be typed: ``type:key=value,...``."""
        return self.type + (":" + format_options(self.options) if self.options else "")


def format_options(options: dict[str, Any], prefix: str = "") -> str:
    """``{'skill': 3, 'options': {'Hash': 16}}`` -> ``skill=3,options.Hash=16``."""
    parts = []
    for key, value in options.items():
        if isinstance(value, dict):
            parts.append(format_options(value, f"{prefix}{key}."))
        else:
            parts.append(f"{prefix}{key}={value}")
    return ",".join(parts)


def _scalar(text: str) -> Any:
    """Read a command-line value as YAML would: 3 -> int, 0.1 -> float, true -> bool."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool, str)) else text


def parse_player_spec(text: str) -> PlayerSpec:
    """Parse ``type[:key=value,...]`` or the path of a YAML file describing one player."""
    path = Path(text)
    if text.endswith((".yaml", ".yml")) or (path.is_file() and ":" not in text):
        return load_player_file(path)
    type_name, _, rest = text.partition(":")
    type_name = type_name.strip()
    if not type_name:
        raise ConfigError(f"player spec {text!r} has no type; write e.g. 'random' or 'stockfish:skill=3'")
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"player spec {text!r}: {item!r} is not key=value")
        target = options
        *parents, leaf = key.strip().split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = _scalar(value.strip())
    name = options.pop("name", None)
    return PlayerSpec(type_name, options, None if name is None else str(name))


def load_player_file(path: Path) -> PlayerSpec:
    """Read one player from a YAML mapping with a ``type`` key and its options."""
    if not path.is_file():
        raise ConfigError(f"player file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"player file {str(path)!r} is not valid YAML: {error}") from None
    return spec_from_mapping(data, str(path))


def spec_from_mapping(data: Any, source: str) -> PlayerSpec:
    """Build a spec from ``{type: ..., name: ..., **options}`` read from ``source``."""
    if not isinstance(data, dict) or "type" not in data:
        raise ConfigError(f"{source}: a player needs a mapping with a 'type' key, e.g. 'type: stockfish'")
    options = dict(data)
    type_name = options.pop("type")
    name = options.pop("name", None)
    return PlayerSpec(str(type_name), options, None if name is None else str(name), source)


def build_player(spec: PlayerSpec, plugins: Plugins) -> Player:
    """Instantiate the player a spec describes, with its options checked."""
    player = build_registered(plugins.players, "player", spec)
    player.attach(plugins)
    player.name = spec.name or player.default_name() or spec.type
    return player


def build_registered(table: dict[str, Any], kind: str, spec: PlayerSpec) -> Any:
    """Instantiate ``table[spec.type]`` (a player or rater class) with the spec's options checked."""
    cls = table.get(spec.type)
    if cls is None:
        known = ", ".join(sorted(table)) or f"none (no {kind} plugin loaded)"
        raise ConfigError(f"{spec.source}: unknown {kind} type {spec.type!r}; known types: {known}")
    accepted = accepted_options(cls)
    unknown = sorted(set(spec.options) - set(accepted))
    if unknown:
        raise ConfigError(
            f"{spec.source}: {kind} {spec.type!r} has no option {', '.join(map(repr, unknown))}; "
            f"its options are: {', '.join(accepted) or 'none'}"
        )
    try:
        return cls(**spec.options)
    except ConfigError as error:
        raise type(error)(f"{spec.source}: {kind} {spec.describe()!r}: {error}") from None
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{spec.source}: {kind} {spec.describe()!r}: {error}") from error


def accepted_options(cls: type) -> list[str]:
    """The option names a player or rater class accepts (its keyword arguments)."""
    parameters = inspect.signature(cls).parameters.values()
    return [
        parameter.name
        for parameter in parameters
        if parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)
    ]

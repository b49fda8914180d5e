"""Player specs: what to build, as text (``stockfish:skill=3``), YAML, or a dict.

A :class:`PlayerSpec` is plain data, so it can be sent to worker processes
that build their own players from it.

Paths follow one rule: a relative path written in a file (a league, study,
training or player file) is relative to that file's folder; one typed on the
command line is relative to the current directory. The core knows which
options are paths from their declared types, never from their names: an
option annotated :class:`FilePath` (a file that must exist) or
:class:`pathlib.Path` is one.
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Any

import yaml

from arena.errors import ConfigError, PluginError, raised_where
from arena.options import FilePath, validate_options
from arena.player import Player
from arena.plugins import Plugins
from arena.yaml_checks import Base, did_you_mean, parse_yaml, read_yaml


@dataclass(frozen=True)
class PlayerSpec:
    """A player type, its options, and an optional explicit name."""

    type: str
    options: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    source: str = "command line"
    #: What relative path options are relative to: the folder of the file that
    #: wrote them, or None for the command line (the current directory, values kept as typed).
    base: Base | None = None
    #: What a worker playing it needs (``resources: {GPU: 1}``), where the spec says; else the player's own answer.
    resources: dict[str, float] | None = None

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


def parse_scalar(text: str) -> Any:
    """Read a command-line value as a YAML file would: 3 -> int, 3e-4 -> float, true -> bool."""
    try:
        value = parse_yaml(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool, str)) else text


def is_player_file(text: str, base: Base | None = None) -> bool:
    """Whether ``text`` names a player file rather than a ``type:key=value`` spec."""
    path = (base or Base.cwd()).path(text)
    return text.endswith((".yaml", ".yml")) or (path.is_file() and ":" not in text)


def parse_player_spec(text: str, base: Base | None = None) -> PlayerSpec:
    """Parse ``type[:key=value,...]`` or the path of a YAML file describing one player.

    ``base`` is where the text was written: a file's folder (its relative paths
    are relative to that folder), or None for the command line.
    """
    if is_player_file(text, base):
        return load_player_file(text, base)
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
        target[leaf] = parse_scalar(value.strip())
    name = options.pop("name", None)
    return with_resources(PlayerSpec(type_name, options, None if name is None else str(name), base=base))


def load_player_file(path: str | Path, base: Base | None = None) -> PlayerSpec:
    """Read one player from a YAML mapping with a ``type`` key and its options.

    ``path`` is relative to ``base`` (None: the current directory); the
    paths the file names are relative to its own folder.
    """
    where = base or Base.cwd()
    full = where.path(path)
    if not full.is_file():
        raise ConfigError(f"player file {where.missing(path, full)}")
    data, _ = read_yaml(full, "player file")
    spec = spec_from_mapping(data, str(path) if base is None else str(full), Base.of_file(full, "player file"))
    return with_resources(spec)


def with_resources(spec: PlayerSpec) -> PlayerSpec:
    """The spec with its ``resources`` (what a worker playing it needs, not a player option) checked and set apart."""
    if "resources" not in spec.options:
        return spec
    options = dict(spec.options)
    value = options.pop("resources")
    if not isinstance(value, dict) or not value or not all(
            isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount >= 0
            for amount in value.values()):
        raise ConfigError(f"{spec.source}: resources: {value!r} must map resource names to amounts, "
                          f"e.g. {{GPU: 1}} or {{CPU: 2, GPU: 0.5}}")
    return replace(spec, options=options, resources={str(name): float(amount) for name, amount in value.items()})


def spec_from_mapping(data: Any, source: str, base: Base | None = None) -> PlayerSpec:
    """Build a spec from ``{type: ..., name: ..., **options}`` read from ``source`` (whose folder is ``base``)."""
    if not isinstance(data, dict) or "type" not in data:
        raise ConfigError(f"{source}: a player needs a mapping with a 'type' key, e.g. 'type: stockfish'")
    options = dict(data)
    type_name = options.pop("type")
    name = options.pop("name", None)
    return PlayerSpec(str(type_name), options, None if name is None else str(name), source, base)


def build_player(spec: PlayerSpec, plugins: Plugins) -> Player:
    """Instantiate the player a spec describes, with its options checked."""
    player = build_registered(plugins.players, "player", spec)
    player.attach(plugins)
    player.name = spec.name or player.default_name() or spec.type
    return player


def build_registered(table: dict[str, Any], kind: str, spec: PlayerSpec) -> Any:
    """Instantiate ``table[spec.type]`` (a player or rater class) with the spec's options checked.

    The options are checked against the constructor's declared keyword arguments
    (:mod:`arena.options`) first, so a TypeError or ValueError the constructor
    then raises is a bug of its plugin (:class:`PluginError`), not the user's.
    """
    cls = table.get(spec.type)
    if cls is None:
        known = ", ".join(sorted(table)) or f"none (no {kind} plugin loaded)"
        raise ConfigError(f"{spec.source}: unknown {kind} type {spec.type!r}; known types: {known}")
    accepted = accepted_options(cls)
    unknown = sorted(set(spec.options) - set(accepted), key=str)
    if unknown:
        raise ConfigError(
            f"{spec.source}: {kind} {spec.type!r} has no option {', '.join(map(repr, unknown))}"
            f"{did_you_mean(map(str, unknown), accepted)}; its options are: {', '.join(accepted) or 'none'}"
        )
    options = resolve_paths(cls, spec)
    try:
        return cls(**validate_options(cls, options))
    except ConfigError as error:
        raise type(error)(f"{spec.source}: {kind} {spec.describe()!r}: {error}") from None
    except (TypeError, ValueError) as error:
        # The options passed their declared types: what the constructor then trips over is the plugin's bug.
        raise PluginError(f"plugin bug in {kind} type {spec.type!r}: {raised_where(error)}") from error


def accepted_options(cls: type) -> list[str]:
    """The option names a player or rater class accepts (its keyword arguments)."""
    parameters = inspect.signature(cls).parameters.values()
    return [
        parameter.name
        for parameter in parameters
        if parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)
    ]


def resolve_spec(spec: PlayerSpec, plugins: Plugins) -> PlayerSpec:
    """The spec with its path options made absolute from its base: plain data that means the same in any process.

    A spec without a base (typed on the command line) is returned as it is,
    and so is one of an unknown type (building it reports that).
    """
    cls = plugins.players.get(spec.type)
    if cls is None or spec.base is None:
        return spec
    return replace(spec, options=resolve_paths(cls, spec), base=None)


def resolve_paths(cls: type, spec: PlayerSpec) -> dict[str, Any]:
    """``spec.options`` with the path options of ``cls`` read relative to the spec's base, files checked to exist."""
    declared = path_options(cls)
    if not declared:
        return spec.options
    base = spec.base or Base.cwd()
    options = dict(spec.options)
    for key, must_exist in declared:
        value = options.get(key)
        if not isinstance(value, (str, PurePath)) or not str(value).strip():
            continue  # absent, a sweep's list, or a wrong type the plugin reports in its own words
        path = base.path(value)
        if spec.base is not None:
            options[key] = str(path)
        # Only whether it exists: what makes it the right kind of file (not a folder, a checkpoint) the plugin says.
        if must_exist and not path.exists():
            raise ConfigError(f"{spec.source}: {key} {base.missing(value, path)}")
    return options


@functools.lru_cache(maxsize=None)
def path_options(cls: type) -> tuple[tuple[str, bool], ...]:
    """The options of ``cls`` declared as paths, each with whether it must be an existing file (:class:`FilePath`)."""
    try:
        parameters = inspect.signature(cls, eval_str=True).parameters.values()
    except Exception:  # an annotation that does not evaluate at run time: read its text instead
        parameters = inspect.signature(cls).parameters.values()
    found = []
    for parameter in parameters:
        kind = _path_kind(parameter.annotation)
        if kind is not None:
            found.append((parameter.name, kind == "file"))
    return tuple(found)


def _path_kind(annotation: Any) -> str | None:
    """'file' for :class:`FilePath`, 'path' for :class:`pathlib.Path`, looking inside ``X | None`` and Annotated."""
    if isinstance(annotation, str):
        if re.search(r"\bFilePath\b", annotation):
            return "file"
        return "path" if re.search(r"\bPath\b", annotation) else None
    if isinstance(annotation, type):
        if issubclass(annotation, FilePath):
            return "file"
        return "path" if issubclass(annotation, PurePath) else None
    if typing.get_origin(annotation) is typing.Annotated:
        return _path_kind(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = {_path_kind(arg) for arg in typing.get_args(annotation)} - {None}
        return "file" if "file" in kinds else kinds.pop() if kinds else None
    return None

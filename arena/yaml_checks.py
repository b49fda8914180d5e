"""What the YAML files arena reads (leagues, studies, training and player files) share.

One loader (numbers such as ``3e-4`` are numbers), one rule for relative paths
(relative to the file that names them), and checks whose errors name file and key.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from arena.errors import ConfigError


class Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``3e-4`` and ``1e5`` as numbers.

    PyYAML follows YAML 1.1, where a float needs a dot (``3.0e-4``), so
    ``learning_rate: 3e-4`` would arrive as the string ``'3e-4'``; YAML 1.2
    and every other tool read it as a number.
    """


# Added after the standard resolvers, so it only decides what they leave a string:
# an exponent without a dot (3e-4, 1e5) or without a sign (2.5e1).
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def parse_yaml(text: str) -> Any:
    """Parse YAML text with :class:`Loader` (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is a SafeLoader


def read_yaml(path: Path, kind: str) -> tuple[Any, str]:
    """The parsed content and the text of a YAML file; ``kind`` ('league file') names it in errors."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"{kind} {str(path)!r} cannot be read: {error.strerror}") from None
    try:
        return parse_yaml(text), text
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None


@dataclass(frozen=True)
class Base:
    """The folder that relative paths in a file are relative to, and how messages name it.

    Every path a file names is relative to that file's folder, whatever the
    current directory; paths typed on the command line are relative to the
    current directory (:meth:`cwd`).
    """

    folder: Path
    what: str = "the current directory"  #: e.g. "the league file's folder"

    @classmethod
    def of_file(cls, path: str | Path, kind: str) -> Base:
        """The folder of the ``kind`` file ``path`` (``kind``: 'league file', 'study file', ...)."""
        return cls(Path(os.path.abspath(path)).parent, f"the {kind}'s folder")

    @classmethod
    def cwd(cls) -> Base:
        return cls(Path.cwd())

    @classmethod
    def coerce(cls, base: Base | str | Path) -> Base:
        """A :class:`Base` as it is, or a bare folder (the current directory when it is that)."""
        if isinstance(base, Base):
            return base
        if os.path.abspath(base) == os.getcwd():
            return cls(Path(base))
        return cls(Path(base), "the folder")

    def path(self, value: str | Path) -> Path:
        """``value`` as an absolute, normalised path: a relative one is taken from :attr:`folder`.

        Absolute, so that the result means the same file from any current
        directory (worker processes, a resume started elsewhere).
        """
        return Path(os.path.abspath(self.folder / Path(value).expanduser()))

    def describe(self) -> str:
        """``the league file's folder /abs/configs``, for messages."""
        return f"{self.what} {os.path.abspath(self.folder)}"

    def missing(self, value: Any, path: Path, thing: str = "file") -> str:
        """Why ``value`` (read as ``path``) is not a usable ``thing``, naming the folder it was read against."""
        what = f"is a folder, not a {thing}" if path.is_dir() else "does not exist"
        looked = "" if str(value) == str(path) else f"looked for {path}, "
        return f"{str(value)!r} {what} ({looked}relative to {self.describe()}); fix the path or give an absolute one"


def did_you_mean(names: Iterable[str], known: Sequence[str]) -> str:
    """`` (did you mean 'skill'?)`` for those of ``names`` close to one of ``known``; else ''."""
    matches = [match for name in names for match in difflib.get_close_matches(name, known, n=1)]
    return f" (did you mean {' or '.join(map(repr, matches))}?)" if matches else ""


def key_error(source: str, key: str, problem: str) -> ConfigError:
    """``FILE: key.path: problem``."""
    return ConfigError(f"{source}: {key}: {problem}")


def listed(value: Any) -> Any:
    """``value`` as a list where it is one item written alone (``challengers: cf-*``) or null (none); else as it is.

    For a pydantic ``BeforeValidator``: the declared list type then checks the items.
    """
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


def mapping(source: str, key: str, value: Any, allowed: set[str]) -> dict[str, Any]:
    """A mapping (None counts as empty) whose keys are all in ``allowed``; ``key`` '' is the top level."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise key_error(source, key or "(top level)", f"must be a mapping, not {type(value).__name__}")
    unknown = sorted(set(value) - allowed, key=str)
    if unknown:
        path = f"{key}.{unknown[0]}" if key else str(unknown[0])
        close = did_you_mean([str(unknown[0])], sorted(allowed))
        raise key_error(source, path, f"unknown key; allowed keys: {', '.join(sorted(allowed))}{close}")
    return value

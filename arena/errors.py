"""The errors a user of arena can cause, in one small hierarchy.

Everything the CLI reports without a traceback derives from :class:`ArenaError`.
Each message names the file, key or value at fault and what would fix it.
"""

from __future__ import annotations

import traceback


class ArenaError(Exception):
    """Base class of every error arena reports to a user."""

    exit_code = 1


class ConfigError(ArenaError):
    """A player spec, option, league or command-line value is invalid."""

    exit_code = 2


class PluginError(ArenaError):
    """A plugin failed to import, implements an unknown hook or registers a name twice."""

    exit_code = 2


class EngineNotFoundError(ConfigError):
    """An engine binary could not be found; the message says how to install it."""


class ResultsError(ArenaError):
    """A results folder cannot be written without losing or mixing games."""

    exit_code = 2


class WorkerFailed(ArenaError):
    """A worker process reported an error that stops the league (a player that cannot start, a crash)."""

    exit_code = 2


def raised_where(error: BaseException) -> str:
    """``TypeError: message (at file.py:12)``: an exception from plugin code, told with the line that raised it."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{type(error).__name__}: {error} (at {frame.filename}:{frame.lineno})"

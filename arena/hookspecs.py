"""The hooks an arena plugin can implement.

A plugin is a module (or object) with functions named like the hooks below,
decorated with ``arena.hookimpl``. Register it under the ``arena`` entry-point
group of your package::

    [project.entry-points.arena]
    my_plugin = "my_package.my_module"

Registration hooks receive a ``register`` callback: call it once per thing
the plugin adds. Notification hooks are called for their side effects.

A function named like a hook but without ``@arena.hookimpl`` is never called;
loading such a plugin warns (``arena.plugins.PluginWarning``), naming it.
"""

from __future__ import annotations

from typing import Any, Callable

import pluggy

hookspec = pluggy.HookspecMarker("arena")


@hookspec
def register_players(register: Callable[[str, type], None]) -> None:
    """Register player types: ``register(name, PlayerClass)``.

    ``PlayerClass`` subclasses ``arena.Player``; its keyword-only constructor
    arguments are the options a spec may set (``name:key=value,...``). The
    constructor raises ``arena.ConfigError`` for a bad value (the user sees
    its message); ``default_name()`` names the player from its options. See
    ``arena.Player`` for when each method is called.
    """


@hookspec
def register_raters(register: Callable[[str, Any], None]) -> None:
    """Register rating methods: ``register(name, RaterClass)``.

    ``RaterClass`` subclasses ``arena.Rater``; its keyword-only
    constructor arguments are its options, and ``rate(results, anchors)``
    returns one ``arena.Rating`` per player.
    """


@hookspec
def register_executors(register: Callable[[str, type], None]) -> None:
    """Register where leagues can play: ``register(name, ExecutorClass)``.

    ``ExecutorClass`` subclasses ``arena.league.executor.Executor``; its
    keyword-only constructor arguments are the options of a league's
    ``executor:`` section (``executor: {type: ray, workers: 16}``).
    """


@hookspec
def register_trainers(register: Callable[[str, Any], None]) -> None:
    """Register training recipes: ``register(name, trainer)``."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands or groups to the ``arena`` CLI: ``cli.add_command(cmd)``."""


@hookspec(firstresult=True)
def recognize_file(data: Any, source: str) -> str | None:
    """Given a YAML file's content that was passed as a league, say what it is if it is a file of
    yours, as ``"KIND: FIX"`` (``"a study file: run it with 'arena study FILE'"``); None otherwise."""


@hookspec
def game_finished(record: Any) -> None:
    """Called in the process that writes results after each game, with its ``GameRecord``."""


@hookspec
def league_finished(league: Any, ratings: Any) -> None:
    """Called once a league has played all its games and its ratings are fitted.

    ``ratings`` maps each rater's name to its list of ``arena.Rating``.
    """

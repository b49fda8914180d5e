"""Options shared by the commands: ``--plugin`` on every command."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import click

Command = TypeVar("Command", bound=Callable[..., Any])

PLUGIN_HELP = "Load a local .py file as a plugin (repeatable; also accepted before the command)."


def _add_plugin_files(ctx: click.Context, param: click.Parameter, files: tuple[str, ...]) -> None:
    """Hand ``--plugin`` files given after the command to the AppContext that ``arena --plugin`` fills."""
    if not files:
        return
    from arena.cli import AppContext  # here: arena.cli imports the command modules that import this one

    app = ctx.find_object(AppContext)
    if app is None:
        # The command was invoked on its own (not through the ``arena`` group): it gets a context of its own.
        app = ctx.obj = AppContext(base=ctx.obj)
    app.add_plugin_files(files)


def plugin_option(command: Command) -> Command:
    """``--plugin FILE`` (repeatable) on a command, feeding the same plugins as ``arena --plugin FILE``."""
    return click.option(
        "--plugin",
        "plugin_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        expose_value=False,  # the command reads its plugins from the AppContext, as without the option
        callback=_add_plugin_files,
        help=PLUGIN_HELP,
    )(command)


def accepts_plugin_option(command: click.Command) -> bool:
    """True when ``command`` already takes ``--plugin`` (from :func:`plugin_option`, or a plugin's own)."""
    return any("--plugin" in getattr(param, "opts", ()) for param in command.params)


def add_plugin_option_everywhere(command: click.Command) -> None:
    """Give ``--plugin`` to every command under ``command`` (those plugins register too) that lacks one.

    Groups are left alone: ``--plugin`` goes before the group (``arena --plugin``) or after the command.
    """
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_plugin_option_everywhere(sub)
    elif not accepts_plugin_option(command):
        plugin_option(command)

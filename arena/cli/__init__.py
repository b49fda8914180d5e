"""The ``arena`` command line. Each command group lives in its own module here."""

from __future__ import annotations

import sys
from typing import Any

import click

from arena import __version__
from arena.errors import ArenaError
from arena.cli.options import add_plugin_option_everywhere
from arena.league.server import stop_worker_server
from arena.plugins import Plugins, load_plugins


class AppContext:
    """What every command gets: the loaded plugins (built lazily, once).

    ``--plugin`` files come from before the command (``arena --plugin x.py play``)
    and after it (``arena play --plugin x.py``, see :func:`arena.cli.options.plugin_option`);
    both land here, before the command first reads :attr:`plugins`, on top of
    ``base`` (the plugins :func:`main` loaded, whose commands are registered).
    """

    def __init__(self, plugin_files: tuple[str, ...] = (), base: Plugins | None = None):
        self._plugin_files = tuple(plugin_files)
        self._base = base
        self._plugins: Plugins | None = None

    @property
    def plugin_files(self) -> tuple[str, ...]:
        """The local plugin files given with ``--plugin``, in order."""
        return self._plugin_files

    def add_plugin_files(self, files: tuple[str, ...]) -> None:
        """Load ``files`` as plugins too (a command's own ``--plugin``)."""
        if self._plugins is not None:
            raise RuntimeError("--plugin files must be added before the plugins are first used")
        self._plugin_files += tuple(file for file in files if file not in self._plugin_files)

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            self._plugins = (self._base or load_plugins()).with_files(self._plugin_files)
        return self._plugins


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="arena")
@click.option(
    "--plugin",
    "plugin_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Load a local .py file as a plugin (repeatable; every command also takes --plugin after its name).",
)
@click.pass_context
def cli(ctx: click.Context, plugin_files: tuple[str, ...]) -> None:
    """An evaluation arena for chess-playing generative models."""
    ctx.obj = AppContext(plugin_files, base=ctx.obj)


def _add_builtin_commands() -> None:
    from arena.cli import bench, compare, league, play, plugins_command, puzzles, rate, uci

    cli.add_command(play.play)
    cli.add_command(plugins_command.plugins)
    cli.add_command(league.league)
    cli.add_command(compare.compare)
    cli.add_command(league.validate)
    cli.add_command(rate.rate)
    cli.add_command(rate.report)
    cli.add_command(bench.bench)
    cli.add_command(uci.uci)
    cli.add_command(puzzles.puzzles)


_add_builtin_commands()


def plugin_files_in(argv: list[str]) -> list[str]:
    """The ``--plugin`` files named anywhere on a command line (``--plugin F`` or ``--plugin=F``).

    Read before click parses the line, so that the commands those files add
    exist when click looks the command up.
    """
    files = []
    for index, word in enumerate(argv):
        if word == "--":
            break
        if word == "--plugin" and index + 1 < len(argv):
            files.append(argv[index + 1])
        elif word.startswith("--plugin="):
            files.append(word.partition("=")[2])
    return files


def main(argv: list[str] | None = None) -> Any:
    """Entry point: load plugins, let them add commands, run, and turn ArenaError into a message."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        plugins = load_plugins(plugin_files_in(args))
        plugins.hook.register_commands(cli=cli)
        add_plugin_option_everywhere(cli)  # the commands plugins add take --plugin like the built-in ones
        return cli.main(args=args, prog_name="arena", standalone_mode=True, obj=plugins)
    except ArenaError as error:
        click.echo(f"arena: error: {error}", err=True)
        sys.exit(error.exit_code)
    finally:
        stop_worker_server()  # waited for: the CPU of the workers (and their engines) counts as this command's

"""The ``arena`` command's entry point: what a league needs first starts before the CLI is imported.

``arena league`` and ``arena compare`` fork their workers from a fork server
that imports arena's worker code (:mod:`arena.league.server`). Started here,
it imports on another core while this process imports the CLI, and the
workers are ready sooner. Any other command line (a ``--plugin`` before the
command included, ``--executor ray``) just runs the CLI; a league on local
workers starts the server itself when its games start.
"""

from __future__ import annotations

import sys
from typing import Any

#: The built-in commands that play their games on league workers.
WORKER_COMMANDS = ("league", "compare")


def main() -> Any:
    """Run the ``arena`` command line."""
    if sys.argv[1:2] and sys.argv[1] in WORKER_COMMANDS and not _other_executor(sys.argv[2:]):
        from arena.league.server import start_worker_server

        # Not the plugins' modules: the server would print the traceback of one that fails to
        # import, where the league command says what is wrong (each worker imports its plugins).
        start_worker_server()
    from arena.cli import main as cli_main

    return cli_main()


def _other_executor(arguments: list[str]) -> bool:
    """Whether the command line plays on an executor other than local workers (``--executor ray``)."""
    for index, argument in enumerate(arguments):
        value = argument.partition("=")[2] if argument.startswith("--executor=") else (
            arguments[index + 1] if argument == "--executor" and index + 1 < len(arguments) else None)
        if value is not None:
            return value != "local"
    return False

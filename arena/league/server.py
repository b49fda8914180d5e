"""The fork server league workers are forked from: started as early as a command can, stopped as it ends.

Light on purpose (``multiprocess`` only): the ``arena`` command starts it
before it imports the rest of arena.
"""

from __future__ import annotations

from typing import Any, Iterable

import multiprocess
import multiprocess.forkserver

#: The module whose code the workers run; the server imports it (and what it imports) first.
WORKERS_MODULE = "arena.league.workers"


def start_worker_server(modules: Iterable[str] = ()) -> Any:
    """Start the fork server league workers come from, if it is not running; returns its context.

    A spawned worker imports arena, its plugins and the script that started
    the league again (about 0.45 CPU-seconds each, taken from the engines on a
    small machine); the fork server pays that once and forks every worker from
    a process that runs no engines, CUDA or threads of its own (numpy's BLAS
    stops its thread itself before a fork), which is what makes the fork safe
    (forking the league process itself is not). ``modules`` are imported
    there too; the server keeps the list it started with. Starting it early
    lets it import while the league gets ready.
    """
    context = multiprocess.get_context("forkserver")
    context.set_forkserver_preload([WORKERS_MODULE, *modules])
    multiprocess.forkserver.ensure_running()
    return context


def stop_worker_server() -> None:
    """Stop the fork server and wait for it, so that its CPU time and its workers' count as this process's."""
    multiprocess.forkserver._forkserver._stop()  # the only way to stop it; the module's own tests use it

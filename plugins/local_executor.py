"""The built-in ``local`` executor: a league's workers as processes on this machine (the default)."""

from __future__ import annotations

from arena import hookimpl
from arena.league.workers import LocalExecutor


@hookimpl
def register_executors(register):
    register("local", LocalExecutor)

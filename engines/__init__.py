"""Finding chess engines on this machine.

Debian installs engines in /usr/games, which is often not on PATH, so it is
searched too. ``install.sh`` beside this file installs Stockfish on Debian.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from arena.errors import EngineNotFoundError

STOCKFISH_ENV = "ARENA_STOCKFISH"
EXTRA_DIRS = ("/usr/games", "/usr/local/games")


def locate_engine(command: str) -> str:
    """The absolute path of an engine given as a path or a command name.

    Looks at the path itself, then PATH, then /usr/games and /usr/local/games.
    """
    if os.sep in command:
        path = Path(command).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path.resolve())
        raise EngineNotFoundError(f"engine {command!r} is not an executable file; check the path")
    found = shutil.which(command) or shutil.which(command, path=os.pathsep.join(EXTRA_DIRS))
    if found is None:
        raise EngineNotFoundError(
            f"engine {command!r} was not found on PATH or in {', '.join(EXTRA_DIRS)}; "
            f"install it (on Debian or Ubuntu: apt-get install {command}) or give its full path"
        )
    return found


def locate_stockfish(path: str | None = None) -> str:
    """Stockfish from ``path``, else $ARENA_STOCKFISH, else PATH and /usr/games."""
    chosen = path or os.environ.get(STOCKFISH_ENV)
    try:
        return locate_engine(chosen or "stockfish")
    except EngineNotFoundError:
        where = f"{chosen!r} (from {'the path option' if path else STOCKFISH_ENV})" if chosen else "'stockfish'"
        raise EngineNotFoundError(
            f"Stockfish {where} was not found; install it with 'apt-get install stockfish' "
            f"(Debian/Ubuntu, or run engines/install.sh), or set {STOCKFISH_ENV}=/path/to/stockfish"
        ) from None

"""arena: an evaluation arena for chess-playing generative models.

The public API a plugin author needs is importable from here. The names are
imported when first used, so that ``import arena`` alone is quick (the
``arena`` command starts its worker server before the heavy imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Each public name and the module it comes from.
_EXPORTS = {
    **dict.fromkeys(("ArenaError", "ConfigError", "EngineNotFoundError", "PluginError", "ResultsError"),
                    "arena.errors"),
    **dict.fromkeys(("Clock", "Failure", "MoveReply", "MoveRequest", "Player", "Submission", "TimeControl"),
                    "arena.player"),
    **dict.fromkeys(("GameRecord", "Result"), "arena.play.record"),
    **dict.fromkeys(("hookimpl", "load_plugins"), "arena.plugins"),
    **dict.fromkeys(("GameResult", "Rater", "Rating", "WhiteAdvantage"), "arena.rating.model"),
}

if TYPE_CHECKING:
    from arena.errors import ArenaError, ConfigError, EngineNotFoundError, PluginError, ResultsError
    from arena.play.record import GameRecord, Result
    from arena.player import Clock, Failure, MoveReply, MoveRequest, Player, Submission, TimeControl
    from arena.plugins import hookimpl, load_plugins
    from arena.rating.model import GameResult, Rater, Rating, WhiteAdvantage


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'arena' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "ArenaError",
    "Clock",
    "ConfigError",
    "EngineNotFoundError",
    "Failure",
    "GameRecord",
    "GameResult",
    "MoveReply",
    "MoveRequest",
    "Player",
    "PluginError",
    "Rater",
    "Rating",
    "Result",
    "ResultsError",
    "Submission",
    "TimeControl",
    "WhiteAdvantage",
    "__version__",
    "hookimpl",
    "load_plugins",
]

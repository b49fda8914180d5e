"""arena: an evaluation arena for chess-playing generative models.

The public API a plugin author needs is importable from here.
"""

__version__ = "0.1.0"

from arena.errors import ArenaError, ConfigError, EngineNotFoundError, PluginError, ResultsError  # noqa: E402
from arena.player import Clock, Failure, MoveReply, MoveRequest, Player, Submission, TimeControl  # noqa: E402
from arena.play.record import GameRecord, Result  # noqa: E402
from arena.plugins import hookimpl, load_plugins  # noqa: E402

#: Exported names whose modules load on first use: game-playing processes (league workers) never rate,
#: and the rating model brings numpy.
_LAZY = {name: "arena.rating.model" for name in ("GameResult", "Rater", "Rating", "WhiteAdvantage")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'arena' has no attribute {name!r}")

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

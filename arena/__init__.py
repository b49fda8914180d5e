"""arena: an evaluation arena for chess-playing generative models.

The public API a plugin author needs is importable from here.
"""

__version__ = "0.1.0"

from arena.errors import ArenaError, ConfigError, EngineNotFoundError, PluginError, ResultsError  # noqa: E402
from arena.player import Clock, Failure, MoveReply, MoveRequest, Player, Submission, TimeControl  # noqa: E402
from arena.play.record import GameRecord, Result  # noqa: E402
from arena.plugins import hookimpl, load_plugins  # noqa: E402
from arena.rating.model import GameResult, Rater, Rating, WhiteAdvantage  # noqa: E402

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

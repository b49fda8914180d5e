"""Adjudication by an evaluating engine, as cutechess and fastchess users expect (off by default).

League file::

    adjudication:
      engine: stockfish        # 'stockfish' or a UCI command
      nodes: 20000             # search per evaluation
      resign: {score: 700, moves: 4}              # |eval| >= 700 cp for 4 plies in a row: the side ahead wins
      draw: {score: 10, moves: 8, from_move: 40}  # |eval| <= 10 cp for 8 plies from move 40: draw
      cap_margin: 200          # with rules.move_cap_result: eval, the side ahead by this much wins at the cap

Evaluations are from White's point of view in centipawns; a mate counts as
a very large score.
"""

from __future__ import annotations

from typing import Any

import chess
import chess.engine

from arena.errors import ConfigError
from arena.game import Game
from arena.record import Result, Termination
from arena_engines import STOCKFISH_DEFAULTS, locate_engine, locate_stockfish

KEYS = {"engine", "nodes", "resign", "draw", "cap_margin"}
MATE_SCORE = 100_000


def _number(source: str, key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{source}: adjudication.{key}: {value!r} must be a whole number >= {minimum}")
    return value


def _section(source: str, key: str, value: Any, allowed: dict[str, int]) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: adjudication.{key}: must be a mapping like {{score: 700, moves: 4}}")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ConfigError(f"{source}: adjudication.{key}.{unknown[0]}: unknown key; allowed: {', '.join(allowed)}")
    for required in ("score", "moves"):
        if required not in value:
            raise ConfigError(f"{source}: adjudication.{key}: needs '{required}'")
    return {name: _number(source, f"{key}.{name}", value.get(name, floor), floor) for name, floor in allowed.items()}


def validate_adjudication(data: Any, source: str) -> dict[str, Any]:
    """Check an ``adjudication:`` section and fill in its defaults."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: adjudication: must be a mapping with at least 'engine'")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise ConfigError(f"{source}: adjudication.{unknown[0]}: unknown key; allowed: {', '.join(sorted(KEYS))}")
    engine = data.get("engine", "stockfish")
    if not isinstance(engine, str) or not engine:
        raise ConfigError(f"{source}: adjudication.engine: must be 'stockfish' or a UCI engine command")
    _locate(engine)  # a missing engine is reported now, not in a worker
    return {
        "engine": engine,
        "nodes": _number(source, "nodes", data.get("nodes", 20000), 1),
        "resign": _section(source, "resign", data.get("resign"), {"score": 1, "moves": 1}),
        "draw": _section(source, "draw", data.get("draw"), {"score": 0, "moves": 1, "from_move": 1}),
        "cap_margin": _number(source, "cap_margin", data.get("cap_margin", 200), 0),
    }


def _locate(engine: str) -> str:
    return locate_stockfish() if engine == "stockfish" else locate_engine(engine)


class Adjudicator:
    """Evaluates the positions of running games and ends those the thresholds decide."""

    def __init__(self, config: dict[str, Any]):
        self.config = config
        self._engine: chess.engine.SimpleEngine | None = None
        self._resign_streak: dict[str, int] = {}
        self._draw_streak: dict[str, int] = {}

    def start(self) -> None:
        """Start the evaluating engine."""
        self._engine = chess.engine.SimpleEngine.popen_uci(_locate(self.config["engine"]), setpgrp=True)
        options = {name: value for name, value in STOCKFISH_DEFAULTS.items() if name in self._engine.options}
        self._engine.configure(options)

    def evaluate(self, board: chess.Board) -> int:
        """The position's score for White in centipawns, whatever the engine evaluated before."""
        assert self._engine is not None, "start() first"
        # A new game each time (ucinewgame clears the hash table): which games a worker
        # evaluated before depends on scheduling, and must not change a result.
        info = self._engine.analyse(board, chess.engine.Limit(nodes=self.config["nodes"]), game=object())
        return info["score"].white().score(mate_score=MATE_SCORE)

    def review(self, games: list[Game]) -> None:
        """Look at games that just moved: decide those stopped at the move cap, end decided ones."""
        resign, draw = self.config["resign"], self.config["draw"]
        for game in games:
            if game.finished:
                capped = game.termination in (Termination.MOVE_CAP, Termination.CONTEXT_FULL)
                if capped and game.rules.move_cap_result == "eval":
                    self._decide_cap(game)
                self._resign_streak.pop(game.game_id, None)
                self._draw_streak.pop(game.game_id, None)
                continue
            if not resign and not (draw and game.board.fullmove_number >= draw["from_move"]):
                continue
            score = self.evaluate(game.board)
            if resign:
                streak = self._resign_streak.get(game.game_id, 0) + 1 if abs(score) >= resign["score"] else 0
                self._resign_streak[game.game_id] = streak
                if streak >= resign["moves"]:
                    result = Result.win_for(chess.WHITE if score > 0 else chess.BLACK)
                    game.adjudicate(result, Termination.ADJUDICATION, f"evaluation {score:+d} cp for {streak} plies")
                    continue
            if draw and game.board.fullmove_number >= draw["from_move"]:
                streak = self._draw_streak.get(game.game_id, 0) + 1 if abs(score) <= draw["score"] else 0
                self._draw_streak[game.game_id] = streak
                if streak >= draw["moves"]:
                    game.adjudicate(Result.DRAW, Termination.ADJUDICATION, f"evaluation within {draw['score']} cp for {streak} plies")

    def _decide_cap(self, game: Game) -> None:
        score = self.evaluate(game.board)
        margin = self.config["cap_margin"]
        winner = chess.WHITE if score >= margin else chess.BLACK if score <= -margin else None
        result = Result.DRAW if winner is None else Result.win_for(winner)
        detail = game.detail.replace(", not evaluated", "")
        game.adjudicate(result, game.termination or Termination.MOVE_CAP, f"{detail}, evaluation {score:+d} cp")

    def close(self) -> None:
        """Stop the evaluating engine."""
        if self._engine is not None:
            try:
                self._engine.quit()
            except Exception:
                pass
            finally:
                self._engine.close()
                self._engine = None

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

from dataclasses import asdict, dataclass
from typing import Annotated, Any

import chess
import chess.engine
from pydantic import Field

from arena.options import Wording, read_keys
from arena.play.game import Game
from arena.play.record import Result, Termination
from arena_engines import STOCKFISH_DEFAULTS, locate_engine, locate_stockfish

MATE_SCORE = 100_000

Count = Annotated[int, Field(ge=1)]


@dataclass(frozen=True)
class ResignSection:
    """``adjudication.resign:``: |eval| >= ``score`` cp for ``moves`` plies in a row: the side ahead wins."""

    score: Count
    moves: Count


@dataclass(frozen=True)
class DrawSection:
    """``adjudication.draw:``: |eval| <= ``score`` cp for ``moves`` plies from move ``from_move``: a draw."""

    score: Annotated[int, Field(ge=0)]
    moves: Count
    from_move: Count = 1


@dataclass(frozen=True)
class AdjudicationSection:
    """The ``adjudication:`` section; a sub-section left out (None) is not adjudicated."""

    engine: Annotated[str, Field(min_length=1), Wording("'stockfish' or a UCI engine command")] = "stockfish"
    nodes: Count = 20000
    resign: ResignSection | None = None
    draw: DrawSection | None = None
    cap_margin: Annotated[int, Field(ge=0)] = 200


SUBSECTIONS = {"resign": ResignSection, "draw": DrawSection}


def validate_adjudication(data: Any, source: str) -> dict[str, Any]:
    """Check an ``adjudication:`` section and fill in its defaults.

    The result is a plain dict (``resign`` and ``draw`` dicts or None), as the
    run's manifest records it and :class:`Adjudicator` reads it.
    """
    if isinstance(data, dict):
        # Read the sub-sections first, each under its own key path (adjudication.resign.moves); the
        # section then holds them as dataclasses, which read_keys passes through as they are.
        data = {**data, **{key: read_keys(cls, data[key], source, f"adjudication.{key}")
                           for key, cls in SUBSECTIONS.items() if data.get(key) is not None}}
    section = read_keys(AdjudicationSection, data, source, "adjudication")
    _locate(section.engine)  # a missing engine is reported now, not in a worker
    return asdict(section)


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

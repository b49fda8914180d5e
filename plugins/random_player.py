"""The ``random`` player: a uniformly random legal move, reproducible from the game's seed."""

from __future__ import annotations

import random

import chess

from arena import MoveRequest, Player, hookimpl


class RandomPlayer(Player):
    """Plays a uniformly random legal move; the same game seed gives the same moves."""

    def __init__(self) -> None:
        pass  # no options

    def choose_one(self, request: MoveRequest) -> chess.Move:
        # Seeded per position, so a move does not depend on what else this process played.
        rng = random.Random(f"{request.seed}:{request.board.ply()}:{request.attempt}")
        return rng.choice(list(request.board.legal_moves))


@hookimpl
def register_players(register):
    register("random", RandomPlayer)

"""A player plugin in a separate package: capture the most valuable piece it can, else move at random."""

import random

import chess

import arena


class GreedyCapture(arena.Player):
    def __init__(self, *, greed: float = 1.0):
        self.greed = greed

    def default_name(self):
        return f"greedy{self.greed:g}"

    def choose_one(self, request: arena.MoveRequest) -> chess.Move:
        board = request.board
        rng = random.Random(f"{request.seed}:{board.ply()}")
        captures = [m for m in board.legal_moves if board.is_capture(m)]
        if captures and rng.random() < self.greed:
            return max(captures, key=lambda m: (board.piece_type_at(m.to_square) or 1, m.uci()))
        return rng.choice(list(board.legal_moves))


@arena.hookimpl
def register_players(register):
    register("greedy", GreedyCapture)

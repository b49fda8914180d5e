"""A test player that records the size of every batch it is handed (one line per batch in a log file)."""

import random

import arena


class BatchRecorder(arena.Player):
    def __init__(self, *, log: str):
        self.log = log

    def choose(self, requests):
        with open(self.log, "a") as handle:
            handle.write(f"{len(requests)}\n")
        replies = []
        for request in requests:
            rng = random.Random(f"{request.seed}:{request.board.ply()}")
            replies.append(arena.MoveReply(move=rng.choice(list(request.board.legal_moves))))
        return replies


@arena.hookimpl
def register_players(register):
    register("batch_recorder", BatchRecorder)

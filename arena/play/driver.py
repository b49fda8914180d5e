"""Drive many games at once, handing each player all the requests that wait on it as one batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from arena.errors import raised_where
from arena.play.game import Game
from arena.player import Failure, MoveReply, MoveRequest, Player, Submission


def ask(player: Player, requests: list[MoveRequest]) -> list[MoveReply]:
    """Ask a player for moves and wait for them (see :func:`checked`)."""
    return checked(requests, lambda: player.choose(requests))


def checked(requests: list[MoveRequest], answer: Callable[[], list[MoveReply]]) -> list[MoveReply]:
    """The replies ``answer`` gives to ``requests``; an exception or a wrong number of replies becomes a failure reply."""
    plies = [len(request.board.move_stack) for request in requests]
    try:
        replies = list(answer())
        if len(replies) != len(requests):
            raise RuntimeError(f"the player gave {len(replies)} replies for {len(requests)} requests")
    except Exception as error:
        replies = [MoveReply(failure=Failure.ERROR, detail=raised_where(error)) for _ in requests]
    for index, (request, ply) in enumerate(zip(requests, plies)):
        if len(request.board.move_stack) != ply:
            # The board is the game's own: put it back before anything reads it.
            while len(request.board.move_stack) > ply:
                request.board.pop()
            replies[index] = MoveReply(failure=Failure.ERROR, detail="the player left moves pushed on the board")
    return replies


@dataclass(eq=False)
class _Thinking:
    """Games whose requests one player took by :meth:`Player.submit`, until the replies are applied."""

    games: list[Game]
    requests: list[MoveRequest]
    pending: Callable[[], list[MoveReply]]

    def apply(self) -> list[Game]:
        for game, reply in zip(self.games, checked(self.requests, self.pending)):
            game.apply(reply)
        return self.games


def play_step(games: list[Game], thinking: list[_Thinking]) -> list[Game]:
    """Move the unfinished ``games`` on; returns the games that were answered.

    ``thinking`` holds the submissions still out from earlier steps (updated
    in place). Of the players that answer in :meth:`Player.choose`, the one
    the most games wait on is asked, with all their requests: always serving
    the largest group lets games fall into step, so that with colour-swapped
    pairs a batched player soon gets every running game at once instead of
    half of them. Such a player is asked only when no submission is out, so
    that no engine's clock runs while it thinks. Then every player that takes
    submissions (engines) gets its waiting games, all at once if it is
    :attr:`Player.batched`, else one submission per game, and their
    searches run at the same time. Where every submission out is a
    :class:`Submission` of one kind, the step ends as soon as any is done and
    the rest keep thinking into the next step; otherwise it waits for all.
    """
    out = {id(game) for entry in thinking for game in entry.games}
    waiting: dict[int, tuple[Player, list[Game]]] = {}
    for game in games:
        if not game.finished and id(game) not in out:
            player = game.player_to_move
            waiting.setdefault(id(player), (player, []))[1].append(game)
    sync = [(player, group) for player, group in waiting.values() if not _submits(player)]
    if sync and thinking:
        return _collect(thinking, everything=True)  # the choosing player waits for a quiet table
    answered: list[Game] = []
    if sync:
        player, group = max(sync, key=lambda entry: len(entry[1]))
        for game, reply in zip(group, ask(player, [game.request() for game in group])):
            game.apply(reply)
        answered += group
    # Submitted only now: a search starts (and its clock runs) when it is submitted.
    for player, group in waiting.values():
        if _submits(player):
            # One submission per game unless batches are cheaper: each game goes on when its own move is in.
            for part in [group] if player.batched else [[game] for game in group]:
                requests = [game.request() for game in part]
                thinking.append(_Thinking(part, requests, _submit(player, requests)))
    if answered or not thinking:
        return answered
    return _collect(thinking, everything=False)


def _collect(thinking: list[_Thinking], everything: bool) -> list[Game]:
    """Apply the replies of the submissions that are done, after waiting for one (or for all of them)."""
    pendings = [entry.pending for entry in thinking]
    first = pendings[0]
    if everything or not all(isinstance(pending, Submission) and pending.wait_any == first.wait_any
                             for pending in pendings):
        done = list(thinking)
    else:
        if not any(pending.done() for pending in pendings):
            first.wait_any(pendings)
        done = [entry for entry in thinking if entry.pending.done()]
    for entry in done:
        thinking.remove(entry)
    return [game for entry in done for game in entry.apply()]


def _submits(player: Player) -> bool:
    """Whether a player takes submissions (overrides :meth:`Player.submit`)."""
    return type(player).submit is not Player.submit


def _submit(player: Player, requests: list[MoveRequest]) -> Callable[[], list[MoveReply]]:
    """``player.submit(requests)``; one that raises (or returns None) is answered as :func:`checked` reports it."""
    try:
        pending = player.submit(requests)
        if pending is None:
            raise RuntimeError(f"{type(player).__name__}.submit returned None")
        return pending
    except Exception as error:
        def fail(error: Exception = error) -> list[MoveReply]:
            raise error
        return fail


def finish(game: Game) -> None:
    """Tell both players a game is over (so an engine pool can take its engine back)."""
    for side in game.sides.values():
        try:
            side.player.game_over(game.game_id, game.board, game.result or "*")
        except Exception:
            pass  # a player's bookkeeping must not cost a finished game


class Table:
    """The games a loop is playing now: add games, :meth:`step` until they finish.

    ``review`` sees the games that just moved after every step (an adjudicator
    ends or decides some of them) before finished ones leave the table.
    """

    def __init__(self, review: Callable[[list[Game]], None] | None = None):
        self.running: list[Game] = []
        self._thinking: list[_Thinking] = []
        self._review = review

    def __len__(self) -> int:
        return len(self.running)

    def add(self, game: Game) -> None:
        """Start playing ``game``."""
        self.running.append(game)

    def step(self) -> list[Game]:
        """One batch of moves (see :func:`play_step`); the games that finished, their players told."""
        moved = play_step(self.running, self._thinking)
        if self._review is not None:
            self._review(moved)
        finished = [game for game in self.running if game.finished]
        for game in finished:
            self.running.remove(game)
            finish(game)
        return finished


def play_games(games: Iterable[Game], in_flight: int = 1) -> Iterator[Game]:
    """Play ``games`` with up to ``in_flight`` running at once; yield each one as it finishes."""
    pending = iter(games)
    table = Table()
    while True:
        while len(table) < in_flight:
            game = next(pending, None)
            if game is None:
                break
            table.add(game)
        if not table:
            return
        yield from table.step()

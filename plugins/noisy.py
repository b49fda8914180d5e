"""The ``noisy`` player: any player whose moves are replaced, with probability ``epsilon``, by a random legal move.

Experts whose mistakes differ, for transcendence studies::

    - type: noisy
      player: {type: stockfish, skill: 5, nodes: 2000}   # a mapping, or a spec string
      epsilon: 0.3

On the command line: ``noisy:epsilon=0.3,player.type=stockfish,player.skill=5``.

The coin and the random move are drawn from the game's seed, position and
attempt, so the same seed gives the same games. The wrapped player is asked
only for the moves it plays, all in one batch.

``mistakes: habitual`` gives the player blind spots instead: the coin is
still drawn per game, but its mistake in a position is always the same legal
move, drawn from the position and the player's name. Experts with different
names then err differently in the same position, as people with their own
habits do, and their games keep returning to the same positions.
"""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

import chess
import chess.polyglot
from pydantic import Field

from arena import MoveReply, MoveRequest, Player, hookimpl
from arena.options import Wording, checked_options
from arena.seeds import derive_seed
from arena.spec import PlayerSpec, build_player, parse_player_spec, spec_from_mapping


@checked_options
class NoisyPlayer(Player):
    """Plays a uniformly random legal move with probability ``epsilon``, else the wrapped player's move."""

    def __init__(
        self,
        *,
        player: Annotated[
            str | dict[str, Any],
            Field(description="the player whose moves are replaced"),
            Wording("a player spec such as 'stockfish:skill=3' or a mapping"),
        ],
        epsilon: Annotated[
            float,
            Field(ge=0, le=1, description="the chance that a move is a random legal one"),
            Wording("a probability from 0 to 1"),
        ],
        mistakes: Annotated[
            Literal["random", "habitual"],
            Field(description="random: a fresh mistake each time; habitual: the same one in a position"),
        ] = "random",
    ) -> None:
        self.mistakes = mistakes
        if isinstance(player, str):
            self.inner_spec: PlayerSpec = parse_player_spec(player)
        else:
            self.inner_spec = spec_from_mapping(player, "option player")
        self.epsilon = epsilon
        self.inner: Player | None = None

    def attach(self, plugins: Any) -> None:
        self.inner = build_player(self.inner_spec, plugins)

    def default_name(self) -> str:
        assert self.inner is not None
        return f"{self.inner.name}+noise{self.epsilon:g}"

    @property
    def batched(self) -> bool:
        """As batched as the player it wraps: it only passes the requests on."""
        return self.inner is not None and self.inner.batched

    def start(self) -> None:
        assert self.inner is not None
        self.inner.start()

    def choose(self, requests: list[MoveRequest]) -> list[MoveReply]:
        assert self.inner is not None
        replies: list[MoveReply | None] = [None] * len(requests)
        delegated = []
        for index, request in enumerate(requests):
            rng = random.Random(derive_seed(request.seed, "noise", request.board.ply(), request.attempt))
            if rng.random() < self.epsilon:
                if self.mistakes == "habitual":
                    rng = random.Random(derive_seed(self.name, chess.polyglot.zobrist_hash(request.board)))
                move = rng.choice(list(request.board.legal_moves))
                replies[index] = MoveReply(move=move, info={"noise": True}, elapsed=0.0)
            else:
                delegated.append(index)
        if delegated:
            for index, reply in zip(delegated, self.inner.choose([requests[i] for i in delegated])):
                replies[index] = reply
        return replies  # type: ignore[return-value]

    def game_over(self, game_id: str, board: chess.Board, result: str) -> None:
        assert self.inner is not None
        self.inner.game_over(game_id, board, result)

    def describe(self) -> dict[str, Any]:
        assert self.inner is not None
        # No anchor() of its own (not the wrapped player's): noise makes it another player.
        return {"wraps": self.inner.name, "epsilon": self.epsilon, "mistakes": self.mistakes, **self.inner.describe()}

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()


@hookimpl
def register_players(register):
    register("noisy", NoisyPlayer)

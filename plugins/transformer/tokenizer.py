"""Game transcripts as the model reads them, and the paper's 32-character vocabulary.

A game is one string: ``;1.e4 e5 2.Nf3 Nc6 3.Bb5`` -- ``;`` opens the game,
no space after a move number, SAN moves separated by single spaces. The
prompt for the side to move ends where its move begins: ``;1.e4 e5 2.`` for
White, ``;1.e4 e5 2.Nf3 `` for Black; the model's move ends at the next space.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import chess

#: The paper's vocabulary; a character's index is its position here (space = 0, 'x' = 31).
PAPER_VOCABULARY = " #+-.0123456789;=BKNOQRabcdefghx"


@dataclass(frozen=True)
class CharTokenizer:
    """One token per character of a fixed vocabulary."""

    vocabulary: str = PAPER_VOCABULARY

    def __post_init__(self) -> None:
        if len(set(self.vocabulary)) != len(self.vocabulary):
            raise ValueError("the vocabulary repeats a character")

    @property
    def size(self) -> int:
        return len(self.vocabulary)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; raises ValueError on a character outside the vocabulary."""
        index = self._index
        try:
            return [index[char] for char in text]
        except KeyError as error:
            raise ValueError(f"character {error.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: list[int]) -> str:
        return "".join(self.vocabulary[i] for i in ids)

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {char: i for i, char in enumerate(self.vocabulary)}

    def to_dict(self) -> dict[str, str]:
        """What a checkpoint stores to describe this tokenizer."""
        return {"kind": "char", "vocabulary": self.vocabulary}


def transcript(board: chess.Board) -> str:
    """The game so far as the model's prompt for the side to move (the board's whole move stack).

    Raises ValueError for a game that did not start from the standard position:
    a transcript cannot describe it.
    """
    start = board.root() if board.move_stack else board
    if start.board_fen() != chess.STARTING_BOARD_FEN or start.fen() != chess.STARTING_FEN:
        raise ValueError("the game did not start from the standard position, so it has no transcript")
    replay = chess.Board()
    parts = [";"]
    for move in board.move_stack:
        if replay.turn == chess.WHITE:
            parts.append(f"{replay.fullmove_number}.")
        parts.append(replay.san(move))
        parts.append(" ")
        replay.push(move)
    if replay.turn == chess.WHITE:
        parts.append(f"{replay.fullmove_number}.")
    return "".join(parts)

"""How a model reads games: the paper's characters, or one token per move.

``char`` (the paper's): a game is one string, ``;1.e4 e5 2.Nf3 Nc6 3.Bb5`` --
``;`` opens the game, no space after a move number, SAN moves separated by
single spaces. The prompt for the side to move ends where its move begins:
``;1.e4 e5 2.`` for White, ``;1.e4 e5 2.Nf3 `` for Black; the model's move
ends at the next space.

``move``: a game is a start token followed by one token per move, in UCI
(``e2e4``); the vocabulary is every move a queen or knight could make on an
empty board, plus promotions (1,968 moves). A move is one prediction, and the
squares a move leaves and reaches are in its token, which makes the board far
easier to follow for a small model than SAN characters are.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Iterable, Union

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

    def prompt(self, board: chess.Board) -> list[int]:
        """The tokens of the game so far, ending where the side to move's move begins."""
        return Prompts(self).prompt("", board)

    def opening(self) -> list[int]:
        """The tokens a game's transcript starts with."""
        return self.encode(";")

    def ply(self, board: chess.Board, move: chess.Move) -> list[int]:
        """The tokens ``move``, played from ``board``, adds to the transcript."""
        number = f"{board.fullmove_number}." if board.turn == chess.WHITE else ""
        return self.encode(f"{number}{board.san(move)} ")

    def turn(self, board: chess.Board) -> list[int]:
        """The tokens between the moves and the side to move's move: White's move number."""
        return self.encode(f"{board.fullmove_number}.") if board.turn == chess.WHITE else []

    def game(self, moves: list[chess.Move], sans: list[str] | None = None) -> list[int]:
        """A whole game's tokens, as training data holds them (``sans``: the moves' SAN, when known)."""
        if sans is None:
            board, sans = chess.Board(), []
            for move in moves:
                sans.append(board.san(move))
                board.push(move)
        return self.encode(game_transcript(sans))


def _uci_moves() -> list[str]:
    """Every from-to pair a queen or a knight could play on an empty board, then the promotions."""
    moves = []
    for origin in chess.SQUARES:
        reach = chess.BB_KNIGHT_ATTACKS[origin] | chess.BB_RANK_ATTACKS[origin][0] | chess.BB_FILE_ATTACKS[origin][0]
        reach |= chess.BB_DIAG_ATTACKS[origin][0]
        moves += [chess.square_name(origin) + chess.square_name(target) for target in chess.scan_forward(reach)]
    for rank, to_rank in (("7", "8"), ("2", "1")):
        for file in range(8):
            for step in (-1, 0, 1):
                if 0 <= file + step < 8:
                    for piece in "qrbn":
                        moves.append(f"{'abcdefgh'[file]}{rank}{'abcdefgh'[file + step]}{to_rank}{piece}")
    return moves


#: The move tokenizer's first token: it opens every game.
GAME_START = ";"


@dataclass(frozen=True)
class MoveTokenizer:
    """One token per move (UCI), after a game-start token."""

    moves: tuple[str, ...] = tuple(_uci_moves())

    def __post_init__(self) -> None:
        if len(set(self.moves)) != len(self.moves) or GAME_START in self.moves:
            raise ValueError("the move vocabulary repeats a move")

    @property
    def size(self) -> int:
        return len(self.moves) + 1

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {uci: i + 1 for i, uci in enumerate(self.moves)}

    def encode(self, moves: Iterable[chess.Move]) -> list[int]:
        """Token ids of moves; raises ValueError on a move outside the vocabulary."""
        index = self._index
        try:
            return [index[move.uci()] for move in moves]
        except KeyError as error:
            raise ValueError(f"move {error.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: list[int]) -> str:
        return " ".join(GAME_START if i == 0 else self.moves[i - 1] for i in ids)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "move", "moves": list(self.moves)}

    def prompt(self, board: chess.Board) -> list[int]:
        return Prompts(self).prompt("", board)

    def opening(self) -> list[int]:
        return [0]

    def ply(self, board: chess.Board, move: chess.Move) -> list[int]:
        return self.encode([move])

    def turn(self, board: chess.Board) -> list[int]:
        return []

    def game(self, moves: list[chess.Move], sans: list[str] | None = None) -> list[int]:
        return [0] + self.encode(moves)


Tokenizer = Union[CharTokenizer, MoveTokenizer]


class Prompts:
    """Each game's prompt, kept between its moves: a move adds only the tokens of the plies played
    since (a transcript rebuilt from the start costs the SAN of every earlier move, at every move)."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self._games: dict[str, tuple[chess.Board, list[int]]] = {}  #: per game: its replay and its tokens

    def prompt(self, game_id: str, board: chess.Board) -> list[int]:
        """The tokens of ``board``'s game so far, ending where the side to move's move begins.

        Raises ValueError for a game that did not start from the standard position.
        """
        kept = self._games.get(game_id)
        stack = board.move_stack
        if kept is None or len(kept[0].move_stack) > len(stack) or kept[0].move_stack != stack[:len(kept[0].move_stack)]:
            # A game new to this player (or one whose moves changed): its start is checked once, here.
            _check_standard_start(board)
            kept = self._games[game_id] = (chess.Board(), self.tokenizer.opening())
        replay, tokens = kept
        for move in stack[len(replay.move_stack):]:
            tokens += self.tokenizer.ply(replay, move)
            replay.push(move)
        return tokens + self.tokenizer.turn(replay)

    def forget(self, game_id: str) -> None:
        """Drop a finished game's prompt."""
        self._games.pop(game_id, None)


def tokenizer_from_dict(spec: Any) -> Tokenizer:
    """The tokenizer a checkpoint or a data set describes; raises ValueError when it is not one."""
    if isinstance(spec, dict) and spec.get("kind") == "char" and isinstance(spec.get("vocabulary"), str):
        return CharTokenizer(spec["vocabulary"])
    if isinstance(spec, dict) and spec.get("kind") == "move" and isinstance(spec.get("moves"), list):
        return MoveTokenizer(tuple(str(move) for move in spec["moves"]))
    kind = spec.get("kind") if isinstance(spec, dict) else spec
    raise ValueError(f"unknown tokenizer {kind!r} (or its vocabulary is missing)")


#: Tokenizers by the name a training file gives.
TOKENIZERS = {"char": CharTokenizer, "move": MoveTokenizer}


def _check_standard_start(board: chess.Board) -> None:
    start = board.root() if board.move_stack else board
    if start.fen() != chess.STARTING_FEN:
        raise ValueError("the game did not start from the standard position, so it has no transcript")


def game_transcript(sans: list[str]) -> str:
    """``;1.e4 e5 2.Nf3`` for a list of SAN moves."""
    parts = [";"]
    for ply, san in enumerate(sans):
        if ply % 2 == 0:
            parts.append(f"{ply // 2 + 1}.")
        parts.append(san)
        parts.append(" ")
    return "".join(parts).rstrip()


def transcript(board: chess.Board) -> str:
    """The game so far as the model's prompt for the side to move (the board's whole move stack).

    Raises ValueError for a game that did not start from the standard position:
    a transcript cannot describe it.
    """
    tokenizer = CharTokenizer()
    return tokenizer.decode(tokenizer.prompt(board))

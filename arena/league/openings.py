"""Openings: the start of each colour-swapped pair of games, from a league's ``openings:`` mapping.

Four forms, chosen by ``type``:

* ``none``: every game starts from the standard position;
* ``random`` with ``plies``: that many uniformly random legal plies (with
  ``plies: 4``, the default when a league names no openings: deterministic
  players would otherwise replay one game again and again);
* ``file`` with ``path`` (a ``.pgn`` or ``.epd``), optional ``plies`` and ``order``;
* ``book`` with ``depth`` and an optional ``path``: a walk through a Polyglot book
  (Debian's ``gnuchess-book`` by default).

The opening for a pair depends only on the master seed and the pair's index,
never on the order in which pairs are asked for, so runs replay exactly under
any concurrency. :class:`Openings` objects are plain data and can be pickled
to worker processes.
"""

from __future__ import annotations

import io
import random
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import chess
import chess.polyglot
from pydantic import Field

from arena.errors import ConfigError
from arena.options import FilePath, Wording, read_keys
from arena.seeds import derive_seed
from arena.yaml_checks import Base, key_error

#: Where Debian's ``gnuchess-book`` package puts its Polyglot book: the default ``path`` of ``type: book``.
DEBIAN_BOOK = Path("/usr/share/games/gnuchess/book.bin")

FILE_SUFFIXES = (".pgn", ".epd")

#: Random plies of the default openings: about 200,000 distinct starts, each a normal game after two moves.
DEFAULT_PLIES = 4

#: How many times a random opening is redrawn before ``plies`` is judged too long to avoid game ends.
_MAX_REDRAWS = 100

#: ``plies`` and ``depth``: strict, so 'plies: true' or 'plies: "8"' is refused.
Plies = Annotated[int, Field(gt=0), Wording("a positive integer")]


@dataclass(frozen=True)
class OpeningsType:
    """The ``type`` key alone: it says which of the sections below the whole mapping is read as."""

    type: Literal["none", "random", "file", "book"]


# The sections, one per type. An optional key declared ``= None`` without ``| None`` is None when
# left out, but refused when written as 'null' (only the values given are checked, never a default):
# 'plies: null' is surely a mistake, not a wish for whole lines.


@dataclass(frozen=True)
class NoneSection:
    """``openings: {type: none}``."""

    type: Literal["none"]


@dataclass(frozen=True)
class RandomSection:
    """``openings: {type: random, plies: N}``."""

    type: Literal["random"]
    plies: Plies


@dataclass(frozen=True)
class FileSection:
    """``openings: {type: file, path: F.pgn or F.epd, plies: N, order: ...}``; no ``plies``: whole lines."""

    type: Literal["file"]
    path: FilePath
    plies: Plies = None  # type: ignore[assignment]
    order: Literal["random", "sequential"] = "random"


@dataclass(frozen=True)
class BookSection:
    """``openings: {type: book, depth: N, path: BOOK.bin}``; without ``path``, Debian's book."""

    type: Literal["book"]
    depth: Plies
    path: FilePath = None  # type: ignore[assignment]


SECTIONS = {"none": NoneSection, "random": RandomSection, "file": FileSection, "book": BookSection}


@dataclass(frozen=True)
class Opening:
    """UCI ``moves`` played from ``fen`` (``None``: the standard start); ``name`` may be ``""``."""

    moves: tuple[str, ...] = ()
    fen: str | None = None
    name: str = ""

    def board(self) -> chess.Board:
        """The position after the opening's moves (raises ValueError if a move is illegal)."""
        board = chess.Board() if self.fen is None else chess.Board(self.fen)
        for uci in self.moves:
            board.push(board.parse_uci(uci))
        return board


class Openings(ABC):
    """A source of openings, one per colour-swapped pair of games."""

    @abstractmethod
    def opening(self, index: int) -> Opening:
        """The opening for pair number ``index`` (0-based); the same index always gives the same opening."""

    @abstractmethod
    def describe(self) -> str:
        """One line for the CLI, e.g. ``4 random plies``."""


@dataclass(frozen=True)
class NoOpenings(Openings):
    """Every game starts from the standard position."""

    def opening(self, index: int) -> Opening:
        _check_index(index)
        return Opening()

    def describe(self) -> str:
        return "standard start position"


@dataclass(frozen=True)
class RandomOpenings(Openings):
    """``plies`` uniformly random legal plies from the standard start."""

    plies: int
    seed: int
    source: str = "openings"

    def opening(self, index: int) -> Opening:
        _check_index(index)
        for attempt in range(_MAX_REDRAWS):
            # The first draw uses the same seed as the other types, so a pair's seed means one thing.
            parts = ("opening", index) if attempt == 0 else ("opening", index, attempt)
            moves = _random_walk(self.plies, random.Random(derive_seed(self.seed, *parts)))
            if moves is not None:
                return Opening(moves)
        raise ConfigError(
            f"{self.source}: openings.plies: {self.plies} random plies ended the game in each of "
            f"{_MAX_REDRAWS} draws for opening {index}; use fewer plies (e.g. 'plies: 8')"
        )

    def describe(self) -> str:
        return f"{self.plies} random plies"


def _random_walk(plies: int, rng: random.Random) -> tuple[str, ...] | None:
    """Random legal moves from the start, or None where the game ended before or at the last ply."""
    board = chess.Board()
    moves = []
    for _ in range(plies):
        move = rng.choice(list(board.legal_moves))
        board.push(move)
        moves.append(move.uci())
        if board.is_game_over():
            return None
    return tuple(moves)


@dataclass(frozen=True)
class FileOpenings(Openings):
    """Openings read from a PGN or EPD file at load time, taken in random or sequential order."""

    path: Path
    openings: tuple[Opening, ...]
    order: str
    seed: int
    plies: int | None = None
    skipped: int = 0

    def opening(self, index: int) -> Opening:
        _check_index(index)
        if self.order == "sequential":
            return self.openings[index % len(self.openings)]
        return self.openings[derive_seed(self.seed, "opening", index) % len(self.openings)]

    def describe(self) -> str:
        count = f"{len(self.openings)} opening{'s' if len(self.openings) != 1 else ''}"
        if self.skipped:
            count += f", {self.skipped} skipped"
        plies = f", at most {self.plies} plies" if self.plies is not None else ""
        return f"file {self.path} ({count}), {self.order} order{plies}"


@dataclass(frozen=True)
class BookOpenings(Openings):
    """Up to ``depth`` plies chosen by weight from a Polyglot book, from the standard start.

    Only the path is kept: the book is opened (memory-mapped, which is cheap)
    in each :meth:`opening` call, so the object pickles to worker processes.
    """

    path: Path
    depth: int
    seed: int

    def opening(self, index: int) -> Opening:
        _check_index(index)
        rng = random.Random(derive_seed(self.seed, "opening", index))
        board = chess.Board()
        moves = []
        with chess.polyglot.open_reader(self.path) as reader:
            for _ in range(self.depth):
                try:
                    move = reader.weighted_choice(board, random=rng).move
                except IndexError:  # no (weighted) entry: the book line ends here
                    break
                # A corrupt book could hold an illegal move; a line that ends the game leaves nothing to play.
                if not board.is_legal(move):
                    break
                board.push(move)
                if board.is_game_over():
                    board.pop()
                    break
                moves.append(move.uci())
        return Opening(tuple(moves))

    def describe(self) -> str:
        return f"book {self.path} depth {self.depth}"


def _check_index(index: int) -> None:
    if index < 0:
        raise ValueError(f"opening index must be 0 or more, got {index}")


def load_openings(config: dict[str, Any] | None, seed: int, source: str, base_dir: Base | Path) -> Openings:
    """Build the openings a league's ``openings:`` mapping describes, checking every key and file.

    ``source`` names the league file in error messages; relative paths are
    relative to ``base_dir`` (the league file's folder). Raises
    :class:`ConfigError` for anything invalid, with the key path
    (``openings.plies``) and a fix.
    """
    if config is None:
        return RandomOpenings(DEFAULT_PLIES, seed, source)
    if not isinstance(config, dict):
        raise key_error(source, "openings", f"{config!r} must be a mapping with a 'type' key, "
                                            f"e.g. {{type: random, plies: 8}}")
    # The type decides which keys the rest may hold, so it is read on its own first.
    given = {"type": config["type"]} if "type" in config else {}
    kind = read_keys(OpeningsType, given, source, "openings").type
    section = read_keys(SECTIONS[kind], config, source, "openings")
    if isinstance(section, RandomSection):
        return RandomOpenings(section.plies, seed, source)
    if isinstance(section, BookSection):
        return _load_book(section, seed, source, base_dir)
    if isinstance(section, FileSection):
        return _load_file(section, seed, source, base_dir)
    return NoOpenings()


def parse_openings(text: str, seed: int) -> Openings:
    """Openings from the command line: ``none``, ``random:plies=4``, ``book:depth=8[,path=...]``, ``file:path=x.pgn``."""
    from arena.spec import parse_player_spec  # the same ``type:key=value`` syntax as player specs

    spec = parse_player_spec(text)
    return load_openings({"type": spec.type, **spec.options}, seed, "--openings", Base.cwd())


def _resolve(value: str | Path, source: str, base_dir: Base | Path) -> Path:
    """The ``path`` key as an existing file, relative paths taken from ``base_dir``."""
    base = Base.coerce(base_dir)
    path = base.path(value)
    if not path.is_file():
        raise ConfigError(f"{source}: openings.path: {base.missing(value, path)}")
    return path


def _load_book(section: BookSection, seed: int, source: str, base_dir: Base | Path) -> BookOpenings:
    if section.path is not None:
        path = _resolve(section.path, source, base_dir)
    elif DEBIAN_BOOK.is_file():
        path = DEBIAN_BOOK
    else:
        raise ConfigError(
            f"{source}: openings.path is not set and the default book {str(DEBIAN_BOOK)!r} is missing; "
            f"install it with 'apt-get install gnuchess-book', or set openings.path to a Polyglot book"
        )
    if path.stat().st_size == 0:
        raise ConfigError(f"{source}: openings.path: the book {str(path)!r} is empty; give a Polyglot book")
    # Fail at load time, not in the middle of a league, when the file is no book at all.
    try:
        with chess.polyglot.open_reader(path) as reader:
            has_start = any(True for _ in reader.find_all(chess.Board()))
    except OSError as error:
        raise ConfigError(
            f"{source}: openings.path: {str(path)!r} is not a Polyglot book ({error}); give a .bin book"
        ) from None
    if not has_start:
        raise ConfigError(
            f"{source}: openings.path: the book {str(path)!r} has no move for the standard start position; "
            f"is it a Polyglot book of standard chess?"
        )
    return BookOpenings(path, section.depth, seed)


def _load_file(section: FileSection, seed: int, source: str, base_dir: Base | Path) -> FileOpenings:
    path = _resolve(section.path, source, base_dir)
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise ConfigError(
            f"{source}: openings.path: {str(path)!r} has extension {path.suffix or '(none)'!r}; "
            f"openings files must be {' or '.join(FILE_SUFFIXES)} (for a Polyglot book use 'type: book')"
        )
    # PGN files in the wild are often Latin-1; a stray byte should not lose the whole file.
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if not text.strip():
        raise ConfigError(f"{source}: openings.path: {str(path)!r} is empty; it needs at least one opening")

    reader = _read_pgn if suffix == ".pgn" else _read_epd
    openings: list[Opening] = []
    problems: list[str] = []
    for item in reader(text, section.plies):
        if isinstance(item, str):
            problems.append(item)
        else:
            openings.append(item)
    if not openings:
        first = f"; the first problem: {problems[0]}" if problems else ""
        raise ConfigError(
            f"{source}: openings.path: {str(path)!r} holds no usable opening "
            f"({len(problems)} skipped){first}; fix the file or point openings.path at another"
        )
    return FileOpenings(path, tuple(openings), section.order, seed, section.plies, len(problems))


def _read_pgn(text: str, plies: int | None) -> Iterator[Opening | str]:
    """Each game's mainline as an Opening, or a string saying why the game was skipped."""
    from arena.rating.pgn_games import read_games  # PGN reading is for the parent: workers never load it

    for number, game in read_games(io.StringIO(text)):
        if game.errors:
            yield f"game {number}: {game.errors[0]}"
            continue
        try:
            board = game.board()
        except ValueError as error:
            yield f"game {number}: bad FEN header: {error}"
            continue
        if type(board) is not chess.Board or board.chess960:
            yield f"game {number}: variant {game.headers.get('Variant', '?')!r} is not standard chess"
            continue
        fen = board.fen() if "FEN" in game.headers else None
        moves = tuple(move.uci() for move in game.mainline_moves())[:plies]
        if fen is None and not moves:
            yield f"game {number}: no moves and no FEN header"
            continue
        yield _checked(Opening(moves, fen, _pgn_name(game.headers)), f"game {number}")


def _pgn_name(headers: chess.pgn.Headers) -> str:
    """``C60 Ruy Lopez: Berlin`` from the ECO, Opening and Variation tags, as far as they are set."""

    def tag(name: str) -> str:
        value = headers.get(name, "").strip()
        return "" if value in ("?", "-") else value

    name = " ".join(part for part in (tag("ECO"), tag("Opening")) if part)
    return f"{name}: {tag('Variation')}" if name and tag("Variation") else name


def _read_epd(text: str, plies: int | None) -> Iterator[Opening | str]:
    """Each non-empty line's position as an Opening, or a string saying why the line was skipped."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            board, operations = chess.Board.from_epd(line)
        except ValueError as error:
            yield f"line {number}: {error}"
            continue
        name = operations.get("id", "")
        yield _checked(Opening((), board.fen(), str(name)), f"line {number}")


def _checked(opening: Opening, where: str) -> Opening | str:
    """The opening if its position is valid, its moves legal and the game not over at its end."""
    try:
        board = opening.board()
    except ValueError as error:
        return f"{where}: {error}"
    if not board.is_valid():
        return f"{where}: {board.fen()!r} is not a legal position"
    if board.is_game_over():
        return f"{where}: the game is over after the opening ({board.outcome().termination.name.lower()})"
    return opening

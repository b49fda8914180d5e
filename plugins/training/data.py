"""Training data: games from PGN files (plain, gzip, zstd) or arena run folders, filtered and tokenized.

Files are streamed game by game, never loaded whole. Each kept game becomes
its tokens (the paper's characters, ``;1.e4 e5 2.Nf3 ...``, or one token
per move); a split's shard is the games' tokens back to back (``NAME.bin``,
one byte per token for characters, two for moves) with the offset of every
game's start (``NAME.starts.npy``), so training blocks can begin at a game start.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Iterator, TextIO

import chess
import numpy as np
import yaml
from pydantic import Field

from arena import Result
from arena.errors import ConfigError
from arena.rating.pgn_games import read_games
from arena.league.store import JSONL_NAME, read_records
from arena_plugins.transformer.tokenizer import CharTokenizer, Tokenizer, tokenizer_from_dict

#: The shipped league files: a run source that is one of their run folders is filled by that league.
SHIPPED_CONFIGS = Path(__file__).resolve().parents[2] / "configs"

#: Lichess's speed classes by estimated duration (base + 40 x increment, seconds).
SPEEDS = (("ultrabullet", 29), ("bullet", 179), ("blitz", 479), ("rapid", 1499), ("classical", float("inf")))


@dataclass(frozen=True)
class Filters:
    """Which games to keep; a game must pass all of them."""

    max_rating: int | None = None  #: both players at or below (the paper's rating cap)
    min_rating: int | None = None  #: both players at or above
    speeds: tuple[str, ...] = ()  #: e.g. ("blitz", "rapid"); empty keeps all
    min_moves: Annotated[int, Field(ge=0)] = 1  #: full moves


@dataclass
class Game:
    """One candidate game: its moves (and their SAN), result, players' ratings and time control."""

    moves: list[chess.Move]
    sans: list[str]
    result: str
    ratings: tuple[float | None, float | None]
    time_control: str = "-"
    names: tuple[str, str] = ("?", "?")  #: White's and Black's names
    book_plies: int = 0  #: leading moves an opening forced, not chosen by the players


@dataclass
class Summary:
    """Games kept and dropped, by reason."""

    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    malformed: list[str] = field(default_factory=list)
    tokens: int = 0

    def describe(self) -> str:
        lines = [f"kept {self.kept} games ({self.tokens} tokens)"]
        for reason, count in sorted(self.dropped.items()):
            lines.append(f"dropped {count}: {reason}")
        return "\n".join(lines)


def speed_of(time_control: str) -> str | None:
    """Lichess's speed class of a PGN TimeControl such as '180+2' (None when there is none)."""
    match = re.fullmatch(r"(\d+)\+(\d+)", time_control or "")
    if not match:
        return None
    estimate = int(match.group(1)) + 40 * int(match.group(2))
    return next(name for name, limit in SPEEDS if estimate <= limit)


def open_text(path: Path) -> TextIO:
    """A text stream over a .pgn, .pgn.gz or .pgn.zst file, decompressed as it is read."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    if path.suffix == ".zst":
        import zstandard

        raw = open(path, "rb")
        return io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True),
                                encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _rating(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "?") else None
    except ValueError:
        return None


def pgn_games(path: Path, summary: Summary) -> Iterator[Game]:
    """The games of a PGN file; malformed ones are counted, reported and skipped."""
    with open_text(path) as handle:
        for number, game in read_games(handle):
            if game.errors:
                summary.dropped["malformed"] += 1
                summary.malformed.append(f"{path} game {number}: {game.errors[0]}")
                continue
            if game.headers.get("FEN") or game.headers.get("Variant", "Standard").lower() not in ("standard", "chess"):
                summary.dropped["not from the standard start"] += 1
                continue
            board = game.board()
            moves, sans = [], []
            for move in game.mainline_moves():
                moves.append(move)
                sans.append(board.san(move))
                board.push(move)
            headers = game.headers
            yield Game(moves, sans, headers.get("Result", "*"),
                       (_rating(headers.get("WhiteElo")), _rating(headers.get("BlackElo"))),
                       headers.get("TimeControl", "-"), (headers.get("White", "?"), headers.get("Black", "?")))


def run_folder_games(folder: Path, ratings: dict[str, float], summary: Summary) -> Iterator[Game]:
    """The games of an arena run folder; players' ratings come from ``ratings`` or its standings.json."""
    if not ratings and (folder / "standings.json").exists():
        ratings = {row["player"]: row["rating"] for row in json.loads((folder / "standings.json").read_text())
                   if row.get("rating") is not None}
    for record in read_records(folder):
        if record.start_fen:
            summary.dropped["not from the standard start"] += 1
            continue
        if record.termination.is_forfeit:
            summary.dropped["forfeited (illegal move, crash, timeout)"] += 1
            continue
        tc = record.white.time_control or "-"
        yield Game([chess.Move.from_uci(move.uci) for move in record.moves], [move.san for move in record.moves],
                   record.result,
                   (ratings.get(record.white.name), ratings.get(record.black.name)), tc,
                   (record.white.name, record.black.name), sum(move.book for move in record.moves))


def keep(game: Game, filters: Filters, summary: Summary) -> bool:
    """Whether a game passes the filters; the reason it does not is counted."""
    reason = None
    white, black = game.ratings
    if game.result not in {result.value for result in Result}:
        reason = "unfinished (no result)"
    elif (len(game.sans) + 1) // 2 < filters.min_moves:
        reason = f"shorter than {filters.min_moves} moves"
    elif (filters.max_rating is not None or filters.min_rating is not None) and (white is None or black is None):
        reason = "a player's rating is unknown"
    elif filters.max_rating is not None and max(white, black) > filters.max_rating:  # type: ignore[type-var]
        reason = f"a player rated above {filters.max_rating}"
    elif filters.min_rating is not None and min(white, black) < filters.min_rating:  # type: ignore[type-var]
        reason = f"a player rated below {filters.min_rating}"
    elif filters.speeds and speed_of(game.time_control) not in filters.speeds:
        reason = f"time control not {'/'.join(filters.speeds)}"
    if reason is not None:
        summary.dropped[reason] += 1
        return False
    return True


@dataclass
class Shards:
    """Where a prepared data set lies, and what it holds."""

    folder: Path

    def tokens(self, split: str) -> np.ndarray:
        """A split's tokens, memory-mapped (a split can be empty)."""
        path = self.folder / f"{split}.bin"
        dtype = token_dtype(self.tokenizer())
        if path.stat().st_size == 0:
            return np.zeros(0, dtype=dtype)
        return np.memmap(path, dtype=dtype, mode="r")

    def starts(self, split: str) -> np.ndarray:
        return np.load(self.folder / f"{split}.starts.npy")

    def meta(self) -> dict[str, Any]:
        return json.loads((self.folder / "meta.json").read_text())

    def tokenizer(self) -> Tokenizer:
        return tokenizer_from_dict(self.meta()["tokenizer"])


def token_dtype(tokenizer: Tokenizer) -> type:
    """The narrowest unsigned integer that holds every token id."""
    return np.uint8 if tokenizer.size <= 256 else np.uint16


def prepare(
    sources: list[dict[str, Any]],
    filters: Filters,
    out: Path,
    validation: float = 0.05,
    seed: int = 0,
    tokenizer: Tokenizer = CharTokenizer(),
) -> Summary:
    """Stream every source, keep the games that pass, and write train/val shards to ``out``.

    A source is ``{path: FILE.pgn[.gz|.zst]}`` or ``{run: RUN_FOLDER, ratings: {name: rating}}``.
    Each game goes to validation with probability ``validation`` (seeded).
    """
    for source in sources:  # a missing source is reported before anything is written
        check_source(source)
    out.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    rng = random.Random(seed)
    dtype = token_dtype(tokenizer)
    writers = {split: open(out / f"{split}.bin.tmp", "wb") for split in ("train", "val")}
    starts: dict[str, list[int]] = {"train": [], "val": []}
    offsets = {"train": 0, "val": 0}
    try:
        for source in sources:
            for game in _games(source, summary):
                if not keep(game, filters, summary):
                    continue
                try:
                    tokens = tokenizer.game(game.moves, game.sans)
                except ValueError as error:
                    summary.dropped["tokens outside the vocabulary"] += 1
                    summary.malformed.append(str(error))
                    continue
                split = "val" if rng.random() < validation else "train"
                starts[split].append(offsets[split])
                writers[split].write(np.array(tokens, dtype=dtype).tobytes())
                offsets[split] += len(tokens)
                summary.kept += 1
                summary.tokens += len(tokens)
    finally:
        for handle in writers.values():
            handle.close()
    if summary.kept == 0:
        raise ConfigError(f"no game passed the filters; {summary.describe()}")
    for split in ("train", "val"):
        (out / f"{split}.bin.tmp").replace(out / f"{split}.bin")
        np.save(out / f"{split}.starts.npy", np.array(starts[split], dtype=np.int64))
    meta = {
        "tokenizer": tokenizer.to_dict(),
        "games": {split: len(starts[split]) for split in starts},
        "tokens": offsets,
        "dropped": dict(summary.dropped),
        "filters": filters.__dict__,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return summary


def _games(source: dict[str, Any], summary: Summary) -> Iterator[Game]:
    check_source(source)
    if "path" in source:
        return pgn_games(Path(source["path"]), summary)
    return run_folder_games(Path(source["run"]), dict(source.get("ratings") or {}), summary)


def check_source(source: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` unless the source's PGN file or run folder is there to read."""
    if "path" in source:
        path = Path(source["path"])
        if not path.is_file():
            raise ConfigError(f"data source {_shown(path)!r} does not exist; give a PGN file (.pgn, .pgn.gz, .pgn.zst)")
        return
    folder = Path(source["run"])
    if (folder / JSONL_NAME).is_file():
        return
    if not folder.exists():
        problem = "does not exist"
    else:
        problem = f"is not an arena run folder (no {JSONL_NAME})"
        inside = sorted(run.parent.name for run in folder.glob(f"*/{JSONL_NAME}"))
        if inside:  # a study's folder holds run folders: the source should name one of them
            problem += f"; the run folders in it are {', '.join(inside)}"
    raise ConfigError(f"data source {_shown(folder)!r} {problem}: play a league into it first "
                      f"({league_command(folder)})")


def league_command(folder: Path) -> str:
    """The command that plays games into ``folder``: a shipped league's own when that is its run folder."""
    target = Path(os.path.abspath(folder))
    for config, out in shipped_leagues():
        # A league writes its out relative to where arena runs: from the project's root, as its comments say.
        if target in (Path(os.path.abspath(out)), Path(os.path.abspath(SHIPPED_CONFIGS.parent / out))):
            needs_out = Path(os.path.abspath(out)) != target
            return f"arena league {_shown(config)}" + (f" --out {_shown(target)}" if needs_out else "")
    return f"arena league LEAGUE.yaml --out {_shown(target)}"


def shipped_leagues() -> Iterator[tuple[Path, Path]]:
    """Each shipped league file with its run folder (``out``, default ``results/NAME``)."""
    for config in sorted(SHIPPED_CONFIGS.glob("*.yaml")):
        try:
            data = yaml.safe_load(config.read_text())
        except (OSError, yaml.YAMLError):
            continue  # a broken shipped file must not hide the error being reported
        if not isinstance(data, dict) or "players" not in data:
            continue  # a study or a training recipe, not a league
        yield config, Path(str(data.get("out") or Path("results") / str(data.get("name") or config.stem)))


def _shown(path: Path) -> str:
    """A path as a user would type it here: relative to the current folder when under it, else absolute."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith("..") else relative

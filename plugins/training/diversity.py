"""The paper's dataset-diversity measure: how spread the moves played in repeated positions are.

At every position that occurs at least ``min_count`` times in a group's games
(positions are compared without move counters, so transpositions meet), the
moves played there form a distribution; its entropy divided by the log of the
position's number of legal moves (the most any distribution there can have)
is 0 when everyone plays the same move and 1 when every legal move is played
equally often. A group's diversity is the mean over its positions. Moves are
grouped by who made them: everyone, the mover's rating band, or the mover;
the moves an arena opening forced count for no one.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator

import chess
import click

from arena.errors import ConfigError
from arena.wording import rating_band

from arena_plugins.transformer.tokenizer import MoveTokenizer, Tokenizer

from .data import Game, Shards, Summary, pgn_games, run_folder_games


@dataclass(frozen=True)
class Diversity:
    """One group's figures."""

    group: str
    positions: int  #: positions seen at least min_count times (with two or more legal moves)
    moves: int  #: moves played at those positions
    entropy: float | None  #: mean normalized entropy over those positions (None: no such position)
    entropy_nats: float | None  #: mean entropy in nats, not normalized


def normalized_entropy(counts: Counter, legal_moves: int) -> float:
    """The entropy of the moves' empirical distribution over log(legal_moves)."""
    total = sum(counts.values())
    entropy = -sum(count / total * math.log(count / total) for count in counts.values())
    return entropy / math.log(legal_moves)


def _group(game: Game, side: int, by: str, band_width: int) -> tuple[int, str] | None:
    """The group of a side's moves, as (order, label): bands sort by rating, the rest by name."""
    if by == "all":
        return 0, "all"
    if by == "player":
        return 0, game.names[side]
    rating = game.ratings[side]
    if rating is None:
        return None  # no band for a mover of unknown rating
    return rating_band(rating, band_width)


def measure(games: Iterable[Game], min_count: int = 100, by: str = "all", band_width: int = 200) -> list[Diversity]:
    """Each group's diversity over ``games`` (every position of every game)."""
    seen: dict[tuple[int, str], dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    legal: dict[str, int] = {}
    for game in games:
        board = chess.Board()
        for ply, move in enumerate(game.moves):
            group = _group(game, 0 if board.turn == chess.WHITE else 1, by, band_width)
            if group is not None and ply >= game.book_plies:  # an opening's moves are nobody's choice
                key = board.epd()
                seen[group][key][move.uci()] += 1
                if key not in legal:
                    legal[key] = board.legal_moves.count()
            board.push(move)
    rows = []
    for group in sorted(seen):
        kept = [(counts, legal[key]) for key, counts in seen[group].items()
                if sum(counts.values()) >= min_count and legal[key] > 1]
        normalized = [normalized_entropy(counts, n) for counts, n in kept]
        nats = [normalized_entropy(counts, n) * math.log(n) for counts, n in kept]
        rows.append(Diversity(group[1], len(kept), sum(sum(counts.values()) for counts, _ in kept),
                              round(sum(normalized) / len(normalized), 4) if normalized else None,
                              round(sum(nats) / len(nats), 4) if nats else None))
    return rows


def read_games(data: Path, summary: Summary) -> Iterator[Game]:
    """The games of a PGN file (.pgn, .pgn.gz, .pgn.zst), an arena run folder or a prepared
    training-data folder (``arena train``'s shards: no names or ratings)."""
    if data.is_dir():
        if (data / "meta.json").exists() and (data / "train.bin").exists():
            return shard_games(Shards(data), summary)
        if not (data / "games.jsonl").exists():
            raise ConfigError(f"{data}: neither a run folder (games.jsonl) nor a training-data folder "
                              f"(meta.json, train.bin); give one of those or a PGN file")
        return run_folder_games(data, {}, summary)
    if not data.exists():
        raise ConfigError(f"{data}: no such file; give a PGN file or a run folder")
    return pgn_games(data, summary)


def shard_games(shards: Shards, summary: Summary) -> Iterator[Game]:
    """The games of a prepared data set, decoded from their tokens (both splits)."""
    tokenizer = shards.tokenizer()
    for split in ("train", "val"):
        tokens, starts = shards.tokens(split), list(shards.starts(split))
        for number, (start, end) in enumerate(zip(starts, starts[1:] + [len(tokens)])):
            ids = [int(token) for token in tokens[start:end]]
            try:
                moves = _decode(tokenizer, ids)
            except ValueError as error:
                summary.dropped["unreadable"] += 1
                summary.malformed.append(f"{shards.folder} {split} game {number}: {error}")
                continue
            yield Game(moves, [], "*", (None, None))


def _decode(tokenizer: Tokenizer, ids: list[int]) -> list[chess.Move]:
    """A game's moves from its tokens: one per move token, or SAN read from the transcript's characters."""
    board, moves = chess.Board(), []
    if isinstance(tokenizer, MoveTokenizer):
        words = [tokenizer.decode([i]) for i in ids if i != 0]
        read = chess.Move.from_uci
    else:
        words = [re.sub(r"^\d+\.", "", word) for word in tokenizer.decode(ids).lstrip(";").split()]
        read = board.parse_san
    for word in filter(None, words):
        move = read(word)
        if not board.is_legal(move):
            raise ValueError(f"move {word} is not legal in {board.fen()}")
        moves.append(move)
        board.push(move)
    return moves


@click.command("diversity")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--min-count", default=100, show_default=True, type=click.IntRange(min=1),
              help="Positions seen at least this many times count (the paper: 100).")
@click.option("--by", type=click.Choice(["all", "band", "player"]), default="all", show_default=True,
              help="Group moves by everyone, the mover's rating band, or the mover.")
@click.option("--band-width", default=200, show_default=True, type=click.IntRange(min=1),
              help="Rating points per band (--by band).")
@click.option("--json", "as_json", is_flag=True, help="One JSON row per group instead of the table.")
def diversity_command(data, min_count, by, band_width, as_json):
    """The normalized entropy of the moves played at positions seen at least --min-count times,
    in DATA (a PGN file, an arena run folder or a prepared training-data folder)."""
    if by != "all" and data.is_dir() and (data / "meta.json").exists():
        raise ConfigError(f"{data}: a training-data folder keeps no names or ratings; use --by all, "
                          f"or give the PGN file or run folder it was prepared from")
    summary = Summary()
    rows = measure(read_games(data, summary), min_count, by, band_width)
    for problem in summary.malformed:
        click.echo(f"skipped: {problem}", err=True)
    if as_json:
        click.echo(json.dumps([asdict(row) for row in rows]))
        return
    click.echo(f"{'group':<20} {'positions':>9} {'moves':>8} {'entropy':>8} {'nats':>7}")
    for row in rows:
        shown = "-" if row.entropy is None else f"{row.entropy:.4f}"
        nats = "-" if row.entropy_nats is None else f"{row.entropy_nats:.3f}"
        click.echo(f"{row.group:<20} {row.positions:>9} {row.moves:>8} {shown:>8} {nats:>7}")
    click.echo(f"entropy: normalized by log(legal moves), mean over positions seen >= {min_count} times")

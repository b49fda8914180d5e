"""Standings: per-player results and ratings, as a table to print and as CSV, JSON and Markdown files."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from arena.rating.model import GameResult, Rating
from arena.play.record import Forfeit, GameRecord

STANDINGS_FILES = ("standings.csv", "standings.json", "standings.md")


@dataclass
class Standing:
    """One player's results over a set of games, and its ratings by rater name."""

    player: str
    games: int = 0
    wins: int = 0
    draws: int = 0
    losses: int = 0
    distinct: int = 0  #: games that are not a copy of an earlier one (see :func:`distinct_results`)
    illegal_forfeits: int = 0  #: games lost by illegal moves
    fault_forfeits: int = 0  #: games lost by crashes, timeouts, time forfeits and errors
    ratings: dict[str, Rating] = field(default_factory=dict)

    @property
    def points(self) -> float:
        return self.wins + 0.5 * self.draws

    @property
    def score(self) -> float:
        """Points per game, 0..1."""
        return self.points / self.games if self.games else 0.0

    def add(self, points: float, forfeit: Forfeit | None = None) -> None:
        """Count one game in which this player scored ``points``; ``forfeit`` says how a loss was lost."""
        self.games += 1
        if points == 1.0:
            self.wins += 1
        elif points == 0.5:
            self.draws += 1
        else:
            self.losses += 1
            if forfeit == Forfeit.ILLEGAL:
                self.illegal_forfeits += 1
            elif forfeit == Forfeit.FAULT:
                self.fault_forfeits += 1


def results_of(records: Iterable[GameRecord]) -> list[GameResult]:
    """The rating view of game records: players, White's points, and how a fault lost the game."""
    results = []
    for record in records:
        moves = game_text(record.start_fen, [move.uci for move in record.moves])
        results.append(GameResult(record.white.name, record.black.name, record.result.white_points,
                                  record.forfeit, moves, pair_of(record.game_id)))
    return results


def game_text(start_fen: str | None, moves: list[str]) -> str:
    """What identifies a game's play: its start position and its moves; ``""`` (unknown) without moves,
    as in a results-only PGN, where equal results of two players are no copies of one game."""
    return f"{start_fen or 'startpos'} moves {' '.join(moves)}" if moves else ""


def pair_of(game_id: str) -> str:
    """The colour-swapped pair of a game: ids ``A|B|N`` (leagues) or ``N`` (``arena play``), N = 2k+1 and 2k+2 share pair k."""
    first, _, number = game_id.rpartition("|")
    if not number.isdigit() or int(number) < 1:
        return ""
    return f"{first}|{(int(number) - 1) // 2}"


def copy_key(result: GameResult) -> tuple | None:
    """What a copy of this game has in common with it: players, colours, moves and result; None when
    the moves are unknown (as in a results-only PGN), where no game is taken for a copy."""
    if not result.moves:
        return None
    return (result.white, result.black, result.moves, result.score, result.forfeit)


def distinct_results(results: Iterable[GameResult]) -> list[GameResult]:
    """The results without copies: a game with the same players, colours, moves and result as an
    earlier one is the same game played again (deterministic players from the same start) and tells
    nothing new, so raters count it once. Games whose moves are unknown are all kept."""
    seen: set[tuple] = set()
    kept = []
    for result in results:
        key = copy_key(result)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        kept.append(result)
    return kept


def standings(results: Iterable[GameResult], ratings: dict[str, list[Rating]] | None = None) -> list[Standing]:
    """Per-player standings, ordered by the first rater's rating when there is one, else by score."""
    results = list(results)
    table: dict[str, Standing] = {}
    for result in results:
        for name, points in ((result.white, result.score), (result.black, 1.0 - result.score)):
            table.setdefault(name, Standing(name)).add(points, result.forfeit)
    for result in distinct_results(results):
        for name in (result.white, result.black):
            table[name].distinct += 1
    for rater, rows in (ratings or {}).items():
        for rating in rows:
            if rating.player in table:
                table[rating.player].ratings[rater] = rating
    first = next(iter(ratings), None) if ratings else None

    def order(row: Standing) -> tuple:
        rated = row.ratings.get(first) if first else None
        return (-(rated.rating if rated else float("-inf")), -row.score, -row.games, row.player)

    return sorted(table.values(), key=order)


def copies_note(rows: list[Standing]) -> str | None:
    """One line naming the players whose games repeat, or None when every game is distinct."""
    repeated = [row for row in rows if row.distinct < row.games]
    if not repeated:
        return None
    listed = ", ".join(f"{row.player} {row.distinct} of {row.games}" for row in repeated)
    return (f"repeated games: distinct games per player: {listed}; a game replayed move for move "
            f"counts once in the ratings (vary the openings for more distinct games)")


def _raters(rows: list[Standing]) -> list[str]:
    names: list[str] = []
    for row in rows:
        names.extend(name for name in row.ratings if name not in names)
    return names


def _cells(row: Standing, rank: int, raters: list[str]) -> list[str]:
    cells = [str(rank), row.player]
    for rater in raters:
        rating = row.ratings.get(rater)
        if rating is None:
            cells += ["-", "-"]
        elif rating.anchored:
            cells += [f"{rating.rating:.0f}", "anchor"]
        else:
            cells += [f"{rating.rating:.0f}", f"[{rating.low:.0f}, {rating.high:.0f}]"]
    forfeits = f"{row.illegal_forfeits}/{row.fault_forfeits}"
    return cells + [str(row.games), str(row.distinct), f"{100 * row.score:.1f}%", str(row.wins), str(row.draws), str(row.losses), forfeits]


def _header(raters: list[str]) -> list[str]:
    header = ["#", "player"]
    for rater in raters:
        header += [rater, "95% interval"]
    return header + ["games", "distinct", "score", "W", "D", "L", "forfeits (illegal/fault)"]


def format_standings(rows: list[Standing]) -> str:
    """A plain-text table: rank, player, each rater's rating and 95% interval, games, distinct games, score,
    W/D/L, forfeits. Ratings rest on the distinct games only."""
    raters = _raters(rows)
    table = [_header(raters)] + [_cells(row, rank, raters) for rank, row in enumerate(rows, 1)]
    return text_table(table, left={1})  # the player column reads better left-aligned


def text_table(table: list[list[str]], left: set[int]) -> str:
    """Aligned plain-text columns two spaces apart: columns in ``left`` left-aligned (names), the rest
    right-aligned, so that columns of numbers line up. ``table[0]`` is the header."""
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i in left else cell.rjust(widths[i]) for i, cell in enumerate(line)).rstrip()
        for line in table
    )


def markdown_table(table: list[list[str]]) -> str:
    """A Markdown table (``table[0]`` is the header), ending in a newline."""
    lines = ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    lines += ["| " + " | ".join(line) + " |" for line in table[1:]]
    return "\n".join(lines) + "\n"


def standings_json(rows: list[Standing]) -> list[dict]:
    """One object per player: player, rating, low, high, games, score (first rater), then everything else."""
    raters = _raters(rows)
    objects = []
    for rank, row in enumerate(rows, 1):
        first = row.ratings.get(raters[0]) if raters else None
        objects.append({
            "rank": rank,
            "player": row.player,
            "rating": first.rating if first else None,
            "low": first.low if first else None,
            "high": first.high if first else None,
            "games": row.games,
            "distinct": row.distinct,
            "score": row.score,
            "wins": row.wins,
            "draws": row.draws,
            "losses": row.losses,
            "illegal_forfeits": row.illegal_forfeits,
            "fault_forfeits": row.fault_forfeits,
            "anchored": bool(first and first.anchored),
            "ratings": {name: row.ratings[name].to_dict() for name in raters if name in row.ratings},
        })
    return objects


def write_standings(folder: Path, rows: list[Standing], notes: Iterable[str] = ()) -> list[Path]:
    """standings.csv, standings.json and standings.md (which ends with ``notes``) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    raters = _raters(rows)
    paths = [folder / name for name in STANDINGS_FILES]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["rank", "player"] + [f"{r}_{part}" for r in raters for part in ("rating", "low", "high")]
                    + ["games", "distinct", "score", "wins", "draws", "losses", "illegal_forfeits", "fault_forfeits"])
    for rank, row in enumerate(rows, 1):
        values: list[object] = [rank, row.player]
        for rater in raters:
            rating = row.ratings.get(rater)
            values += [f"{rating.rating:.1f}", f"{rating.low:.1f}", f"{rating.high:.1f}"] if rating else ["", "", ""]
        writer.writerow(values + [row.games, row.distinct, f"{row.score:.4f}", row.wins, row.draws, row.losses,
                                  row.illegal_forfeits, row.fault_forfeits])
    paths[0].write_text(buffer.getvalue())
    paths[1].write_text(json.dumps(standings_json(rows), indent=2) + "\n")
    table = markdown_table([_header(raters)] + [_cells(row, rank, raters) for rank, row in enumerate(rows, 1)])
    paths[2].write_text(table + "".join(f"\n{line}\n" for line in notes))
    return paths

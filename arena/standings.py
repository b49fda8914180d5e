"""Standings from game records: games, wins, draws, losses, score and forfeits per player."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from arena.record import GameRecord, Termination


@dataclass
class Standing:
    """One player's results over a set of games."""

    player: str
    games: int = 0
    wins: int = 0
    draws: int = 0
    losses: int = 0
    illegal_forfeits: int = 0  #: games lost by illegal moves
    fault_forfeits: int = 0  #: games lost by crashes, timeouts, time forfeits and errors

    @property
    def points(self) -> float:
        return self.wins + 0.5 * self.draws

    @property
    def score(self) -> float:
        """Points per game, 0..1."""
        return self.points / self.games if self.games else 0.0


def standings(records: Iterable[GameRecord]) -> list[Standing]:
    """Per-player standings, best score first."""
    table: dict[str, Standing] = {}
    for record in records:
        for entry in (record.white, record.black):
            row = table.setdefault(entry.name, Standing(entry.name))
            row.games += 1
            points = record.score_for(entry.name)
            if points == 1.0:
                row.wins += 1
            elif points == 0.0:
                row.losses += 1
                if record.termination is Termination.ILLEGAL_MOVE:
                    row.illegal_forfeits += 1
                elif record.termination.is_forfeit:
                    row.fault_forfeits += 1
            else:
                row.draws += 1
    return sorted(table.values(), key=lambda row: (-row.score, -row.games, row.player))


def leader(rows: list[Standing]) -> str:
    """'name 7.5/10' for the player with the most points, for progress displays."""
    if not rows:
        return "-"
    best = max(rows, key=lambda row: (row.points, row.score))
    return f"{best.player} {best.points:g}/{best.games}"


def format_standings(rows: list[Standing]) -> str:
    """A plain-text table."""
    width = max([len("player")] + [len(row.player) for row in rows])
    lines = [f"{'#':>3}  {'player':<{width}}  {'games':>5}  {'W':>4} {'D':>4} {'L':>4}  {'score':>6}  forfeits"]
    for rank, row in enumerate(rows, 1):
        forfeits = f"{row.illegal_forfeits} illegal, {row.fault_forfeits} faults" if (
            row.illegal_forfeits or row.fault_forfeits) else "-"
        lines.append(
            f"{rank:>3}  {row.player:<{width}}  {row.games:>5}  {row.wins:>4} {row.draws:>4} {row.losses:>4}"
            f"  {100 * row.score:>5.1f}%  {forfeits}"
        )
    return "\n".join(lines)

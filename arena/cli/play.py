"""``arena play``: a match between two players."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from arena.game import GameRules
from arena.match import Match
from arena.openings import DEFAULT_PLIES, parse_openings
from arena.results import JSONL_NAME, PGN_NAME, ResultsWriter
from arena.seeds import fresh_seed
from arena.spec import parse_player_spec
from arena.standings import Standing


@click.command()
@click.argument("first", metavar="WHITE")
@click.argument("second", metavar="BLACK")
@click.option("-n", "--games", default=2, show_default=True, type=click.IntRange(min=1), help="Games to play.")
@click.option("--out", type=click.Path(file_okay=False), help="Run folder [default: results/play-TIMESTAMP].")
@click.option("--seed", type=int, help="Master seed; the same seed replays the same games [default: random].")
@click.option("--max-moves", type=click.IntRange(min=1), help="Stop after this many moves and score a draw.")
@click.option(
    "--illegal-attempts",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Illegal replies allowed per position before the game is forfeited.",
)
@click.option(
    "--openings",
    "openings_text",
    default=f"random:plies={DEFAULT_PLIES}",
    show_default=True,
    help="Where each colour-swapped pair starts: none, random:plies=N, book:depth=N[,path=BOOK], file:path=FILE.",
)
@click.option("--force", is_flag=True, help="Replace games already in the run folder.")
@click.pass_obj
def play(app, first, second, games, out, seed, max_moves, illegal_attempts, openings_text, force):
    """Play GAMES games between two players, alternating colours.

    WHITE plays White in the first game. A player is a spec such as
    'random', 'stockfish:skill=3,nodes=2000' or
    'uci:command=ethereal-chess,movetime=50', or a YAML file with a 'type' key.
    """
    specs = parse_player_spec(first), parse_player_spec(second)
    seed = fresh_seed() if seed is None else seed
    folder = Path(out or f"results/play-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    rules = GameRules(max_moves=max_moves, illegal_attempts=illegal_attempts)
    openings = parse_openings(openings_text, seed)
    score = Standing(specs[0].describe())
    names = (specs[0].describe(), specs[1].describe())
    try:
        with Match(*specs, plugins=app.plugins) as match, ResultsWriter(folder, overwrite=force) as writer:
            names = one, two = match.names
            click.echo(f"{one} vs {two}, {games} games, seed {seed}, openings: {openings.describe()}, writing {folder}/")
            for record in match.play(games, seed, rules, openings):
                writer.write(record)
                score.add(record.score_for(one))
                click.echo(
                    f"[{score.games}/{games}] {record.white.name} {record.result} {record.black.name}"
                    f"  ({record.termination.value}, {(record.plies + 1) // 2} moves)"
                    f"  score {one} {score.points:g} - {score.games - score.points:g} {two}"
                )
    except KeyboardInterrupt:
        click.echo(f"interrupted after {score.games} of {games} games; those are saved", err=True)
        _summary(*names, score, folder)
        raise SystemExit(130) from None
    _summary(*names, score, folder)


def _summary(one: str, two: str, score: Standing, folder: Path) -> None:
    percent = 100 * score.points / score.games if score.games else 0.0
    click.echo(
        f"{one} vs {two}: {score.wins} wins, {score.draws} draws, {score.losses} losses "
        f"for {one} ({score.points:g}/{score.games}, {percent:.1f}%)"
    )
    click.echo(f"games: {folder / PGN_NAME}  {folder / JSONL_NAME}")

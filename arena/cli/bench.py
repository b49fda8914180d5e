"""``arena bench``: benchmarks that print figures from one run."""

from __future__ import annotations

import click

from arena.bench import format_league_bench, league_bench


@click.group()
def bench() -> None:
    """Measure arena's speed on this machine."""


@bench.command()
@click.option("--games", default=60, show_default=True, type=click.IntRange(min=2), help="Games (even).")
@click.option("--nodes", default=2000, show_default=True, type=click.IntRange(min=1), help="Nodes per move.")
@click.option("--plies", default=4, show_default=True, type=click.IntRange(min=1), help="Opening plies.")
@click.option("--seed", default=1, show_default=True, type=int, help="Master seed of the league.")
@click.option("--max-moves", default=100, show_default=True, type=click.IntRange(min=1), help="Move cap.")
@click.pass_obj
def league(app, games, nodes, plies, seed, max_moves):
    """Time one Stockfish league three ways: baseline, arena 1 and 2 workers.

    The baseline is a plain python-chess loop playing the same games. Prints
    games and plies per second, the share of wall time spent inside the
    engines, and the ratios between the runs. Compare ratios, not absolute
    speeds: they come from the same run on the same machine.
    """
    # Progress goes to stderr, so stdout holds only the figures.
    figures = league_bench(
        games, nodes, plies, seed, max_moves, app.plugins, progress=lambda line: click.echo(line, err=True)
    )
    click.echo(format_league_bench(figures))


@bench.command("rate")
@click.option("--players", default=100, show_default=True, type=click.IntRange(min=3), help="Players.")
@click.option("--games", default=100_000, show_default=True, type=click.IntRange(min=10), help="Games.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the simulated league.")
@click.pass_obj
def rate(app, players, games, seed):
    """Time each built-in rater on a simulated league and check its intervals against the truth."""
    from arena.rating_bench import format_rating_bench, rating_bench

    click.echo(format_rating_bench(rating_bench(app.plugins, players, games, seed), players, games))

"""``arena bench``: benchmarks that print figures from one run."""

from __future__ import annotations

import click

from arena.bench.executors import executor_bench, format_executor_bench
from arena.bench.fastchess import arena_workers, find_fastchess, format_side_by_side, side_by_side
from arena.bench.league import format_league_bench, league_bench
from arena.cli.options import plugin_option
from arena.errors import ConfigError
from arena.player import TimeControl


@click.group()
def bench() -> None:
    """Measure arena: its speed on this machine, its raters' accuracy, what an SPRT costs."""


@bench.command()
@click.option("--games", default=60, show_default=True, type=click.IntRange(min=2), help="Games (even).")
@click.option("--nodes", default=2000, show_default=True, type=click.IntRange(min=1), help="Nodes per move.")
@click.option("--plies", default=4, show_default=True, type=click.IntRange(min=1), help="Opening plies.")
@click.option("--seed", default=1, show_default=True, type=int, help="Master seed of the league.")
@click.option("--max-moves", default=100, show_default=True, type=click.IntRange(min=1), help="Move cap.")
@click.option("--fastchess", "fastchess_path", default=None, metavar="PATH",
              help="fastchess binary for the side-by-side run (default: env FASTCHESS, fastchess on PATH, "
                   "or ~/.cache/arena-anchors/fastchess).")
@click.option("--no-fastchess", is_flag=True, help="Leave the side-by-side run out even where fastchess is found.")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(min=1),
              help="Games at once in the side-by-side run.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="arena's worker processes in the side-by-side run, each with --concurrency/--workers games in "
                   "flight (default: the most that divide --concurrency, at most one per core).")
@click.option("--tc", default=None, metavar="BASE+INC",
              help="A clock in seconds (e.g. 10+0.1) instead of --nodes, for the side-by-side run: counts time losses.")
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(min=1),
              help="Runs of each tool in the side-by-side run, alternating.")
@click.option("--executor", default=None, metavar="TYPE",
              help="Instead: the league on this executor (e.g. ray) beside local workers, at 2 workers each "
                   "(or --workers), --rounds alternating runs.")
@plugin_option
@click.pass_obj
def league(app, games, nodes, plies, seed, max_moves, fastchess_path, no_fastchess, concurrency, workers, tc,
           rounds, executor):
    """Time one Stockfish league: baseline, arena 1 and 2 workers, and arena beside fastchess.

    The baseline is a plain python-chess loop playing the same games. Prints
    games and plies per second, the share of wall time spent inside the
    engines, and the ratios between the runs. Where a fastchess binary is
    found, both tools then play the same league (openings as EPD, nodes or a
    clock, move cap, games at once) as a user runs them, alternately, and the
    medians' games/s, CPU seconds and time losses are compared. With
    --executor, the league is played on that executor and on local workers
    instead, alternately. Compare ratios, not absolute speeds: they come from
    the same run on the same machine.
    """
    # Progress goes to stderr, so stdout holds only the figures.
    progress = lambda line: click.echo(line, err=True)  # noqa: E731
    if executor is not None:
        bench = executor_bench(executor, games, nodes, plies, seed, max_moves, workers or 2, rounds,
                               app.plugins, progress)
        click.echo(format_executor_bench(bench))
        return
    fastchess = None if no_fastchess else find_fastchess(fastchess_path)
    arena_workers(concurrency, workers)  # a bad split is refused before anything is played
    if tc:
        TimeControl.parse(tc)  # a bad clock is the user's error, not a temporary league file's
        if fastchess is None:
            raise ConfigError("--tc is for the side-by-side run with fastchess, and none was found: "
                              "build it with ../shared/anchors/build.sh or give --fastchess PATH")
    else:
        click.echo(format_league_bench(league_bench(games, nodes, plies, seed, max_moves, app.plugins, progress)))
    if fastchess is None:
        if not no_fastchess:
            click.echo("\nno fastchess found (build it with ../shared/anchors/build.sh, or give --fastchess PATH): "
                       "no side-by-side run")
        return
    result = side_by_side(fastchess, games, None if tc else nodes, tc, plies, seed, max_moves, concurrency,
                          rounds, progress, workers)
    click.echo(("\n" if not tc else "") + format_side_by_side(result))


def _scale(text: str) -> tuple[float, float]:
    """``CENTRE:ANCHOR`` (or one number for both) from the command line."""
    centre, _, anchor = text.partition(":")
    try:
        return float(centre), float(anchor or centre)
    except ValueError:
        message = f"{text!r} is not CENTRE:ANCHOR, e.g. 1800:1500"
        raise click.BadParameter(message, param_hint="--scale") from None


@bench.command("rate")
@click.option("--players", default=100, show_default=True, type=click.IntRange(min=3),
              help="Players of the speed league.")
@click.option("--games", default=100_000, show_default=True, type=click.IntRange(min=10),
              help="Games of the speed league.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the speed league.")
@click.option("--scale", "scales", multiple=True, metavar="CENTRE:ANCHOR",
              help="A population centre and the anchor's rating for the accuracy lists (repeatable; "
                   "default 3200:3200 and 1800:1500).")
@click.option("--seeds", default=5, show_default=True, type=click.IntRange(min=0),
              help="Simulated lists per scale (0: speed only).")
@click.option("--list-players", default=40, show_default=True, type=click.IntRange(min=3),
              help="Players per list.")
@click.option("--list-games", default=20_000, show_default=True, type=click.IntRange(min=10),
              help="Games per list.")
@click.option("--white-advantage", default=30.0, show_default=True, type=float,
              help="White's true advantage in the lists.")
@click.option("--white-share", default=0.5, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="How often the stronger player of a game has White (0.5: colours at random).")
@click.option("--rater", "rater_items", multiple=True, metavar="SPEC",
              help="Rater to measure, e.g. 'glicko2:white_advantage=false' "
                   "(repeatable; default: the built-ins).")
@click.option("--ordo", "ordo_path", default=None, metavar="PATH",
              help="Ordo binary (default: env ORDO, ordo on PATH, or ~/.cache/arena-anchors/ordo).")
@click.option("--no-ordo", is_flag=True, help="Leave Ordo out even where it is found.")
@click.option("--ordo-simulations", default=500, show_default=True, type=click.IntRange(min=10),
              help="Ordo's -s: simulated replays for its error bars.")
@plugin_option
@click.pass_obj
def rate(app, players, games, seed, scales, seeds, list_players, list_games, white_advantage, white_share,
         rater_items, ordo_path, no_ordo, ordo_simulations):
    """Check each rater against the truth on simulated rating lists, beside Ordo, and time it.

    Accuracy: per scale, ``--seeds`` lists like a real rating list (sparse
    pairings between players near in strength, a white advantage, one
    anchor); each rater's RMSE, mean error (bias) and 95% interval coverage,
    beside Ordo's on the same games (-a/-A anchor, -W, -D, -s) when Ordo is
    found. Speed: seconds to rate ``--players`` players and ``--games`` games.
    """
    from arena.rating.rate import build_raters
    from arena.bench.rating import (DEFAULT_RATERS, DEFAULT_SCALES, accuracy_bench, find_ordo,
                                    format_accuracy_bench, format_rating_bench, rating_bench)

    items = rater_items or DEFAULT_RATERS
    if seeds:
        ordo = None if no_ordo else find_ordo(ordo_path)
        figures = accuracy_bench(
            build_raters(items, app.plugins, "--rater"), [_scale(text) for text in scales] or DEFAULT_SCALES,
            seeds, list_players, list_games, white_advantage, ordo, ordo_simulations, white_share,
            progress=lambda line: click.echo(line, err=True),
        )
        click.echo(format_accuracy_bench(figures))
        click.echo()
    timings = rating_bench(build_raters(items, app.plugins, "--rater"), players, games, seed)
    click.echo(format_rating_bench(timings, players, games))


@bench.command("sprt")
@click.option("--sprt", "sprt_text", default="elo0=0,elo1=5", show_default=True, metavar="SPEC",
              help="The test: elo0=,elo1=[,alpha=0.05,beta=0.05,model=normalized|logistic], as in fastchess.")
@click.option("--elo", "true_elos", multiple=True, type=float, metavar="ELO",
              help="A true difference to simulate, in the test's units (repeatable; default 0, elo0, elo1 "
                   "and 2 x elo1).")
@click.option("--runs", default=500, show_default=True, type=click.IntRange(min=1),
              help="Simulated SPRTs per true difference.")
@click.option("--draw-ratio", default=0.5, show_default=True,
              type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
              help="Share of games drawn between equal players.")
@click.option("--bias-sd", default=60.0, show_default=True, type=click.FloatRange(min=0.0),
              help="Spread of the openings' bias for White, in Elo (one draw per colour-swapped pair).")
@click.option("--max-pairs", default=None, type=click.IntRange(min=1),
              help="Stop a run undecided after this many pairs [default: 10 x the fixed-length test's].")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the simulation.")
@plugin_option
def sprt(sprt_text, true_elos, runs, draw_ratio, bias_sd, max_pairs, seed):
    """What an SPRT costs: error rates and pairs to a decision on simulated matches of known strength.

    Per true difference, ``--runs`` simulated SPRTs play colour-swapped pairs
    until the LLR crosses a bound (or ``--max-pairs``): the shares that
    accepted H1 and H0 and that were still open, the mean, median and 90th
    percentile of the pairs played, and the mean over the pairs of the
    fixed-length test with the same alpha and beta at elo0 and elo1.
    """
    from arena.errors import ConfigError
    from arena.rating.headtohead import parse_sprt
    from arena.bench.sprt import draw_elo_for, format_sprt_cost, sprt_cost

    try:
        spec = parse_sprt(sprt_text)  # before anything runs
    except ConfigError as error:
        # parse_sprt's messages begin "sprt"; name the option instead. main() prints it: no traceback, exit 2.
        message = str(error)
        raise ConfigError("--" + message if message.startswith("sprt") else f"--sprt: {message}") from None
    draw_elo = draw_elo_for(draw_ratio, bias_sd)
    cost = sprt_cost(spec, true_elos or None, runs, seed, max_pairs, draw_elo, bias_sd)
    click.echo(format_sprt_cost(cost))

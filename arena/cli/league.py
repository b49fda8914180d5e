"""``arena league`` and ``arena validate``: YAML leagues."""

from __future__ import annotations

import click
from tqdm import tqdm

from arena.league import load_league
from arena.league_run import LeagueRun
from arena.record import GameRecord
from arena.results import JSONL_NAME, PGN_NAME
from arena.schedule import schedule_games
from arena.standings import format_standings, leader, standings


@click.command()
@click.argument("league_file", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Run folder [default: the file's out, or results/NAME].")
@click.option("--fresh", is_flag=True, help="Move games already in the run folder aside and start again.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def league(app, league_file, out, fresh, quiet):
    """Play a league from a YAML file; run it again to resume after an interruption."""
    spec = load_league(league_file, app.plugins, out)
    run = LeagueRun(spec, fresh=fresh)
    total, done = len(run.schedule), len(run.schedule) - len(run.missing)
    resumed = f", {done} already played" if done else ""
    click.echo(
        f"{spec.name}: {len(spec.players)} players, {total} games{resumed}; "
        f"{spec.concurrency} worker(s) x {spec.games_in_flight} game(s) in flight; writing {spec.out}/"
    )
    bar = tqdm(total=total, initial=done, unit="game", disable=quiet, dynamic_ncols=True, smoothing=0.1)
    bar.set_postfix_str(f"leader {leader(standings(run.records))}")

    def progress(record: GameRecord) -> None:
        bar.update(1)
        bar.set_postfix_str(f"leader {leader(standings(run.records))}", refresh=False)

    try:
        run.play(progress)
    except KeyboardInterrupt:
        bar.close()
        click.echo(f"\ninterrupted: {len(run.records)} of {total} games are saved; run the same command to resume")
        _summary(run)
        raise SystemExit(130) from None
    bar.close()
    _summary(run)


def _summary(run: LeagueRun) -> None:
    click.echo(format_standings(standings(run.records)))
    folder = run.league.out
    click.echo(f"games: {folder / PGN_NAME}  {folder / JSONL_NAME}")


@click.command()
@click.argument("league_file", type=click.Path(dir_okay=False))
@click.pass_obj
def validate(app, league_file):
    """Check a league file without playing: print its players and number of games."""
    spec = load_league(league_file, app.plugins)
    games = schedule_games(spec)
    click.echo(f"{spec.source}: league {spec.name!r}, seed {spec.seed}, run folder {spec.out}")
    click.echo(f"players ({len(spec.players)}):")
    for player in spec.players:
        options = ", ".join(f"{key}={value}" for key, value in player.options.items())
        click.echo(f"  {player.name:<24} {player.type}  {options}".rstrip())
    schedule = spec.schedule
    click.echo(f"schedule: {schedule.type}, {schedule.games} games per pairing, {len(games)} games")
    click.echo(f"openings: {spec.openings.describe()}")
    click.echo(f"concurrency: {spec.concurrency} worker(s) x {spec.games_in_flight} game(s) in flight")

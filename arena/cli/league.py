"""``arena league`` and ``arena validate``: YAML leagues."""

from __future__ import annotations

import click
from tqdm import tqdm

from arena.league import League, load_league
from arena.league_run import LeagueRun
from arena.rate import build_raters, games_of, rate_and_report, white_advantage_lines
from arena.record import GameRecord
from arena.results import JSONL_NAME, PGN_NAME
from arena.schedule import schedule_games
from arena.standings import copies_note, format_standings, results_of, standings
from arena.stopping import stop_notes


class _Leader:
    """The player with the most points so far, kept up to date one game at a time."""

    def __init__(self, records: list[GameRecord]):
        self.points: dict[str, float] = {}
        self.games: dict[str, int] = {}
        for record in records:
            self.add(record)

    def add(self, record: GameRecord) -> None:
        for entry in (record.white, record.black):
            self.points[entry.name] = self.points.get(entry.name, 0.0) + record.score_for(entry.name)
            self.games[entry.name] = self.games.get(entry.name, 0) + 1

    def __str__(self) -> str:
        if not self.points:
            return "leader -"
        name = max(self.points, key=lambda player: (self.points[player], -self.games[player]))
        return f"leader {name} {self.points[name]:g}/{self.games[name]}"


@click.command()
@click.argument("league_file", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Run folder [default: the file's out, or results/NAME].")
@click.option("--fresh", is_flag=True, help="Move games already in the run folder aside and start again.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def league(app, league_file, out, fresh, quiet):
    """Play a league from a YAML file; run it again to resume after an interruption."""
    run_league(load_league(league_file, app.plugins, out), fresh, quiet)


def run_league(spec: League, fresh: bool = False, quiet: bool = False) -> LeagueRun:
    """Play (or resume) a validated league with a progress bar, then rate it and print the standings.

    Ctrl-C saves the games played so far, prints the standings and exits with 130.
    """
    run = LeagueRun(spec, fresh=fresh)
    total, done = run.budget, len(run.records)
    resumed = f", {done} already played" if done else ""
    most = "at most " if run.plan else ""
    click.echo(
        f"{spec.name}: {len(spec.players)} players, {most}{total} games{resumed}; "
        f"{spec.concurrency} worker(s) x {spec.games_in_flight} game(s) in flight; writing {spec.out}/"
    )
    leader = _Leader(run.records)
    bar = tqdm(total=total, initial=done, unit="game", disable=quiet, dynamic_ncols=True, smoothing=0.1)
    bar.set_postfix_str(str(leader))

    def progress(record: GameRecord) -> None:
        leader.add(record)
        bar.update(1)
        bar.set_postfix_str(str(leader), refresh=False)

    try:
        run.play(progress)
    except KeyboardInterrupt:
        bar.close()
        click.echo(f"\ninterrupted: {len(run.records)} of {total} games are saved; run the same command to resume")
        click.echo(format_standings(standings(results_of(run.records))))
        raise SystemExit(130) from None
    bar.close()
    _report(spec, run)
    return run


def _report(spec: League, run: LeagueRun) -> None:
    """Rate the finished league, print the standings, write them with the plots, tell the plugins."""
    games = games_of(run.records, spec.source)
    if run.plan is not None:
        games.notes = stop_notes(run.plan.summary(), len(run.records))
    anchors = {**games.anchors, **spec.anchors}
    raters = build_raters(spec.raters, spec.plugins, spec.source)
    report = rate_and_report(games, raters, anchors, spec.out, title=spec.name)
    for line in games.notes:
        click.echo(line)
    click.echo(format_standings(report.rows))
    note = copies_note(report.rows)
    if note:
        click.echo(note)
    if anchors:
        click.echo("anchors: " + ", ".join(f"{name} {rating:g}" for name, rating in sorted(anchors.items())))
    else:
        click.echo("no anchors: ratings are relative, centred on 1500")
    for line in white_advantage_lines(report):
        click.echo(line)
    folder = spec.out
    click.echo(f"games: {folder / PGN_NAME}  {folder / JSONL_NAME}")
    click.echo("standings, pairings and plots: " + "  ".join(str(path) for path in report.files))
    if spec.plugins is not None:
        spec.plugins.hook.league_finished(league=spec, ratings=report.ratings)


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
    click.echo(f"raters: {', '.join(map(str, spec.raters))}")
    if spec.stop is not None:
        rule = ", ".join(f"{key} {value}" for key, value in spec.stop.describe().items() if value is not None)
        click.echo(f"stop: {rule} (the schedule's games per pairing are the cap)")

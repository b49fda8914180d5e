"""``arena league`` and ``arena validate``: YAML leagues."""

from __future__ import annotations

import math
import sys
import time
from typing import Protocol

import click
from tqdm import tqdm

from arena.cli.options import plugin_option
from arena.league.config import League, load_league
from arena.league.run import LeagueRun
from arena.league.server import start_worker_server
from arena.rating.plots import import_in_background
from arena.rating.rate import build_raters, games_of, rate_and_report, white_advantage_lines
from arena.play.record import GameRecord
from arena.league.store import JSONL_NAME, PGN_NAME
from arena.league.schedule import schedule_games
from arena.rating.standings import copies_note, format_standings, results_of, standings
from arena.league.stopping import stop_notes
from arena.wording import plural

#: Without a terminal, a progress line at least this often (seconds) while games finish.
PROGRESS_SECONDS = 10.0


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
@click.option("--quiet", is_flag=True, help="No progress bar (or, without a terminal, no progress lines).")
@click.option("--executor", metavar="TYPE",
              help="Where the games are played: local or ray (or a plugin's) [default: the file's executor, "
                   "or local].")
@plugin_option
@click.pass_obj
def league(app, league_file, out, fresh, quiet, executor):
    """Play a league from a YAML file; run it again to resume after an interruption."""
    if executor in (None, "local"):
        # Unless the arena command started it already: the workers' fork server imports while the file is read.
        start_worker_server(app.plugins.recipe.modules)
    run_league(load_league(league_file, app.plugins, out, executor), fresh, quiet)


def run_league(spec: League, fresh: bool = False, quiet: bool = False) -> LeagueRun:
    """Play (or resume) a validated league with a progress bar, then rate it and print the standings.

    Ctrl-C saves the games played so far, prints the standings and exits with 130.
    """
    run = LeagueRun(spec, fresh=fresh)
    total, done = run.budget, len(run.records)
    resumed = f", {done} already played" if done else ""
    most = "at most " if run.plan else ""
    click.echo(
        f"{spec.name}: {plural(len(spec.players), 'player')}, {most}{plural(total, 'game')}{resumed}; "
        f"{plural(spec.concurrency, 'worker')} x {plural(spec.games_in_flight, 'game')} in flight; "
        f"writing {spec.out}/"
    )
    leader = _Leader(run.records)
    progress = _progress(spec.name, total, done, leader, quiet)

    slots = spec.concurrency * spec.games_in_flight

    def on_record(record: GameRecord) -> None:
        leader.add(record)
        progress.update()
        if total - len(run.records) < slots:
            import_in_background()

    # The report's plotting library loads once fewer games are left than the league plays at once:
    # a core goes idle then, where before it would take CPU from the engines.
    if total - done < slots:
        import_in_background()
    try:
        run.play(on_record)
    except KeyboardInterrupt:
        progress.close()
        click.echo(f"\ninterrupted: {len(run.records)} of {plural(total, 'game')} are saved; "
                   f"run the same command to resume")
        click.echo(format_standings(standings(results_of(run.records))))
        raise SystemExit(130) from None
    progress.close()
    _report(spec, run)
    return run


class _Progress(Protocol):
    def update(self) -> None: ...

    def close(self) -> None: ...


class _Bar:
    """A tqdm bar on a terminal, the leader in its postfix."""

    def __init__(self, total: int, done: int, leader: _Leader):
        self._leader = leader
        self._bar = tqdm(total=total, initial=done, unit="game", dynamic_ncols=True, smoothing=0.1)
        self._bar.set_postfix_str(str(leader))

    def update(self) -> None:
        self._bar.update(1)
        self._bar.set_postfix_str(str(self._leader), refresh=False)

    def close(self) -> None:
        self._bar.close()


class _Lines:
    """Plain progress lines on stderr, for logs: a bar's carriage returns would fill them with noise.

    A line every ``every`` seconds or every tenth of the games, whichever comes first,
    and one for the last game: ``smoke: 40/144 games, leader stockfish-skill5 12/20, 95 s``.
    """

    def __init__(self, name: str, total: int, done: int, leader: _Leader, every: float = PROGRESS_SECONDS):
        self._name, self._total, self._done, self._leader = name, total, done, leader
        self._every = every
        self._step = max(1, math.ceil(total / 10))
        self._start = self._last = time.monotonic()
        self._last_done = done

    def update(self) -> None:
        self._done += 1
        now = time.monotonic()
        if (now - self._last >= self._every or self._done - self._last_done >= self._step
                or self._done >= self._total):
            self._echo(now)

    def _echo(self, now: float) -> None:
        self._last, self._last_done = now, self._done
        click.echo(f"{self._name}: {self._done}/{plural(self._total, 'game')}, {self._leader}, "
                   f"{now - self._start:.0f} s", err=True)

    def close(self) -> None:
        if self._done != self._last_done:
            self._echo(time.monotonic())  # where an interrupted league stopped


class _Silent:
    def update(self) -> None:
        pass

    def close(self) -> None:
        pass



def _progress(name: str, total: int, done: int, leader: _Leader, quiet: bool) -> _Progress:
    """A bar on a terminal, plain lines in a log or pipe (stderr is not a TTY), nothing with --quiet."""
    if quiet:
        return _Silent()
    if _stderr_is_terminal():
        return _Bar(total, done, leader)
    return _Lines(name, total, done, leader)


def _stderr_is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)  # a replaced stderr may have no isatty
    return bool(isatty and isatty())


def _report(spec: League, run: LeagueRun) -> None:
    """Rate the finished league, print the standings, write them with the plots, tell the plugins."""
    games = games_of(run.records, spec.source, spec.plugins)
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
@plugin_option
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
    click.echo(f"schedule: {schedule.type}, {plural(schedule.games, 'game')} per pairing, "
               f"{plural(len(games), 'game')}")
    click.echo(f"openings: {spec.openings.describe()}")
    click.echo(f"concurrency: {spec.describe_concurrency()}")
    click.echo(f"executor: {spec.executor.describe()}")
    click.echo(f"raters: {', '.join(map(str, spec.raters))}")
    if spec.stop is not None:
        rule = ", ".join(f"{key} {value}" for key, value in spec.stop.describe().items() if value is not None)
        click.echo(f"stop: {rule} (the schedule's games per pairing are the cap)")

"""``arena play``: a match between two players; run the same command again to resume it."""

from __future__ import annotations

import datetime
import json
import shlex
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from arena.cli.options import plugin_option
from arena.errors import ResultsError
from arena.play.game import GameRules
from arena.league.manifest import MANIFEST_NAME, Manifest
from arena.play.match import Match
from arena.league.openings import DEFAULT_PLIES, Openings, parse_openings
from arena.play.record import GameRecord
from arena.league.store import JSONL_NAME, PGN_NAME, ResultsWriter, read_records, recover_records
from arena.seeds import fresh_seed
from arena.spec import parse_player_spec
from arena.rating.standings import Standing
from arena.wording import plural

DEFAULT_OPENINGS = f"random:plies={DEFAULT_PLIES}"
#: The manifest key that marks a run folder as arena play's (a league's has ``league``).
MATCH_KEY = "match"


@click.command()
@click.argument("first", metavar="WHITE")
@click.argument("second", metavar="BLACK")
@click.option("-n", "--games", default=2, show_default=True, type=click.IntRange(min=1), help="Games to play.")
@click.option("--out", type=click.Path(file_okay=False), help="Run folder [default: results/play-TIMESTAMP].")
@click.option("--seed", type=int, help="Master seed; the same seed replays the same games [default: the run "
              "folder's, when it holds a match; else random].")
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
    default=DEFAULT_OPENINGS,
    show_default=True,
    help="Where each colour-swapped pair starts: none, random:plies=N, book:depth=N[,path=BOOK], file:path=FILE.",
)
@click.option("--force", is_flag=True, help="Replace the games already in the run folder instead of resuming them.")
@plugin_option
@click.pass_obj
def play(app, first, second, games, out, seed, max_moves, illegal_attempts, openings_text, force):
    """Play GAMES games between two players, alternating colours.

    WHITE plays White in the first game. A player is a spec such as
    'random', 'stockfish:skill=3,nodes=2000' or
    'uci:command=ethereal-chess,movetime=50', or a YAML file with a 'type' key.

    Run the same command again (same players, --seed, rules, openings and
    --out) to resume an interrupted match: the finished games are kept and
    only the missing ones are played. Without --seed, the seed is the run
    folder's.
    """
    specs = parse_player_spec(first), parse_player_spec(second)
    folder = Path(out or f"results/play-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    previous = None if force else previous_match(folder)
    records = [] if force else recover_records(folder)
    seed, seed_note = _seed(seed, previous, records, folder)
    rules = GameRules(max_moves=max_moves, illegal_attempts=illegal_attempts)
    openings = parse_openings(openings_text, seed)
    resume = resume_command(first, second, games, seed, folder, max_moves, illegal_attempts, openings_text,
                            app.plugin_files)
    try:
        with Match(*specs, plugins=app.plugins) as match:
            _check_resume(match, records, previous, games, seed, rules, openings, folder)
            one, two = match.names
            already = f", {len(records)} already played" if records else ""
            click.echo(f"{one} vs {two}, {plural(games, 'game')}{already}, seed {seed}{seed_note}, "
                       f"openings: {openings.describe()}, writing {folder}/")
            facts = match_facts(match, games, seed, rules, openings, openings_text, resume)
            score = _play_missing(match, records, games, seed, rules, openings, folder, facts, force, resume)
    except KeyboardInterrupt:
        # While the players started or stopped: no game was being played.
        click.echo(f"\ninterrupted; the finished games are in {folder}/. Resume with:\n  {resume}", err=True)
        raise SystemExit(130) from None
    _summary(one, two, score, folder)


def _seed(seed: int | None, previous: dict[str, Any] | None, records: list[GameRecord],
          folder: Path) -> tuple[int, str]:
    """The match's seed and, when it is the run folder's, a note saying so.

    A random seed would make a rerun of the same command a different match, so
    without ``--seed`` a folder that holds a match resumes with its own seed.
    """
    if seed is not None:
        return seed, ""
    if previous is not None and isinstance(previous.get("seed"), int):
        return previous["seed"], f" (from {folder / MANIFEST_NAME})"
    if records:
        raise ResultsError(
            f"{folder / JSONL_NAME} holds {plural(len(records), 'game')}, but {folder / MANIFEST_NAME} does not "
            f"record the seed they were played with; pass that --seed to resume them, or --force to replace them"
        )
    return fresh_seed(), ""


def previous_match(folder: Path) -> dict[str, Any] | None:
    """The facts an earlier ``arena play`` recorded in the folder's manifest (None where there are none)."""
    path = folder / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        facts = json.loads(path.read_text())
    except ValueError:
        return None  # a damaged manifest: the games themselves are still checked against the match
    return facts if isinstance(facts, dict) and MATCH_KEY in facts else None


def match_facts(match: Match, games: int, seed: int, rules: GameRules, openings: Openings,
                openings_text: str, resume: str) -> dict[str, Any]:
    """What the manifest records about a match: enough to resume it and to refuse a conflicting rerun."""
    return {
        MATCH_KEY: " vs ".join(match.names),
        "seed": seed,
        "games_scheduled": games,
        "players": {name: {"type": spec.type, "options": dict(spec.options)}
                    for name, spec in zip(match.names, match.specs)},
        "openings": openings.describe(),
        "openings_spec": openings_text,
        "rules": asdict(rules),
        "resume_command": resume,
    }


def _check_resume(match: Match, records: list[GameRecord], previous: dict[str, Any] | None, games: int,
                  seed: int, rules: GameRules, openings: Openings, folder: Path) -> None:
    """Refuse to mix the folder's games with this match's when they are not the same games."""
    if not records:
        return
    before = previous or {}
    problems = []
    # The match-wide differences first: they explain the per-game ones that follow from them.
    if isinstance(before.get("seed"), int) and before["seed"] != seed:
        problems.append(f"the games were played with seed {before['seed']}, this command has --seed {seed}")
    if "rules" in before and before["rules"] != asdict(rules):
        problems.append(f"the games were played with rules {_compact(before['rules'])}, "
                        f"this command has rules {_compact(asdict(rules))}")
    problems += match.conflicts(records, games, seed, openings)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        command = before.get("resume_command")
        resume = f"resume them with: {command}" if command else "to resume them, rerun the command that played them"
        raise ResultsError(
            f"{folder} holds games of another match: {'; '.join(problems[:3])}{more}. "
            f"To keep them, {resume}; to replace them, add --force; or choose another --out"
        )


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _score(one: str, records: list[GameRecord]) -> Standing:
    """The first player's score over ``records``."""
    score = Standing(one)
    for record in records:
        score.add(record.score_for(one))
    return score


def _play_missing(match: Match, records: list[GameRecord], games: int, seed: int, rules: GameRules,
                  openings: Openings, folder: Path, facts: dict[str, Any], force: bool, resume: str) -> Standing:
    """Play the games not in ``records``, each written (and flushed) as it finishes; return the match's score.

    Ctrl-C prints the command that resumes the match and exits with 130.
    """
    one, two = match.names
    score = _score(one, records)
    status = "failed"
    manifest: Manifest | None = None
    try:
        with ResultsWriter(folder, overwrite=force, append=bool(records)) as writer:
            if force:
                (folder / MANIFEST_NAME).unlink(missing_ok=True)  # its runs played the games just replaced
            manifest = Manifest(folder, facts)
            for record in match.play(games, seed, rules, openings, done={r.game_id for r in records}):
                writer.write(record)
                score.add(record.score_for(one))
                click.echo(
                    f"[{score.games}/{games}] {record.white.name} {record.result} {record.black.name}"
                    f"  ({record.termination.value}, {plural((record.plies + 1) // 2, 'move')})"
                    f"  score {one} {score.points:g} - {score.games - score.points:g} {two}"
                )
        status = "completed"
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        if manifest is not None:
            # Count what games.jsonl holds (closed by now), not the loop's count:
            # Ctrl-C may land between writing a game and counting it.
            saved = list(read_records(folder))
            manifest.finish(status, len(saved) - len(records))
            score = _score(one, saved)
    if status == "interrupted":
        click.echo(f"\ninterrupted after {score.games} of {plural(games, 'game')}; the finished ones are "
                   f"saved in {folder}/. Resume with:\n  {resume}", err=True)
        _summary(one, two, score, folder)
        raise SystemExit(130)
    return score


def resume_command(first: str, second: str, games: int, seed: int, folder: Path, max_moves: int | None,
                   illegal_attempts: int, openings_text: str, plugin_files: tuple[str, ...]) -> str:
    """The exact ``arena play`` command that resumes this match (the seed and folder spelled out)."""
    words = ["arena", "play", first, second, "--games", str(games), "--seed", str(seed), "--out", str(folder)]
    if max_moves is not None:
        words += ["--max-moves", str(max_moves)]
    if illegal_attempts != 1:
        words += ["--illegal-attempts", str(illegal_attempts)]
    if openings_text != DEFAULT_OPENINGS:
        words += ["--openings", openings_text]
    for file in plugin_files:
        words += ["--plugin", file]
    return shlex.join(words)


def _summary(one: str, two: str, score: Standing, folder: Path) -> None:
    percent = 100 * score.points / score.games if score.games else 0.0
    click.echo(
        f"{one} vs {two}: {plural(score.wins, 'win')}, {plural(score.draws, 'draw')}, "
        f"{plural(score.losses, 'loss', 'losses')} for {one} ({score.points:g}/{score.games}, {percent:.1f}%)"
    )
    click.echo(f"games: {folder / PGN_NAME}  {folder / JSONL_NAME}")

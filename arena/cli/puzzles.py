"""``arena puzzles``: a player's accuracy on a file of puzzles."""

from __future__ import annotations

import json
from pathlib import Path

import click

from arena.cli.options import plugin_option
from arena.play.puzzles import read_puzzles, score, solve
from arena.spec import build_player, parse_player_spec


@click.command("puzzles")
@click.argument("puzzles_file", metavar="PUZZLES_FILE", type=click.Path(path_type=Path))
@click.argument("spec", metavar="PLAYER")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N puzzles.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the player's draws.")
@click.option("--band-width", default=200, show_default=True, type=click.IntRange(min=1),
              help="Rating points per band.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of the table.")
@plugin_option
@click.pass_obj
def puzzles(app, puzzles_file, spec, limit, seed, band_width, as_json):
    """Solve PUZZLES_FILE (PGN with FEN tags and the solution as mainline, or Lichess's puzzle CSV) as PLAYER.

    The player must find every one of its moves; the replies come from the line;
    another mating move counts when the line ends in mate.
    """
    problems: list[str] = []
    found = []
    for puzzle in read_puzzles(puzzles_file, problems):
        found.append(puzzle)
        if limit is not None and len(found) >= limit:
            break
    for problem in problems:
        click.echo(f"skipped: {problem}", err=True)
    player = build_player(parse_player_spec(spec), app.plugins)
    player.start()
    try:
        result = {"player": player.name, **score(solve(player, found, seed), band_width)}
    finally:
        player.close()
    if as_json:
        click.echo(json.dumps(result))
        return
    shown = "-" if result["accuracy"] is None else f"{result['accuracy']:.1%}"
    click.echo(f"{result['player']}: {result['solved']} of {result['total']} puzzles solved ({shown})")
    for band in result["bands"]:
        click.echo(f"  {band['band']:>11}: {band['solved']} of {band['total']}")
    for why, count in sorted(result["unsolved"].items(), key=lambda item: -item[1]):
        click.echo(f"  unsolved, {why}: {count}")

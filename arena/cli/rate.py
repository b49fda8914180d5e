"""``arena rate`` and ``arena report``: ratings, standings, pairings and plots from a run folder or a PGN file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
import yaml

from arena.cli.options import plugin_option
from arena.errors import ConfigError
from arena_engines import anchor_entries
from arena.rating.headtohead import PAIRINGS_FILES, format_pairings
from arena.rating.rate import (DEFAULT_RATERS, Report, build_raters, load_games, rate_and_report,
                        white_advantage_lines)
from arena.rating.model import parse_anchor
from arena.rating.standings import copies_note, format_standings, standings_json
from arena.wording import plural

#: ``arena rate`` prints the per-pairing table up to this many players (66 rows); beyond, on ``--pairings``.
PRINT_PAIRINGS_UP_TO = 12


#: Skipped games named per reason in the summary; the rest are counted.
SKIPPED_EXAMPLES = 3


def skipped_summary(skipped: list, rated: int) -> list[str]:
    """The lines that tell which games were left out: a count per reason, with the first few games.

    One line per skipped game would bury the standings under thousands of lines
    for a PGN of openings; the count says how many, the examples say where to look.
    """
    if not skipped:
        return []
    by_reason: dict[str, list] = {}
    for item in skipped:
        by_reason.setdefault(getattr(item, "reason", "for another reason"), []).append(item)
    lines = [f"{plural(len(skipped), 'game')} skipped, {rated} rated:"]
    for reason, items in by_reason.items():
        examples = "; ".join(str(item) for item in items[:SKIPPED_EXAMPLES])
        more = f"; and {len(items) - SKIPPED_EXAMPLES} more" if len(items) > SKIPPED_EXAMPLES else ""
        lines.append(f"  {len(items)} {reason}: {examples}{more}")
    return lines


def _prepare(app, path: str, rater_names: tuple[str, ...], anchor_texts: tuple[str, ...]):
    games = load_games(path, app.plugins)
    for line in skipped_summary(games.skipped, len(games.results)):
        click.echo(line, err=True)
    anchors = {**games.anchors, **dict(parse_anchor(text) for text in anchor_texts)}
    raters = build_raters(rater_names or DEFAULT_RATERS, app.plugins, "--rater")
    return games, anchors, raters


_path = click.argument("path", type=click.Path(exists=True))
_raters = click.option(
    "--rater", "rater_names", multiple=True, help="Rating method, repeatable: glicko2 (default), glicko2_paper, "
    "bradley_terry, or NAME:option=value."
)
_anchors = click.option(
    "--anchor", "anchor_texts", multiple=True, metavar="NAME=RATING", help="Hold a player's rating fixed (repeatable)."
)


@click.command()
@_path
@_raters
@_anchors
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per player.")
@click.option("--pairings", "all_pairings", is_flag=True, help="Print the per-pairing table whatever the "
              f"number of players [default: up to {PRINT_PAIRINGS_UP_TO} players].")
@click.option("--write-anchors", type=click.Path(dir_okay=False), help="Write the rated Stockfish skill players "
              "as an anchors file (engines/anchors.yaml format; use it with ARENA_ANCHORS=FILE).")
@plugin_option
@click.pass_obj
def rate(app, path, rater_names, anchor_texts, as_json, all_pairings, write_anchors):
    """Rate the games of a run folder or of any PGN file and print the standings."""
    games, anchors, raters = _prepare(app, path, rater_names, anchor_texts)
    report = rate_and_report(games, raters, anchors, folder=None)
    if write_anchors:
        first_rater, first = next(iter(report.ratings.items()))
        entries = anchor_entries(games.players, first, f"arena rate {path} ({first_rater}), {date.today()}")
        if not entries:
            raise ConfigError(f"{path} has no rated stockfish players with a skill option to write anchors for")
        Path(write_anchors).write_text(yaml.safe_dump(entries, sort_keys=False))
        settings = plural(sum(len(e["skill"]) for e in entries), "Stockfish setting")
        click.echo(f"anchors for {settings}: {write_anchors}", err=True)
    if as_json:
        click.echo(json.dumps(standings_json(report.rows), indent=2))
        return
    click.echo(format_standings(report.rows))
    note = copies_note(report.rows)
    if note:
        click.echo(note)
    click.echo(
        "anchors: " + ", ".join(f"{n} {r:g}" for n, r in sorted(anchors.items()))
        if anchors else "no anchors: ratings are relative, centred on 1500"
    )
    for line in white_advantage_lines(report):
        click.echo(line)
    _echo_pairings(report, path, all_pairings)


def _echo_pairings(report: Report, path: str, always: bool) -> None:
    """The per-pairing table after the standings, or where to find it when it would be long."""
    if not report.pairings:
        return
    click.echo()
    if always or len(report.rows) <= PRINT_PAIRINGS_UP_TO:
        click.echo("head to head (from A's side; distinct games, "
                   "pentanomial over complete colour-swapped pairs):")
        click.echo(format_pairings(report.pairings))
    else:
        click.echo(f"head to head: {len(report.pairings)} pairings of {len(report.rows)} players; "
                   f"print them with --pairings, or write {', '.join(PAIRINGS_FILES)} with: arena report {path}")


@click.command()
@_path
@_raters
@_anchors
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the files [default: the run folder, "
              "or the PGN file's folder].")
@plugin_option
@click.pass_obj
def report(app, path, rater_names, anchor_texts, out):
    """Write standings and pairings (CSV, JSON, Markdown) and plots (PNG) for a run folder or a PGN file."""
    games, anchors, raters = _prepare(app, path, rater_names, anchor_texts)
    source = Path(path)
    folder = Path(out) if out else (source if source.is_dir() else source.parent)
    result = rate_and_report(games, raters, anchors, folder, title=source.stem if source.is_file() else source.name)
    for written in result.files:
        click.echo(str(written))

"""``arena compare``: two players head to head, stopped by an SPRT; or the same statistics on games played."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import click

from arena.cli.options import plugin_option
from arena.errors import ConfigError
from arena.rating.headtohead import HeadToHead, SprtSpec, format_progress, head_to_head, parse_sprt, sprt_state
from arena.league.config import League, league_from_mapping
from arena.league.run import LeagueRun
from arena.play.match import match_names
from arena.league.openings import DEFAULT_PLIES
from arena.plugins import Plugins
from arena.rating.rate import load_games
from arena.play.record import GameRecord
from arena.spec import PlayerSpec, build_player, parse_player_spec
from arena.rating.standings import pair_of
from arena.league.stopping import Verdict
from arena.wording import plural


@click.command()
@click.argument("args", nargs=-1, required=True, metavar="A B | RUN_DIR A B")
@click.option("--sprt", "sprt_text", metavar="elo0=0,elo1=5[,alpha=0.05,beta=0.05,model=normalized]",
              help="Stop when an SPRT accepts H0 or H1 (model: normalized, the default, or logistic).")
@click.option("--max-games", default=1000, show_default=True, type=click.IntRange(min=2),
              help="The most games to play (even): the whole match without --sprt.")
@click.option("--openings", "openings_text", default=f"random:plies={DEFAULT_PLIES}", show_default=True,
              help="Where each colour-swapped pair starts: none, random:plies=N, book:depth=N[,path=BOOK], "
                   "file:path=FILE.")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes.")
@click.option("--games-in-flight", default=1, show_default=True, type=click.IntRange(min=1),
              help="Games each worker plays at once (batches a model's requests).")
@click.option("--max-moves", type=click.IntRange(min=1), help="Stop a game after this many moves and score a draw.")
@click.option("--seed", default=1, show_default=True, type=int, help="Master seed; the same seed plays the same games.")
@click.option("--out", type=click.Path(file_okay=False), help="Run folder [default: results/compare/A-vs-B].")
@click.option("--fresh", is_flag=True, help="Move games already in the run folder aside and start again.")
@click.option("--report-every", default=10, show_default=True, type=click.IntRange(min=1),
              help="Print the statistics every this many pairs.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end (progress goes to stderr).")
@plugin_option
@click.pass_obj
def compare(app, args, sprt_text, max_games, openings_text, concurrency, games_in_flight, max_moves, seed, out,
            fresh, report_every, as_json):
    """Play A against B in colour-swapped pairs until an SPRT decides (or --max-games), printing
    fastchess-style statistics; with RUN_DIR A B, the same statistics on the games of a run folder or PGN.

    A and B are player specs as for 'arena play' ('stockfish:nodes=2000', 'transformer:checkpoint=x.pt');
    in RUN_DIR mode they are player names. Rerun the same command to resume a stopped compare: it
    continues the same test with the same games. Statistics are from A's side.
    """
    spec = parse_sprt(sprt_text) if sprt_text else None
    if len(args) == 3:
        _compare_played(*args, spec, as_json)
        return
    if len(args) != 2:
        raise click.UsageError("give two player specs (A B), or a run folder or PGN and two player names "
                               "(RUN_DIR A B)")
    if max_games % 2:
        raise click.BadParameter(f"{max_games} is odd; games are played in colour-swapped pairs",
                                 param_hint="--max-games")
    league = compare_league(args[0], args[1], app.plugins, spec, max_games, openings_text, concurrency,
                            games_in_flight, max_moves, seed, out)
    _play(league, spec, fresh, report_every, as_json)


def compare_league(first: str, second: str, plugins: Plugins, spec: SprtSpec | None, max_games: int,
                   openings_text: str, concurrency: int, games_in_flight: int, max_moves: int | None,
                   seed: int, out: str | None) -> League:
    """The two-player league a compare plays: one pairing, A first, stopped by the SPRT."""
    specs = parse_player_spec(first), parse_player_spec(second)
    names = _names(specs, plugins)
    opening = parse_player_spec(openings_text)  # the same type:key=value syntax
    # Enough pairs ahead to keep every worker busy; with an SPRT alone this changes only how many
    # pairs finish after the decision, never the decision (every prefix of pairs is tested in order).
    ahead = max(1, math.ceil(concurrency * (games_in_flight + 1) / 2))
    data: dict[str, Any] = {
        "name": f"{names[0]} vs {names[1]}",
        "seed": seed,
        "players": [{"type": s.type, **s.options, "name": name} for s, name in zip(specs, names)],
        "schedule": {"type": "round_robin", "games": max_games},
        "openings": {"type": opening.type, **opening.options},
        "rules": {"max_moves": max_moves} if max_moves else {},
        "concurrency": concurrency,
        "games_in_flight": games_in_flight,
        "stop": {"pairs_ahead": ahead, "max_games": max_games},
    }
    if spec is not None:
        data["stop"]["sprt"] = {"elo0": spec.elo0, "elo1": spec.elo1, "alpha": spec.alpha, "beta": spec.beta,
                                "model": spec.model}
    folder = Path(out) if out else Path("results") / "compare" / f"{_safe(names[0])}-vs-{_safe(names[1])}"
    return league_from_mapping(data, "arena compare", Path.cwd(), plugins, folder)


def _names(specs: tuple[PlayerSpec, PlayerSpec], plugins: Plugins) -> list[str]:
    """The two players' names, as ``arena play`` names them (``stockfish@nodes=400``, ``stockfish@nodes=25``)."""
    return match_names([build_player(spec, plugins) for spec in specs], list(specs))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@=+-]+", "_", name)


def _play(league: League, spec: SprtSpec | None, fresh: bool, report_every: int, as_json: bool) -> None:
    run = LeagueRun(league, fresh=fresh)
    assert run.plan is not None
    plan = run.plan
    a, b = (player.name or "" for player in league.players)
    echo = (lambda text: click.echo(text, err=True)) if as_json else click.echo
    done = len(run.records)
    resumed = f", resuming after {plural(done, 'game')}" if done else ""
    test = f"SPRT {spec.describe()}" if spec else "no SPRT"
    echo(f"{a} vs {b}: at most {plan.budget} games{resumed}, {test}; openings: {league.openings.describe()}; "
         f"{plural(league.concurrency, 'worker')} x {plural(league.games_in_flight, 'game')} in flight; "
         f"writing {league.out}/")
    # Games finished per colour-swapped pair: a pair is complete at two.
    per_pair = Counter(pair_of(record.game_id) for record in run.records)
    pairs = [sum(1 for count in per_pair.values() if count == 2)]

    def progress(record: GameRecord) -> None:
        per_pair[pair_of(record.game_id)] += 1
        if per_pair[pair_of(record.game_id)] != 2:
            return
        pairs[0] += 1
        if pairs[0] % report_every == 0:
            echo(_statistics(plan.tested(0), a, b, spec, f"after {pairs[0]} pairs"))

    try:
        run.play(progress)
    except KeyboardInterrupt:
        echo(f"\ninterrupted: {len(run.records)} games are saved; run the same command to resume the test")
        raise SystemExit(130) from None
    verdict = plan.verdicts()[0] if spec else None
    tested = plan.tested(0)
    h2h = head_to_head(tested, a, b)
    if as_json:
        click.echo(json.dumps(_json(h2h, spec, verdict, len(run.records)), indent=2))
        return
    echo(_statistics(tested, a, b, spec, "final"))
    if verdict is not None:
        echo(_verdict_line(verdict, spec))
    after = len(run.records) - h2h.games
    if after:
        echo(f"{plural(after, 'game')} finished after the decision: kept in {league.out}/games.jsonl, "
             f"not in the test")
    echo(f"stopped: {plan.reason}")


def _statistics(results, a: str, b: str, spec: SprtSpec | None, when: str) -> str:
    h2h = head_to_head(results, a, b)
    state = sprt_state(h2h.pentanomial, spec) if spec else None
    return f"--- {a} vs {b}, {when} ---\n" + format_progress(h2h, state, spec)


def _verdict_line(verdict: Verdict, spec: SprtSpec) -> str:
    scale = "nElo" if spec.model == "normalized" else "Elo"
    favoured = {"H1": (spec.elo1, spec.elo0), "H0": (spec.elo0, spec.elo1)}
    if verdict.decision in favoured:
        chosen, other = favoured[verdict.decision]
        bound = verdict.upper if verdict.decision == "H1" else verdict.lower
        return (f"{verdict.decision} accepted after {verdict.pairs} pairs: the games favour {verdict.a} - "
                f"{verdict.b} = {chosen:g} {scale} over {other:g} (LLR {verdict.llr:.2f}, bound {bound:.2f})")
    return f"SPRT undecided: LLR {verdict.llr:.2f} within ({verdict.lower:.2f}, {verdict.upper:.2f})"


def _json(h2h: HeadToHead, spec: SprtSpec | None, verdict: Verdict | None, played: int) -> dict[str, Any]:
    """The object ``--json`` prints (the issue's schema), from A's side; games: those the test rests on."""
    sprt = None
    if spec is not None:
        state = sprt_state(h2h.pentanomial, spec)
        sprt = {"elo0": spec.elo0, "elo1": spec.elo1, "alpha": spec.alpha, "beta": spec.beta,
                "model": spec.model, "llr": state.llr, "lower": state.lower, "upper": state.upper,
                "decision": verdict.decision if verdict else state.decision}
    return {
        "a": h2h.a, "b": h2h.b, "games": h2h.games, "distinct": h2h.distinct,
        "wdl": [h2h.wins, h2h.draws, h2h.losses], "pentanomial": list(h2h.pentanomial),
        "elo": h2h.elo, "elo_low": h2h.elo_low, "elo_high": h2h.elo_high,
        "nelo": h2h.nelo, "nelo_low": h2h.nelo_low, "nelo_high": h2h.nelo_high,
        "los": h2h.los, "draw_ratio": h2h.draw_ratio, "sprt": sprt, "games_played": played,
    }


def _compare_played(path: str, a: str, b: str, spec: SprtSpec | None, as_json: bool) -> None:
    """The statistics of A against B on games already played (a run folder, games.jsonl or a PGN)."""
    if not Path(path).exists():
        raise ConfigError(f"arena compare: {path} does not exist; give a run folder or PGN and two player "
                          f"names, or two player specs to play")
    games = load_games(path)
    players = sorted({name for result in games.results for name in (result.white, result.black)})
    for name in (a, b):
        if name not in players:
            raise ConfigError(f"arena compare: {path} has no player {name!r}; its players are: {', '.join(players)}")
    h2h = head_to_head(games.results, a, b)
    if h2h.games == 0:
        raise ConfigError(f"arena compare: {a} and {b} played no games against each other in {path}")
    state = sprt_state(h2h.pentanomial, spec) if spec else None
    verdict = (Verdict(a, b, state.decision, state.llr, state.lower, state.upper, h2h.pairs, h2h.pentanomial)
               if state else None)
    if as_json:
        click.echo(json.dumps(_json(h2h, spec, verdict, h2h.games), indent=2))
        return
    click.echo(_statistics(games.results, a, b, spec, path))
    if spec is not None and verdict is not None:
        click.echo(_verdict_line(verdict, spec))

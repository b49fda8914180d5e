"""Run a league into its run folder: resume what is there, play what is missing, keep the manifest."""

from __future__ import annotations

import datetime
import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from arena.errors import ResultsError
from arena.league.config import League
from arena.league.manifest import MANIFEST_NAME, Manifest
from arena.play.record import GameRecord
from arena.league.store import JSONL_NAME, PGN_NAME, ResultsWriter, recover_records
from arena.league.executor import FixedGames, GameSource, Worker, build_executor, game_needs, run_games
from arena.league.workers import WorkerConfig
from arena.league.schedule import ScheduledGame, pairings, schedule_games
from arena.league.stopping import StopPlan

LEAGUE_COPY = "league.yaml"


def conflicts(records: list[GameRecord], schedule: list[ScheduledGame]) -> list[str]:
    """Why finished games do not belong to this schedule (empty when they all do)."""
    by_id = {game.game_id: game for game in schedule}
    problems: list[str] = []
    seen: set[str] = set()
    for record in records:
        game = by_id.get(record.game_id)
        if record.game_id in seen:
            problems.append(f"game {record.game_id!r} appears twice")
        elif game is None:
            problems.append(f"game {record.game_id!r} is no longer in the league")
        else:
            for side, spec, entry in (("white", game.white, record.white), ("black", game.black, record.black)):
                if (spec.name, spec.type, spec.options) != (entry.name, entry.type, entry.options):
                    problems.append(
                        f"game {record.game_id!r} had {side} {entry.name} ({entry.type} {entry.options}), "
                        f"the league now has {spec.name} ({spec.type} {spec.options})"
                    )
            if record.seed != game.seed:
                problems.append(f"game {record.game_id!r} was played with another seed")
            book = tuple(move.uci for move in record.moves if move.book)
            if book != game.opening.moves or record.start_fen != game.opening.fen:
                problems.append(f"game {record.game_id!r} was played from another opening")
        seen.add(record.game_id)
    return problems


#: Settings of the manifest that decide how a game is played and scored: games under other rules do not mix.
RULE_FACTS = ("rules", "adjudication")


def rule_changes(folder: Path, league: League) -> list[str]:
    """How the game rules of the league differ from those the run folder's games were played under."""
    manifest = folder / MANIFEST_NAME
    if not manifest.exists():
        return []
    try:
        before = json.loads(manifest.read_text())
    except ValueError:
        return [f"{manifest} is unreadable, so the rules its games were played under are unknown"]
    now = json.loads(json.dumps(league_facts(league, 0), default=str))
    problems = []
    for key in RULE_FACTS:
        if key in before and before[key] != now[key]:
            problems.append(f"the games were played with {key} {_compact(before[key])}, "
                            f"the league now has {key} {_compact(now[key])}")
    return problems


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def prepare_folder(league: League, schedule: list[ScheduledGame], fresh: bool) -> list[GameRecord]:
    """The finished games already in the run folder that belong to this league.

    With ``fresh``, earlier results are moved aside into ``previous-TIMESTAMP/``.
    """
    folder = league.out
    if fresh and (folder / JSONL_NAME).exists():
        aside = folder / f"previous-{datetime.datetime.now():%Y%m%d-%H%M%S}"
        aside.mkdir(parents=True)
        for name in (JSONL_NAME, PGN_NAME, MANIFEST_NAME, LEAGUE_COPY):
            if (folder / name).exists():
                shutil.move(str(folder / name), aside / name)
    records = recover_records(folder)
    problems = conflicts(records, schedule)
    if records:
        problems = rule_changes(folder, league) + problems
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ResultsError(
            f"{folder} holds games that conflict with {league.source}: {'; '.join(problems[:3])}{more}. "
            f"Rerun with --fresh to move the old games aside and start again, or choose another --out"
        )
    return records


def league_facts(league: League, scheduled: int) -> dict[str, Any]:
    """The league's settings as recorded in the manifest."""
    return {
        "league": league.name,
        "league_file": league.source,
        "seed": league.seed,
        "games_scheduled": scheduled,
        "players": {spec.name: {"type": spec.type, "options": spec.options} for spec in league.players},
        "schedule": asdict(league.schedule),
        "openings": league.openings.describe(),
        "rules": asdict(league.rules),
        "adjudication": league.adjudication,
        "stop": league.stop.describe() if league.stop else None,
        "raters": list(league.raters),
        "anchors": league.anchors,
        "concurrency": league.concurrency,
        "games_in_flight": league.games_in_flight,
        "executor": {"type": league.executor.type, **league.executor.options},
    }


def stop_plan(league: League, schedule: list[ScheduledGame], records: list[GameRecord]) -> StopPlan:
    """The league's stopping rule, ready to hand out games, knowing the games already played."""
    from arena.rating.rate import build_raters, games_of

    assert league.stop is not None
    pairs = [(first.name or "", second.name or "") for first, second in pairings(league)]
    if league.schedule.type == "gauntlet":
        challengers = list(dict.fromkeys(a for a, _ in pairs))
    else:
        challengers = [spec.name or "" for spec in league.players]
    rater = None
    if league.stop.precision is not None:
        rater = next(iter(build_raters(league.raters, league.plugins, league.source).values()))
    anchors = {**games_of(records, league.source).anchors, **league.anchors}
    return StopPlan(league.stop, pairs, schedule, records, challengers, rater, anchors)


class LeagueRun:
    """One invocation of a league: what is done, what is missing, and playing it.

    Without a ``stop:`` rule the missing games are the schedule's unplayed
    ones; with one, :attr:`plan` hands them out until the rule is met.
    """

    def __init__(self, league: League, fresh: bool = False):
        self.league = league
        self.schedule = schedule_games(league)
        self.records = prepare_folder(league, self.schedule, fresh)
        done = {record.game_id for record in self.records}
        self.missing = [game for game in self.schedule if game.game_id not in done]
        self.plan = stop_plan(league, self.schedule, self.records) if league.stop else None

    @property
    def budget(self) -> int:
        """The most games this league plays, those already played included."""
        return self.plan.budget if self.plan else len(self.schedule)

    def play(self, on_record: Callable[[GameRecord], None] = lambda record: None) -> None:
        """Play the missing games; every finished one is in games.jsonl before ``on_record`` sees it."""
        league = self.league
        league.out.mkdir(parents=True, exist_ok=True)
        (league.out / LEAGUE_COPY).write_text(league.text)
        manifest = Manifest(league.out, league_facts(league, len(self.schedule)))
        played = 0
        status = "failed"

        def record_player(name: str, info: dict[str, Any]) -> None:
            if info and manifest.data["engines"].get(name) != info:
                manifest.data["engines"][name] = info
                manifest.save()

        try:
            with ResultsWriter(league.out, append=True) as writer:
                ran_on: dict[str, list[str]] = manifest.run.setdefault("ran_on", {})

                def finished(record: GameRecord, worker: Worker) -> None:
                    nonlocal played
                    writer.write(record)
                    self.records.append(record)
                    ran_on.setdefault(f"{worker.where}, worker {worker.number}", []).append(record.game_id)
                    if self.plan is not None:
                        self.plan.record(record)
                    played += 1
                    league.plugins.hook.game_finished(record=record)
                    on_record(record)

                config = WorkerConfig(
                    plugins=league.plugins.recipe,
                    rules=league.rules,
                    games_in_flight=league.games_in_flight,
                    event=league.name,
                    adjudication=league.adjudication,
                )
                source: GameSource = self.plan or FixedGames(self.missing)
                executor = build_executor(league.executor, league.plugins)
                try:
                    executor.open(config, lambda cluster: game_needs(pairings(league), league.plugins, cluster))
                    workers = executor.workers(league.concurrency, not league.concurrency_default, len(self.missing))
                    manifest.run.update(executor=executor.describe(), workers=workers)
                    run_games(source, executor, workers, league.games_in_flight, finished, record_player)
                finally:
                    executor.close()
            status = "completed"
            if self.plan is not None:
                manifest.data["stopped"] = self.plan.summary()
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            manifest.finish(status, played)
        self.missing = []

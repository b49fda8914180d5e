"""Stopping rules: a league that ends as soon as it knows enough.

A league's ``stop:`` section may hold

* ``sprt: {elo0, elo1, alpha, beta, model}``: each pairing ends by its own
  SPRT on the pentanomial counts of its colour-swapped pairs (the first
  player of the pairing, a gauntlet's challenger, is "A");
* ``precision: P``: pairs are played until every challenger's 95% interval
  (the first rater's) is at most +-P, each next pair going where it shrinks
  the widest interval most;
* ``max_games``: the budget; the schedule's ``games`` per pairing stays the
  cap of each pairing.

Determinism: pairs are handed out one after another, and the choice of
pair n (which pairing, or none) rests only on the results of the first
``n - pairs_ahead + 1`` pairs handed out, never on which games happen to
have finished first. So the same league file and seed give the same games
at any concurrency and after a resume; up to ``pairs_ahead`` pairs play at
once. The pairs handed out before a decision that finish after it are
played to the end and kept (they count in the standings), but not in the
SPRT that had already decided.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from arena.errors import ConfigError
from arena.options import Wording, read_keys
from arena.rating.headtohead import SprtSpec, head_to_head, sprt_state
from arena.rating.model import Z95, GameResult, Rater, Rating
from arena.play.record import GameRecord
from arena.rating.standings import copy_key, distinct_results, results_of
from arena.yaml_checks import key_error

if TYPE_CHECKING:
    from arena.league.schedule import ScheduledGame  # (schedule imports league, which imports this)

#: Below this many basis games the ratings are refitted after every pair, above it after 1% more games.
REFIT_EVERY_PAIR = 400
#: d(expected score)/d(Elo) at p = 1/2 is ELO_SLOPE / 4: a game's Fisher information on a rating is
#: ELO_SLOPE**2 * p * (1 - p) per Elo squared.
ELO_SLOPE = math.log(10.0) / 400.0
#: Pairs handed out ahead of the results that choose them: enough to keep a few workers busy.
DEFAULT_PAIRS_AHEAD = 8


#: An SPRT's Elo bound: finite, as SprtSpec requires.
Elo = Annotated[float, Field(allow_inf_nan=False), Wording("a number of Elo, e.g. 5")]
ErrorRate = Annotated[float, Field(gt=0, lt=0.5)]
Precision = Annotated[float, Field(gt=0, allow_inf_nan=False), Wording("a positive number of Elo, e.g. 25")]


@dataclass(frozen=True)
class SprtSection:
    """The ``stop.sprt:`` section: the keys of :class:`arena.rating.headtohead.SprtSpec`."""

    elo0: Elo
    elo1: Elo
    alpha: ErrorRate = 0.05
    beta: ErrorRate = 0.05
    model: Literal["normalized", "logistic"] = "normalized"  # headtohead.MODELS (SprtSpec checks them too)


@dataclass(frozen=True)
class StopRule:
    """The ``stop:`` section: when a league stops before its schedule is played out (see the module's doc)."""

    sprt: SprtSpec | None = None  #: read from its sub-section by :func:`load_stop`
    precision: Precision | None = None  #: the widest 95% interval allowed, +-Elo
    max_games: Annotated[int, Field(ge=2)] | None = None
    pairs_ahead: Annotated[int, Field(ge=1)] = DEFAULT_PAIRS_AHEAD

    def describe(self) -> dict[str, Any]:
        """The rule as the manifest records it."""
        return {
            "sprt": self.sprt.describe() if self.sprt else None,
            "precision": self.precision,
            "max_games": self.max_games,
            "pairs_ahead": self.pairs_ahead,
        }


def load_stop(value: Any, source: str) -> StopRule | None:
    """The ``stop:`` section of a league file, validated (None when the league has none)."""
    if value is None:
        return None
    if isinstance(value, dict) and value.get("sprt") is not None:
        # The sub-section first, under its own key path; the rule then holds it as a SprtSpec.
        value = {**value, "sprt": _load_sprt(value["sprt"], source)}
    rule = read_keys(StopRule, value, source, "stop")
    if not value:
        raise key_error(source, "stop", "give sprt: {elo0: 0, elo1: 5}, precision: 25 and/or max_games: N")
    if rule.max_games is not None and rule.max_games % 2:
        raise key_error(source, "stop.max_games", f"{rule.max_games} is odd; games are played in pairs")
    return rule


def _load_sprt(value: Any, source: str) -> SprtSpec:
    """The ``stop.sprt:`` section as a :class:`SprtSpec`."""
    if isinstance(value, dict) and not {"elo0", "elo1"} <= value.keys():
        # The bounds only make sense together: one message with an example, rather than one per key.
        raise key_error(source, "stop.sprt", "needs elo0 and elo1, e.g. {elo0: 0, elo1: 5}")
    section = read_keys(SprtSection, value, source, "stop.sprt")
    try:
        return SprtSpec(**asdict(section))
    except ConfigError as error:  # elo1 > elo0: a rule between keys, which SprtSpec owns
        raise key_error(source, "stop.sprt", str(error).removeprefix("sprt: ")) from None


@dataclass(frozen=True)
class Verdict:
    """Where one pairing's SPRT ended: decided (``H0``/``H1``) on its first ``pairs`` pairs, or undecided."""

    a: str
    b: str
    decision: str | None
    llr: float
    lower: float
    upper: float
    pairs: int  #: the pairs the test rests on (copies included; the pentanomial counts distinct pairs)
    pentanomial: tuple[int, int, int, int, int]

    def describe(self) -> str:
        """One line for the standings: ``A vs B: H1 (LLR 2.95, bounds -2.94 2.94) after 120 pairs``."""
        outcome = self.decision or "undecided"
        return (f"{self.a} vs {self.b}: {outcome} (LLR {self.llr:.2f}, bounds {self.lower:.2f} "
                f"{self.upper:.2f}) after {self.pairs} pairs, Ptnml {list(self.pentanomial)}")


@dataclass
class _Pairing:
    """One pairing's colour-swapped pairs, in the order they are played."""

    a: str  #: the SPRT's first player: the challenger, or the first listed
    b: str
    pairs: list[tuple[ScheduledGame, ScheduledGame]]
    issued: int = 0  #: pairs handed out so far
    verdict: Verdict | None = None  #: set once its SPRT decides
    tested: int = 0  #: basis pairs when its SPRT last ran
    #: The pentanomial counts of its pairs in the basis, kept up to date pair by pair as
    #: :func:`arena.rating.headtohead.head_to_head` counts them (a pair with a copied game does not count).
    pentanomial: list[int] = field(default_factory=lambda: [0] * 5)
    seen: set[tuple] = field(default_factory=set)  #: copy keys of its games in the basis

    def add(self, first: GameResult, second: GameResult) -> None:
        """Count a finished colour-swapped pair."""
        keys = [copy_key(first), copy_key(second)]
        copied = any(key in self.seen for key in keys if key is not None)
        self.seen.update(key for key in keys if key is not None)
        if not copied:
            points = sum(r.score if r.white == self.a else 1.0 - r.score for r in (first, second))
            self.pentanomial[int(round(2 * points))] += 1


class StopPlan:
    """Hands out a league's games pair by pair until its stopping rule is met.

    It is the runner's game source: :meth:`take` gives the next game to play
    (None while the choice waits on results, or once the league is done), and
    :meth:`record` hears each finished game. Games already in the run folder
    are never handed out again.
    """

    def __init__(self, rule: StopRule, pairings: list[tuple[str, str]], schedule: list[ScheduledGame],
                 records: list[GameRecord], challengers: list[str], rater: Rater | None,
                 anchors: dict[str, float]):
        self.rule = rule
        self.challengers = challengers
        self.rater = rater
        self.anchors = anchors
        self.pairings = [_Pairing(a, b, _pairs_of(schedule, a, b)) for a, b in pairings]
        self.finished: dict[str, GameRecord] = {}
        self.results: dict[str, GameResult] = {}
        for record in records:
            self.record(record)
        self.issued: list[int] = []  #: the pairing of each pair handed out, in order
        self.reason: str | None = None  #: why no more pairs are handed out, once that is so
        self._queue: deque[ScheduledGame] = deque()
        self._basis: list[GameResult] = []  #: results of the pairs the choices rest on, in order
        self._basis_pairs = 0
        self._basis_counts = [0] * len(self.pairings)  #: per pairing, its pairs in the basis
        self._intervals: tuple[int, dict[str, Rating]] | None = None

    # -- the runner's game source ------------------------------------------------------------------------

    def take(self) -> ScheduledGame | None:
        """The next game to play; None while the next choice waits on results, or when the league is done."""
        while not self._queue:
            pair = self._next_pair()
            if pair is None:
                return None
            self._queue.extend(game for game in pair if game.game_id not in self.finished)
        return self._queue.popleft()

    def done(self) -> bool:
        """No more games will be handed out."""
        return self.reason is not None and not self._queue

    def record(self, record: GameRecord) -> None:
        """A finished game (played now, or found in the run folder)."""
        self.finished[record.game_id] = record
        self.results[record.game_id] = results_of([record])[0]

    # -- what a user sees -------------------------------------------------------------------------------

    @property
    def budget(self) -> int:
        """The most games the league can play."""
        scheduled = 2 * sum(len(pairing.pairs) for pairing in self.pairings)
        return min(scheduled, self.rule.max_games or scheduled)

    def verdicts(self) -> list[Verdict]:
        """Each pairing's SPRT: its decision, or where it stands on every finished pair it was given."""
        spec = self.rule.sprt
        if spec is None:
            return []
        return [pairing.verdict or _verdict(pairing, self.tested(index), spec)
                for index, pairing in enumerate(self.pairings)]

    def summary(self) -> dict[str, Any]:
        """Why the league stopped and each pairing's SPRT, as the manifest records it."""
        return {"reason": self.reason, "sprt": [asdict(verdict) for verdict in self.verdicts()]}

    def tested(self, index: int) -> list[GameResult]:
        """The results pairing ``index``'s SPRT rests on: its pairs up to the decision, else every finished one."""
        pairing = self.pairings[index]
        pairs = pairing.pairs[:pairing.verdict.pairs] if pairing.verdict else pairing.pairs[:pairing.issued]
        return [self.results[game.game_id] for pair in pairs for game in pair if game.game_id in self.results]

    # -- choosing --------------------------------------------------------------------------------------

    def _next_pair(self) -> tuple[ScheduledGame, ScheduledGame] | None:
        if self.reason is not None:
            return None
        basis = max(0, len(self.issued) - self.rule.pairs_ahead + 1)
        if not self._extend_basis(basis):
            return None  # the choice waits for those results
        if self.rule.max_games is not None and 2 * (len(self.issued) + 1) > self.rule.max_games:
            self.reason = f"the budget of {self.rule.max_games} games is spent"
            return None
        self._test_pairings()
        choice = self._choose()
        if choice is None:
            return None
        pairing = self.pairings[choice]
        pair = pairing.pairs[pairing.issued]
        pairing.issued += 1
        self.issued.append(choice)
        return pair

    def _extend_basis(self, pairs: int) -> bool:
        """Grow the basis to the first ``pairs`` pairs handed out; False while some of them are unfinished."""
        while self._basis_pairs < pairs:
            index = self.issued[self._basis_pairs]
            pair = self.pairings[index].pairs[self._basis_counts[index]]
            if not all(game.game_id in self.results for game in pair):
                return False
            first, second = (self.results[game.game_id] for game in pair)
            self._basis.extend((first, second))
            self.pairings[index].add(first, second)
            self._basis_counts[index] += 1
            self._basis_pairs += 1
        return True

    def _test_pairings(self) -> None:
        """Run each undecided pairing's SPRT on its pairs in the basis; a decision ends the pairing."""
        spec = self.rule.sprt
        if spec is None:
            return
        for pairing, count in zip(self.pairings, self._basis_counts):
            if pairing.verdict is not None or count == pairing.tested:
                continue
            pairing.tested = count
            state = sprt_state(pairing.pentanomial, spec)
            if state.decision is not None:
                pairing.verdict = Verdict(pairing.a, pairing.b, state.decision, state.llr, state.lower,
                                          state.upper, count, tuple(pairing.pentanomial))

    def _choose(self) -> int | None:
        """The pairing of the next pair, or None (and the reason) when the league is done."""
        active = [index for index, pairing in enumerate(self.pairings)
                  if pairing.verdict is None and pairing.issued < len(pairing.pairs)]
        if self.rule.precision is not None:
            return self._choose_for_precision(active)
        if not active:
            decided = all(pairing.verdict is not None for pairing in self.pairings)
            self.reason = ("every pairing's SPRT has decided" if decided
                           else "the schedule's games per pairing are played")
            return None
        # Without a precision target, pairings take turns: the one with the fewest pairs goes next.
        return min(active, key=lambda index: (self.pairings[index].issued, index))

    def _choose_for_precision(self, active: list[int]) -> int | None:
        """The pair that shrinks the widest challenger interval most: that challenger's most even pairing.

        Widths are the fitted ones, narrowed by what the pairs handed out but not yet in the basis
        are expected to add (Fisher information), so pairs in flight are not all given to one player.
        """
        ratings = self._ratings()
        target = self.rule.precision
        wide = [name for name in self.challengers if _half_width(ratings.get(name)) > target]
        if not wide:
            self.reason = f"every challenger's 95% interval is within +-{target:g}"
            return None
        widths = self._expected_widths(ratings)
        for name in sorted(wide, key=lambda name: (-widths[name], self.challengers.index(name))):
            options = [index for index in active if name in (self.pairings[index].a, self.pairings[index].b)]
            if options:
                # A game tells most about a rating when its result is least predictable: p(1 - p) largest.
                return max(options, key=lambda index: (_information(self.pairings[index], ratings),
                                                        -self.pairings[index].issued, -index))
        self.reason = f"the schedule's games per pairing are played; some intervals are still above +-{target:g}"
        return None

    def _expected_widths(self, ratings: dict[str, Rating]) -> dict[str, float]:
        """Each player's fitted half-width, shrunk by the pairs handed out beyond the basis."""
        precision = {name: 0.0 for pairing in self.pairings for name in (pairing.a, pairing.b)}
        for name in precision:
            width = _half_width(ratings.get(name))
            precision[name] = math.inf if width == 0 else (Z95 / width) ** 2
        for pairing, counted in zip(self.pairings, self._basis_counts):
            pending = pairing.issued - counted
            if pending:
                gain = 2 * pending * _information(pairing, ratings) * ELO_SLOPE**2
                precision[pairing.a] += gain
                precision[pairing.b] += gain
        return {name: Z95 / math.sqrt(value) if value else math.inf for name, value in precision.items()}

    def _ratings(self) -> dict[str, Rating]:
        """The first rater's ratings of the basis games.

        Refitted when the basis grew by a pair while small, then by 1% or more: a fit costs time in
        proportion to the games, and a pair changes little in a large league.
        """
        fitted = self._intervals[0] if self._intervals else -1
        games = len(self._basis)
        if fitted < 0 or (games > fitted and (games < REFIT_EVERY_PAIR or games >= 1.01 * fitted)):
            ratings: dict[str, Rating] = {}
            if self._basis and self.rater is not None:
                present = {name for result in self._basis for name in (result.white, result.black)}
                anchors = {name: value for name, value in self.anchors.items() if name in present}
                rated = self.rater.rate(distinct_results(self._basis), anchors)
                ratings = {rating.player: rating for rating in rated}
            self._intervals = (games, ratings)
        return self._intervals[1]


def stop_notes(summary: dict[str, Any], games: int) -> list[str]:
    """Lines for the standings from a :meth:`StopPlan.summary` (as the manifest keeps it)."""
    lines = [f"stopped after {games} games: {summary.get('reason') or 'interrupted'}"]
    for verdict in summary.get("sprt") or []:
        lines.append("  " + Verdict(**{**verdict, "pentanomial": tuple(verdict["pentanomial"])}).describe())
    return lines


def _pairs_of(schedule: list[ScheduledGame], a: str, b: str) -> list[tuple[ScheduledGame, ScheduledGame]]:
    """The colour-swapped pairs of one pairing, in schedule order (its games come in twos)."""
    games = [game for game in schedule if {game.white.name, game.black.name} == {a, b}]
    return [(games[i], games[i + 1]) for i in range(0, len(games), 2)]


def _verdict(pairing: _Pairing, games: list[GameResult], spec: SprtSpec) -> Verdict:
    h2h = head_to_head(games, pairing.a, pairing.b)
    state = sprt_state(h2h.pentanomial, spec)
    return Verdict(pairing.a, pairing.b, state.decision, state.llr, state.lower, state.upper, len(games) // 2,
                   h2h.pentanomial)


def _half_width(rating: Rating | None) -> float:
    if rating is None:
        return math.inf
    if rating.anchored:
        return 0.0
    return (rating.high - rating.low) / 2.0


def _information(pairing: _Pairing, ratings: dict[str, Rating]) -> float:
    """p (1 - p) for the expected score between the pairing's players (1/4 where a rating is unknown)."""
    first, second = ratings.get(pairing.a), ratings.get(pairing.b)
    if first is None or second is None:
        return 0.25
    p = 1.0 / (1.0 + 10.0 ** ((second.rating - first.rating) / 400.0))
    return p * (1.0 - p)

"""Does the model transcend its experts? The comparison, with 95% intervals, and the study's report files."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from arena.rating.model import Rating

#: The temperatures at or below which a win over the best expert counts as transcendence by low temperature.
LOW_TEMPERATURE = 0.1
FIGURE = "rating_vs_temperature.png"
REPORT = "report.md"
VERDICT = "verdict.json"


@dataclass
class Rated:
    """A player's rating in the evaluation league, with its 95% interval."""

    name: str
    rating: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.rating:.0f} [{self.low:.0f}, {self.high:.0f}]"


@dataclass
class ModelPoint(Rated):
    """The model at one temperature, compared with the best expert."""

    temperature: float = 1.0
    #: 'above' or 'below' the best expert with non-overlapping intervals, or 'overlapping'.
    versus_best: str = "overlapping"


@dataclass
class Verdict:
    """The study's answer: the model by temperature against the best expert in its data."""

    best_expert: Rated
    experts: list[Rated]  #: the experts whose games were in the training data, best first
    capped: list[str]  #: experts left out of the training data by the rating cap
    points: list[ModelPoint]  #: by temperature

    def temperatures(self, relation: str) -> list[float]:
        return [point.temperature for point in self.points if point.versus_best == relation]

    @property
    def transcends(self) -> bool:
        """Above the best expert, intervals apart, at some temperature <= 0.1."""
        return any(t <= LOW_TEMPERATURE for t in self.temperatures("above"))

    def statement(self) -> str:
        """The answer in words, with the intervals it rests on."""
        best = self.best_expert
        above = self.temperatures("above")
        lines = []
        if above:
            lines.append(
                f"The model transcends its experts at temperature {_list(above)}: its rating is above the best "
                f"expert's ({best.name}, {best}) with non-overlapping 95% intervals."
            )
        else:
            top = max(self.points, key=lambda point: point.rating)
            lines.append(
                f"The model does not transcend its experts: at no temperature is its 95% interval above the best "
                f"expert's ({best.name}, {best}); its best is {top} at temperature {top.temperature:g}."
            )
        for point in self.points:
            if point.temperature == 1.0:
                relation = {"above": "above", "below": "below", "overlapping": "level with (intervals overlap)"}
                lines.append(
                    f"At temperature 1 (the experts' mixture) it is {relation[point.versus_best]} the best expert: "
                    f"{point}."
                )
        return " ".join(lines)


def compare(
    ratings: Sequence[Rating],
    model: Sequence[str],
    experts: Sequence[str],
    temperatures: Mapping[str, float],
    capped: Sequence[str] = (),
) -> Verdict:
    """Compare each model player (``model``, at ``temperatures[name]``) with the best of ``experts``.

    ``capped`` experts played in the evaluation but their games were not in the training data,
    so they are not the bar the model must clear.
    """
    by_name = {rating.player: rating for rating in ratings}
    in_data = [_rated(by_name[name]) for name in experts if name in by_name and name not in capped]
    if not in_data:
        raise ValueError("no rated expert whose games were in the training data")
    in_data.sort(key=lambda rated: -rated.rating)
    best = in_data[0]
    points = []
    for name in model:
        if name not in by_name:
            continue
        rated = _rated(by_name[name])
        relation = "above" if rated.low > best.high else "below" if rated.high < best.low else "overlapping"
        points.append(ModelPoint(**asdict(rated), temperature=temperatures[name], versus_best=relation))
    points.sort(key=lambda point: point.temperature)
    return Verdict(best, in_data, sorted(capped), points)


def _rated(rating: Rating) -> Rated:
    return Rated(rating.player, rating.rating, rating.low, rating.high)


def _list(values: Sequence[float]) -> str:
    return ", ".join(f"{value:g}" for value in values)


def write_verdict(folder: Path, verdict: Verdict, ratings: Sequence[Rating], players: Mapping[str, Any],
                  title: str, facts: Sequence[str], rater: str | None = None) -> list[Path]:
    """``rating_vs_temperature.png`` (the model's curve, experts as reference lines), ``report.md`` and
    ``verdict.json`` in ``folder``; ``facts`` are extra report lines (the command, the data)."""
    from arena.rating.plots import plot_rating_vs_temperature

    shown = {point.name for point in verdict.points} | {expert.name for expert in verdict.experts} | set(verdict.capped)
    figure = plot_rating_vs_temperature(
        [rating for rating in ratings if rating.player in shown], players, folder / FIGURE,
        f"{title}: the model by temperature, its experts as reference lines", rater=rater,
    )
    lines = [f"# {title}", "", verdict.statement(), ""]
    lines += ["| temperature | model rating | 95% interval | versus the best expert |", "|---|---|---|---|"]
    lines += [f"| {p.temperature:g} | {p.rating:.0f} | [{p.low:.0f}, {p.high:.0f}] | {p.versus_best} |"
              for p in verdict.points]
    lines += ["", "| expert (in the training data) | rating | 95% interval |", "|---|---|---|"]
    lines += [f"| {e.name} | {e.rating:.0f} | [{e.low:.0f}, {e.high:.0f}] |" for e in verdict.experts]
    if verdict.capped:
        lines += ["", f"Left out of the training data by the rating cap: {', '.join(verdict.capped)}."]
    lines += ["", *facts, ""]
    paths = [folder / REPORT, folder / VERDICT]
    paths[0].write_text("\n".join(lines))
    paths[1].write_text(json.dumps({"transcends": verdict.transcends, "statement": verdict.statement(),
                                    **asdict(verdict)}, indent=2) + "\n")
    return ([figure] if figure else []) + paths

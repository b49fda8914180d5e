"""The study plugin: ``arena study FILE.yaml`` runs a transcendence study end to end.

Stages, each resumable and runnable alone with ``--stage``:

1. ``experts``: a league of expert players plays the data games (``OUT/experts/``);
2. ``train``: a trainer learns from those games, rating cap applied (``OUT/model/``);
3. ``evaluate``: a league of the model at several temperatures against the experts
   and any other players (``OUT/evaluation/``);
4. ``report``: the model's rating by temperature against the best expert, with
   95% intervals (``OUT/report.md``, ``OUT/verdict.json``, ``OUT/rating_vs_temperature.png``).

The file format is described in :mod:`arena_plugins.study.study`.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from arena import hookimpl
from arena.errors import ConfigError

from .study import (
    STAGES,
    Study,
    cap_note,
    evaluation_league,
    experts_league,
    load_study,
    model_checkpoint,
    model_players,
    training_config,
)


@click.command("study")
@click.argument("study_file", type=click.Path(dir_okay=False))
@click.option("--stage", "stages", multiple=True, type=click.Choice(STAGES),
              help="Run only this stage (repeatable) [default: all four, in order].")
@click.option("--out", type=click.Path(file_okay=False), help="Study folder [default: the file's out].")
@click.option("--fresh", is_flag=True, help="Start the chosen stages again (earlier league games are moved aside).")
@click.option("--check", is_flag=True, help="Check every section and print the plan; run nothing.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_obj
def study_command(app, study_file, stages, out, fresh, check, quiet):
    """Run a study: expert league, training on its games, evaluation league, transcendence report."""
    study = load_study(study_file, out)
    plugins = app.plugins
    config = training_config(study)
    trainer = plugins.trainers.get(config.trainer)
    if trainer is None:
        known = ", ".join(sorted(plugins.trainers))
        raise ConfigError(f"{config.source}: trainer: unknown trainer {config.trainer!r}; known: {known}")
    # Every section is checked before any stage runs: a typo in the evaluation
    # should not surface after the training.
    experts = experts_league(study, plugins)
    evaluation = evaluation_league(study, plugins, config)
    if check:
        _describe(study, experts, config, evaluation)
        return
    chosen = [stage for stage in STAGES if stage in stages] if stages else list(STAGES)
    study.out.mkdir(parents=True, exist_ok=True)
    (study.out / "study.yaml").write_text(study.text)
    from arena.cli.league import run_league

    for stage in chosen:
        click.echo(f"== {study.name}: stage {stage} ==")
        if stage == "experts":
            run_league(experts, fresh, quiet)
        elif stage == "train":
            if not (study.experts_folder / "standings.json").exists() and "sources" not in (study.train.get("data") or {}):
                raise ConfigError(f"{study.experts_folder} has no rated expert games yet; run the experts stage first")
            if config.filters.max_rating is not None:
                click.echo(cap_note(_expert_ratings(study), config.filters.max_rating))
            click.echo(f"checkpoint: {trainer.train(config, fresh=fresh, echo=click.echo, quiet=quiet)}")
        elif stage == "evaluate":
            _trained(config)
            run_league(evaluation_league(study, plugins, config), fresh, quiet)
        else:
            command = f"arena study {shlex.quote(study_file)}" + (f" --out {shlex.quote(out)}" if out else "")
            _report(study, plugins, experts, config, command)


def _trained(config) -> Path:
    checkpoint = model_checkpoint(config)
    if not checkpoint.exists():
        raise ConfigError(f"{checkpoint} does not exist yet; run the train stage first")
    return checkpoint


def _describe(study: Study, experts, config, evaluation) -> None:
    click.echo(f"{study.source}: study {study.name!r}, seed {study.seed}, folder {study.out}")
    click.echo(f"experts ({len(experts.players)}): {', '.join(p.name or '' for p in experts.players)}")
    click.echo(f"  {experts.schedule.type}, {experts.schedule.games} games per pairing")
    cap = config.filters.max_rating
    click.echo(f"train: trainer {config.trainer}, model {config.model}, {config.train.max_steps} steps, "
               f"rating cap {cap if cap is not None else 'none'}")
    click.echo(f"evaluate ({len(evaluation.players)}): {', '.join(p.name or '' for p in evaluation.players)}")
    click.echo(f"  {evaluation.schedule.type}, {evaluation.schedule.games} games per pairing")


def _report(study: Study, plugins, experts, config, command: str) -> None:
    """Stage 4: rate the evaluation games, compare the model with the best expert in its data, write the report."""
    from arena.rating.rate import build_raters, load_games, rate
    from arena.rating.standings import distinct_results

    from .verdict import compare, write_verdict

    checkpoint = _trained(config)
    evaluation = evaluation_league(study, plugins, config)
    games = load_games(study.evaluation_folder, plugins)
    rater_name, rater = next(iter(build_raters(evaluation.raters, plugins, evaluation.source).items()))
    anchors = {**games.anchors, **evaluation.anchors}
    ratings = rate(games, {rater_name: rater}, anchors)[rater_name]  # distinct games: copies count once
    model = model_players(evaluation, checkpoint)
    temperatures = {spec.name: float(spec.options.get("temperature", 1.0)) for spec in evaluation.players
                    if spec.name in model}
    expert_names = [spec.name or "" for spec in experts.players]
    data_ratings = _expert_ratings(study)
    cap = config.filters.max_rating
    capped = [name for name in expert_names if cap is not None and data_ratings.get(name, cap) > cap]
    verdict = compare(ratings, model, expert_names, temperatures, capped)
    facts = [
        f"Ratings: {rater_name} over the {len(games.results)} games of {study.evaluation_folder} "
        f"({len(distinct_results(games.results))} distinct: a game played again move for move counts once)"
        + (f", anchors {', '.join(f'{k} {v:g}' for k, v in sorted(anchors.items()))}" if anchors else
           ", no anchors (ratings relative, centred on 1500)") + ".",
        "Experts' ratings in their own league (the training data's ratings): "
        + ", ".join(f"{name} {rating:.0f}" for name, rating in data_ratings.items()) + ".",
        f"Rating cap of the training data: {cap if cap is not None else 'none'}; {_data_summary(config)}",
        f"Model: {checkpoint} (trainer {config.trainer}, {config.train.max_steps} steps, shape {config.model}).",
        f"Command: `{command}`",
    ]
    paths = write_verdict(study.out, verdict, ratings, games.players, study.name, facts, rater=rater_name)
    click.echo(verdict.statement())
    click.echo("report: " + "  ".join(str(path) for path in paths))


def _expert_ratings(study: Study) -> dict[str, float]:
    standings = study.experts_folder / "standings.json"
    if not standings.exists():
        return {}
    return {row["player"]: row["rating"] for row in json.loads(standings.read_text()) if row.get("rating") is not None}


def _data_summary(config) -> str:
    meta = config.out / "data" / "meta.json"
    if not meta.exists():
        return "no data summary."
    data = json.loads(meta.read_text())
    games = data.get("games", {})
    dropped = data.get("dropped") or {}
    left_out = "; ".join(f"{count} with {reason}" for reason, count in dropped.items()) or "none left out"
    return f"{games.get('train', 0)} training and {games.get('val', 0)} validation games ({left_out})."


@hookimpl
def register_commands(cli):
    cli.add_command(study_command)


@hookimpl
def recognize_file(data, source):
    if isinstance(data, dict) and {"experts", "train", "evaluate"} <= set(data):
        return f"a study file: run it with 'arena study {source}' (--check to check it)"
    return None

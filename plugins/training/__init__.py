"""The training plugin: the ``chessformer`` trainer and the ``arena train`` command.

torch is imported when a training run starts, not when the CLI loads.
"""

from __future__ import annotations

import click

from arena import hookimpl


class ChessFormer:
    """Registered under ``chessformer``; builds the real trainer on first use."""

    description = "nanoGPT-style ChessFormer on character transcripts (the paper's recipe)"

    def train(self, *args, **kwargs):
        from .trainer import ChessFormerTrainer

        return ChessFormerTrainer().train(*args, **kwargs)


@click.command("train")
@click.argument("training_file", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Output folder [default: the file's out].")
@click.option("--fresh", is_flag=True, help="Prepare the data again and start from step 0.")
@click.option("--prepare-only", is_flag=True, help="Only prepare the data shards and print the summary.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def train_command(app, training_file, out, fresh, prepare_only, quiet):
    """Train a model from a YAML training file; run it again to resume from the last checkpoint."""
    from arena.errors import ConfigError

    from .config import load_training

    config = load_training(training_file, out)
    if prepare_only:
        from .data import prepare

        click.echo(prepare(config.sources, config.filters, config.out / "data", config.validation, config.seed).describe())
        return
    trainer = app.plugins.trainers.get(config.trainer)
    if trainer is None:
        known = ", ".join(sorted(app.plugins.trainers))
        raise ConfigError(f"{config.source}: trainer: unknown trainer {config.trainer!r}; known: {known}")
    checkpoint = trainer.train(config, fresh=fresh, echo=click.echo, quiet=quiet)
    click.echo(f"checkpoint: {checkpoint}")


@hookimpl
def register_trainers(register):
    register("chessformer", ChessFormer())


@hookimpl
def register_commands(cli):
    from .diversity import diversity_command

    cli.add_command(train_command)
    cli.add_command(diversity_command)
    bench = cli.commands.get("bench")
    if bench is not None:
        from .bench import bench_train

        bench.add_command(bench_train)

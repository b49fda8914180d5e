"""The ``transformer`` player plugin: ChessFormer checkpoints (nanoGPT's layout) as players.

torch is imported only when a transformer player is built, so listing plugins
or playing engine leagues stays quick.
"""

from arena import hookimpl

from .player import TransformerPlayer


@hookimpl
def register_players(register):
    register("transformer", TransformerPlayer)


@hookimpl
def register_commands(cli):
    bench = cli.commands.get("bench")
    if bench is not None:
        from .bench import bench_transformer

        bench.add_command(bench_transformer)

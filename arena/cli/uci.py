"""``arena uci``: any arena player as a UCI engine on standard input and output."""

from __future__ import annotations

import sys

import click

from arena.cli.options import plugin_option
from arena.play.uci_server import UciServer
from arena.spec import parse_player_spec


@click.command("uci")
@click.argument("spec", metavar="PLAYER")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of the player's draws: the same seed and positions give the same moves.")
@plugin_option
@click.pass_obj
def uci(app, spec, seed):
    """Speak UCI on stdin/stdout as PLAYER, e.g. 'random' or
    'transformer:checkpoint=models/transcendence-tiny.pt,temperature=0.1,decoding=legal'.

    For cutechess-cli and fastchess: cmd=arena args="uci PLAYER"; for
    lichess-bot: an engine of protocol uci whose command runs this.
    """
    UciServer(parse_player_spec(spec), app.plugins, seed, sys.stdout).serve(sys.stdin)

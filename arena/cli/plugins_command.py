"""``arena plugins``: what is loaded and what it registers."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from arena.cli.options import plugin_option


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@plugin_option
@click.pass_obj
def plugins(app, as_json):
    """List loaded plugins, their versions, hooks and registered names."""
    infos = app.plugins.info()
    if as_json:
        click.echo(json.dumps([asdict(info) for info in infos], indent=2))
        return
    for info in infos:
        click.echo(f"{info.name} {info.version or ''}".rstrip() + f"  ({info.source})")
        click.echo(f"  hooks: {', '.join(info.hooks) or 'none'}")
        for kind in ("players", "raters", "trainers"):
            names = getattr(info, kind)
            if names:
                click.echo(f"  {kind}: {', '.join(sorted(names))}")

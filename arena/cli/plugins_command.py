"""``arena plugins``: what is loaded and what it registers; with ``--options``, each type's options."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from arena.cli.options import plugin_option
from arena.errors import ConfigError
from arena.options import expected, options_model

#: The kinds of registered types built from options.
OPTION_KINDS = ("players", "raters", "executors")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--options", "options_of", is_flag=False, flag_value="", default=None, metavar="[NAME]",
              help="List each player and rater type's options (type, default, help), or NAME's only.")
@plugin_option
@click.pass_obj
def plugins(app, as_json, options_of):
    """List loaded plugins, their versions, hooks and registered names (with --options: each type's options)."""
    if options_of is not None:
        _print_options(app.plugins, options_of, as_json)
        return
    infos = app.plugins.info()
    if as_json:
        click.echo(json.dumps([asdict(info) for info in infos], indent=2))
        return
    for info in infos:
        click.echo(f"{info.name} {info.version or ''}".rstrip() + f"  ({info.source})")
        click.echo(f"  hooks: {', '.join(info.hooks) or 'none'}")
        for kind in ("players", "raters", "trainers", "executors"):
            names = getattr(info, kind)
            if names:
                click.echo(f"  {kind}: {', '.join(sorted(names))}")


def option_table(plugins: Any, name: str = "") -> list[dict[str, Any]]:
    """Each player, rater and executor type (or only those called ``name``) with its plugin and options."""
    types = [
        {"kind": kind[:-1], "name": type_name, "plugin": plugins.owner(kind, type_name), "options": [
            {"name": option, "type": expected(field), "required": field.is_required(),
             "default": None if field.is_required() else field.default, "help": field.description or ""}
            for option, field in options_model(cls).model_fields.items()
        ]}
        for kind in OPTION_KINDS
        for type_name, cls in sorted(getattr(plugins, kind).items())
        if not name or type_name == name
    ]
    if not types:
        known = sorted(type_name for kind in OPTION_KINDS for type_name in getattr(plugins, kind))
        raise ConfigError(f"--options: no player, rater or executor type {name!r}; known types: {', '.join(known)}")
    return types


def _print_options(plugins: Any, name: str, as_json: bool) -> None:
    types = option_table(plugins, name)
    if as_json:
        click.echo(json.dumps(types, indent=2, default=str))
        return
    for entry in types:
        click.echo(f"{entry['kind']} {entry['name']}  (plugin {entry['plugin']})")
        rows = [
            (option["name"], option["type"],
             "required" if option["required"] else f"default: {_shown(option['default'])}", option["help"])
            for option in entry["options"]
        ]
        widths = [max((len(row[column]) for row in rows), default=0) for column in range(3)]
        for row in rows:
            click.echo("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
        if not rows:
            click.echo("  no options")


def _shown(value: Any) -> str:
    """A default as a YAML file would write it: ``none``, ``true``, ``16``."""
    if value is None or isinstance(value, bool):
        return str(value).lower()
    return str(value)

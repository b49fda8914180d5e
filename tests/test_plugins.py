"""The plugin system, exercised the way third parties use it."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import arena
from arena import PluginError, hookimpl, load_plugins
from arena.play.match import Match
from arena.plugins import PluginWarning
from arena.league.store import read_records
from arena.spec import PlayerSpec, parse_player_spec
from conftest import TESTS, run_arena


class FirstLegal(arena.Player):
    def __init__(self, *, reverse: bool = False):
        self.reverse = reverse

    def choose_one(self, request):
        moves = sorted(request.board.legal_moves, key=lambda m: m.uci(), reverse=self.reverse)
        return moves[0]


class ThrowawayPlugin:
    @hookimpl
    def register_players(self, register):
        register("firstlegal", FirstLegal)


def test_builtin_plugins_register_through_entry_points(plugins):
    infos = {info.name: info for info in plugins.info()}
    assert infos["random"].players == ["random"]
    assert sorted(infos["uci"].players) == ["stockfish", "uci"]
    assert infos["uci"].version == arena.__version__
    assert infos["uci"].hooks == ["register_players"]
    assert plugins.owner("players", "stockfish") == "uci"


def test_throwaway_plugin_plays_a_game():
    plugins = load_plugins(extra=[("throwaway", ThrowawayPlugin())])
    assert plugins.players["firstlegal"] is FirstLegal
    with Match(PlayerSpec("firstlegal", {"reverse": True}), parse_player_spec("random"), plugins) as match:
        assert match.names == ("firstlegal", "random")
        record = next(match.play(1, seed=5))
    assert record.moves[0].uci == max(m.uci() for m in __import__("chess").Board().legal_moves)
    assert record.white.options == {"reverse": True}


def test_duplicate_player_name_names_both_plugins():
    class Impostor:
        @hookimpl
        def register_players(self, register):
            register("random", FirstLegal)

    with pytest.raises(PluginError, match=r"plugin 'impostor' registers player 'random'.*plugin 'random' already"):
        load_plugins(extra=[("impostor", Impostor())])


def test_misspelled_hook_implementation_fails_loudly():
    class Typo:
        @hookimpl
        def register_player(self, register):  # missing the final 's'
            register("typo", FirstLegal)

    with pytest.raises(PluginError, match=r"plugin 'typo'.*register_player.*register_players"):
        load_plugins(extra=[("typo", Typo())])


def test_plugin_that_raises_while_registering_is_named():
    class Broken:
        @hookimpl
        def register_players(self, register):
            raise RuntimeError("boom")

    with pytest.raises(PluginError, match=r"plugin 'broken' failed in register_players: RuntimeError\('boom'\)"):
        load_plugins(extra=[("broken", Broken())])


def _broken_distribution(root: Path) -> None:
    """An installed-looking package whose entry point cannot be imported."""
    info = root / "arena_broken-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: arena-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[arena]\nbroken = arena_broken_missing_module\n")


def test_plugin_that_fails_to_import_is_named_and_can_be_left_out(tmp_path):
    _broken_distribution(tmp_path)
    done = run_arena("plugins", env={"PYTHONPATH": str(tmp_path)})
    assert done.returncode == 2
    assert "plugin 'broken'" in done.stderr and "arena-broken" in done.stderr
    assert "ARENA_PLUGINS" in done.stderr and "Traceback" not in done.stderr
    allowed = run_arena("plugins", "--json", env={"PYTHONPATH": str(tmp_path), "ARENA_PLUGINS": "random,uci"})
    assert allowed.returncode == 0, allowed.stderr
    assert [p["name"] for p in json.loads(allowed.stdout)] == ["random", "uci"]


def test_allow_list_loads_only_named_plugins(monkeypatch):
    monkeypatch.setenv("ARENA_PLUGINS", "random")
    assert sorted(load_plugins().players) == ["random"]
    monkeypatch.setenv("ARENA_PLUGINS", "")
    assert load_plugins().players == {}


def test_local_plugin_file_from_the_command_line(tmp_path):
    plugin = tmp_path / "my_player.py"
    plugin.write_text(
        "import arena\n"
        "class Last(arena.Player):\n"
        "    def choose_one(self, request):\n"
        "        return list(request.board.legal_moves)[-1]\n"
        "@arena.hookimpl\n"
        "def register_players(register):\n"
        "    register('last', Last)\n"
    )
    done = run_arena("--plugin", str(plugin), "play", "last", "random", "--games", "2", "--seed", "1",
                     "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    assert "last vs random: " in done.stdout
    listed = run_arena("--plugin", str(plugin), "plugins", "--json")
    entry = [p for p in json.loads(listed.stdout) if p["name"] == str(plugin)][0]
    assert entry["players"] == ["last"] and entry["source"] == f"file {plugin}"


def test_separately_installed_plugin_package(tmp_path):
    """Install tests/plugin_package like a user would (pip), then list it and play with it."""
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(TESTS / "plugin_package")],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stderr
    env = {"PYTHONPATH": str(target)}
    listed = run_arena("plugins", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    entry = [p for p in json.loads(listed.stdout) if p["name"] == "greedy_capture"][0]
    assert entry == {
        "name": "greedy_capture",
        "version": "0.3.0",
        "source": "package arena-greedy-capture",
        "hooks": ["register_players"],
        "players": ["greedy"],
        "raters": [],
        "trainers": [],
        "executors": [],
    }
    out = tmp_path / "run"
    played = run_arena("play", "greedy:greed=0.9", "random", "--games", "2", "--seed", "4", "--out", str(out), env=env)
    assert played.returncode == 0, played.stderr
    assert "greedy0.9 vs random" in played.stdout
    assert '[WhiteOptions "greed=0.9"]' in (out / "games.pgn").read_text()


def test_every_hook_is_documented_in_the_readme():
    readme = (TESTS.parent / "README.md").read_text()
    hooks = [name for name in dir(arena.hookspecs) if hasattr(getattr(arena.hookspecs, name), "arena_spec")]
    assert len(hooks) == 8
    for name in hooks:
        parameters = ", ".join(inspect.signature(getattr(arena.hookspecs, name)).parameters)
        heading = f"### `{name}({parameters})`"
        assert heading in readme, f"README lacks a section {heading!r}"


def test_game_finished_hook_sees_every_game():
    seen = []

    class Logger:
        @hookimpl
        def game_finished(self, record):
            seen.append(record.game_id)

    plugins = load_plugins(extra=[("logger", Logger())])
    with Match(parse_player_spec("random"), parse_player_spec("random"), plugins) as match:
        ids = [r.game_id for r in match.play(3, seed=1)]
    assert seen == ids == ["1", "2", "3"]


def test_readme_plugin_example_works_as_written(tmp_path):
    readme = (TESTS.parent / "README.md").read_text()
    section = readme.split("## Write a player plugin", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    plugin = tmp_path / "mobility.py"
    plugin.write_text(code)
    out = tmp_path / "run"
    done = run_arena("--plugin", str(plugin), "play", "mobility:captures_first=true", "random",
                     "--games", "2", "--seed", "3", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "mobility vs random: " in done.stdout
    records = list(read_records(out))
    assert all(not r.termination.is_forfeit for r in records)
    # The same with --plugin after the command, as README also shows it.
    after = run_arena("play", "mobility", "random", "--plugin", str(plugin), "--games", "2", "--seed", "3",
                      "--out", str(tmp_path / "after"))
    assert after.returncode == 0, after.stderr
    assert "mobility vs random: " in after.stdout


UNMARKED_PLUGIN = '''import arena
from os.path import join as register_player  # imported, not the plugin's own: never reported


class Last(arena.Player):
    def choose_one(self, request):
        return list(request.board.legal_moves)[-1]


def register_players(register):  # no @arena.hookimpl: arena never calls it
    register("last", Last)


def game_finishd(record):  # misspelt and unmarked
    pass


def helper():
    pass
'''


def line_of(text: str, start: str) -> int:
    """The 1-based number of the first line of ``text`` that starts with ``start``."""
    return next(number for number, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_a_hook_function_without_hookimpl_is_named_in_a_warning(tmp_path):
    plugin = tmp_path / "unmarked.py"
    plugin.write_text(UNMARKED_PLUGIN)
    with pytest.warns(PluginWarning) as caught:
        plugins = load_plugins([plugin])
    assert "last" not in plugins.players
    found = sorted((str(w.message), w.filename, w.lineno) for w in caught)
    assert len(found) == 2, found
    (misspelt, *_), (unmarked, *_) = found
    # Each warning points at the plugin's own def line, and says what to do.
    assert found[0][1:] == (str(plugin), line_of(UNMARKED_PLUGIN, "def game_finishd"))
    assert found[1][1:] == (str(plugin), line_of(UNMARKED_PLUGIN, "def register_players"))
    assert f"plugin {str(plugin)!r}: register_players() is not marked with @arena.hookimpl" in unmarked
    assert "game_finishd() looks like the hook game_finished()" in misspelt


def test_marked_hooks_and_unmarked_methods_of_plugin_objects(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the built-in plugins and a correct plugin load without a warning
        assert load_plugins(extra=[("throwaway", ThrowawayPlugin())]).players["firstlegal"] is FirstLegal

    class Forgetful:
        def register_raters(self, register):
            raise AssertionError("never called")

    with pytest.warns(PluginWarning, match=r"plugin 'forgetful': register_raters\(\) is not marked"):
        load_plugins(extra=[("forgetful", Forgetful())])


def test_the_command_line_shows_the_warning_beside_the_unknown_player_error(tmp_path):
    plugin = tmp_path / "unmarked.py"
    plugin.write_text(UNMARKED_PLUGIN)
    done = run_arena("--plugin", str(plugin), "play", "last", "random", "-n", "1",
                     "--out", str(tmp_path / "run"))
    assert done.returncode == 2
    assert "unknown player type 'last'" in done.stderr
    assert "register_players() is not marked with @arena.hookimpl" in done.stderr
    assert done.stderr.count("register_players() is not marked") == 1


def test_a_league_warns_once_not_once_per_worker(tmp_path):
    plugin = tmp_path / "half.py"
    marked = UNMARKED_PLUGIN.replace("def register_players", "@arena.hookimpl\ndef register_players")
    plugin.write_text(marked)
    league = tmp_path / "league.yaml"
    league.write_text(
        "name: half\nconcurrency: 2\nplugins: [half.py]\n"
        "players: [{type: last}, {type: random}]\nschedule: {type: round_robin, games: 4}\n"
    )
    done = run_arena("league", str(league), "--out", str(tmp_path / "run"), "--quiet")
    assert done.returncode == 0, done.stderr
    assert len(list(read_records(tmp_path / "run"))) == 4
    assert done.stderr.count("game_finishd() looks like the hook game_finished()") == 1, done.stderr


def test_the_readme_documents_the_player_interface_a_plugin_author_needs():
    readme = (TESTS.parent / "README.md").read_text()
    section = " ".join(readme.split("## Write a player plugin", 1)[1].split("\n## Hooks", 1)[0].split())
    for field in dataclasses.fields(arena.MoveRequest):
        assert f"`{field.name}`" in section, f"README's plugin section does not explain {field.name}"
    for name in ("default_name()", "describe()", "start()", "close()", "game_over(", "choose(requests)",
                 "arena.ConfigError", "arena.MoveReply"):
        assert name in section, name
    assert "as each game starts, before its first move" in section  # when describe() is called
    hooks = readme.split("\n## Hooks", 1)[1].split("\n## ", 1)[0]
    assert "PluginWarning" in hooks and "never called" in hooks


# --- one plugin set in every process ------------------------------------------------------------------------

GREETING_PLUGIN = '''
import click
import arena


class Last(arena.Player):
    def choose_one(self, request):
        return list(request.board.legal_moves)[-1]


@arena.hookimpl
def register_players(register):
    register("last", Last)


@arena.hookimpl
def register_commands(cli):
    @cli.command("greet")
    def greet():
        """Say hello from a plugin file."""
        click.echo("hello from a plugin file")
'''


def _two_worker_league(tmp_path: Path, player: str) -> Path:
    league = tmp_path / "league.yaml"
    league.write_text(
        f"name: two\nconcurrency: 2\nout: run\nrules: {{max_moves: 8}}\n"
        f"players: [{{type: {player}}}, {{type: random}}]\nschedule: {{type: round_robin, games: 4}}\n"
    )
    return league


def test_a_plugin_file_before_the_command_plays_its_player_in_every_worker(tmp_path):
    from click.testing import CliRunner

    from arena.cli import cli

    plugin = tmp_path / "greeting.py"
    plugin.write_text(GREETING_PLUGIN)
    league = _two_worker_league(tmp_path, "last")
    done = CliRunner().invoke(cli, ["--plugin", str(plugin), "league", str(league), "--quiet"])
    assert done.exit_code == 0, (done.output, done.exception)
    records = list(read_records(tmp_path / "run"))
    assert len(records) == 4 and {record.white.type for record in records} == {"last", "random"}


def test_a_plugin_registered_in_code_reaches_the_workers(tmp_path):
    from arena.league.config import load_league
    from arena.league.run import LeagueRun

    plugins = load_plugins(extra=[("throwaway", ThrowawayPlugin())])
    league = load_league(_two_worker_league(tmp_path, "firstlegal"), plugins)
    assert league.concurrency == 2
    LeagueRun(league).play()
    records = list(read_records(tmp_path / "run"))
    assert len(records) == 4 and {record.black.type for record in records} == {"firstlegal", "random"}


def test_a_plugin_file_on_the_command_line_adds_its_commands(tmp_path, capsys):
    from arena.cli import main

    plugin = tmp_path / "greeting.py"
    plugin.write_text(GREETING_PLUGIN)
    for argv in (["--plugin", str(plugin), "greet"], ["greet", f"--plugin={plugin}"]):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 0
        assert "hello from a plugin file" in capsys.readouterr().out


def test_a_league_file_with_plugins_keeps_those_registered_in_code(tmp_path):
    from arena.league.config import load_league

    rater = tmp_path / "rater.py"
    rater.write_text("import arena\nfrom arena_plugins.raters import Glicko2Rater\n"
                     "@arena.hookimpl\ndef register_raters(register):\n    register('again', Glicko2Rater)\n")
    league = _two_worker_league(tmp_path, "firstlegal")
    league.write_text(league.read_text() + f"plugins: [{rater.name}]\nraters: [again]\n")
    loaded = load_league(league, load_plugins(extra=[("throwaway", ThrowawayPlugin())]))
    assert "firstlegal" in loaded.plugins.players and "again" in loaded.plugins.raters
    assert loaded.plugins.recipe.files == (str(rater.resolve()),)

"""Options are declared once, as typed keyword arguments, and every player, rater and training file is checked from them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from click.testing import CliRunner
from pydantic import Field

import arena
from arena import ConfigError, hookimpl, load_plugins
from arena.cli import cli
from arena.errors import PluginError
from arena.options import options_model, validate_options
from arena.rating.rate import build_raters
from arena.spec import PlayerSpec, build_player, parse_player_spec
from arena.yaml_checks import parse_yaml
from arena_plugins.training.config import load_training
from conftest import TESTS


class Captures(arena.Player):
    """A third-party player that never validates its own options."""

    def __init__(self, *, captures_first: bool = False, depth: Annotated[int, Field(ge=1)] = 1):
        self.captures_first = captures_first
        self.depth = depth

    def choose_one(self, request):
        return next(iter(request.board.legal_moves))


class Buggy(arena.Player):
    """A player whose constructor trips over a value its declaration accepts."""

    def __init__(self, *, ratio: float = 1.0):
        self.ratio = int("x" * int(ratio))

    def choose_one(self, request):
        return next(iter(request.board.legal_moves))


class Exotic(arena.Player):
    """Annotations pydantic cannot check (a name that does not exist at run time, a non-type) accept anything."""

    def __init__(self, *, hook: NoSuchType | None = None, mark: 42 = 0):  # noqa: F821
        self.hook, self.mark = hook, mark

    def choose_one(self, request):
        return next(iter(request.board.legal_moves))


class ThirdParty:
    @hookimpl
    def register_players(self, register):
        register("captures", Captures)
        register("buggy", Buggy)
        register("exotic", Exotic)


@pytest.fixture(scope="module")
def third_party():
    return load_plugins(extra=[("third_party", ThirdParty())])


def refusal(spec: PlayerSpec, plugins) -> str:
    with pytest.raises(ConfigError) as caught:
        build_player(spec, plugins)
    return str(caught.value)


def test_a_built_in_players_options_are_checked_from_its_declaration(plugins):
    source = "league.yaml: players[2]"
    spec = PlayerSpec("random", {"seed": 1}, source=source)
    assert refusal(spec, plugins) == "league.yaml: players[2]: player 'random' has no option 'seed'; its options are: none"
    assert refusal(PlayerSpec("stockfish", {"skill": 30}, source=source), plugins) == (
        "league.yaml: players[2]: player 'stockfish:skill=30': option skill=30 must be a whole number from 0 to 20")
    assert "option skill='3' must be a whole number" in refusal(PlayerSpec("stockfish", {"skill": "3"}), plugins)
    assert "option threads=True must be a positive whole number" in refusal(parse_player_spec("stockfish:threads=true"),
                                                                            plugins)
    assert "option nodes=1000.0 must be a positive whole number: write 1000" in refusal(
        parse_player_spec("stockfish:nodes=1e3"), plugins)
    message = refusal(PlayerSpec("stockfish", {"skil": 3, "movetime": 50}, source=source), plugins)
    assert message.startswith("league.yaml: players[2]: player 'stockfish' has no option 'skil' (did you mean 'skill'?)")
    assert "its options are: skill, elo, movetime" in message


def test_a_third_party_players_options_are_checked_without_code_of_its_own(third_party):
    message = refusal(parse_player_spec("captures:captures_first=maybe"), third_party)
    assert message == ("command line: player 'captures:captures_first=maybe': "
                       "option captures_first='maybe' must be true or false")
    assert "option depth=0 must be a whole number >= 1" in refusal(parse_player_spec("captures:depth=0"), third_party)
    assert "has no option 'captures' (did you mean 'captures_first'?)" in refusal(
        parse_player_spec("captures:captures=true"), third_party)
    player = build_player(parse_player_spec("captures:captures_first=true,depth=2"), third_party)
    assert player.captures_first is True and player.depth == 2


def test_a_local_plugin_files_options_are_checked():
    plugins = load_plugins([TESTS / "local_plugins" / "batch_recorder.py"])
    assert "option log=3 must be text" in refusal(PlayerSpec("batch_recorder", {"log": 3}), plugins)
    assert "option log is required: text" in refusal(PlayerSpec("batch_recorder"), plugins)


def test_a_constructor_failing_on_accepted_options_is_a_plugin_bug_not_a_config_error(third_party):
    with pytest.raises(PluginError) as caught:
        build_player(parse_player_spec("buggy:ratio=2"), third_party)
    message = str(caught.value)
    assert message.startswith("plugin bug in player type 'buggy': ValueError: invalid literal for int()")
    assert f"(at {__file__}:" in message


def test_annotations_pydantic_cannot_check_accept_anything(third_party):
    player = build_player(PlayerSpec("exotic", {"hook": object, "mark": "any"}), third_party)
    assert player.hook is object and player.mark == "any"
    assert set(options_model(Exotic).model_fields) == {"hook", "mark"}


def test_values_keep_their_type_where_nothing_was_coerced(tmp_path, plugins):
    assert validate_options(Captures, {"depth": 3}) == {"depth": 3}
    weights = tmp_path / "w.pt"
    weights.write_text("")
    checked = validate_options(plugins.players["transformer"], {"checkpoint": str(weights), "temperature": 0})
    assert checked == {"checkpoint": str(weights), "temperature": 0.0}
    assert type(checked["checkpoint"]) is str and type(checked["temperature"]) is float


def test_rater_options_are_checked_with_the_key_path():
    message = pytest.raises(ConfigError, build_raters, ["glicko2_paper:tau=0"], load_plugins(), "league.yaml").value
    assert str(message) == ("league.yaml: raters[0]: rater 'glicko2_paper:tau=0': "
                            "option tau=0 must be a positive number")
    message = pytest.raises(ConfigError, build_raters, [{"type": "glicko2", "prior_rd": "wide"}], load_plugins(),
                            "league.yaml").value
    assert "league.yaml: raters[0]: rater 'glicko2:prior_rd=wide': option prior_rd='wide' must be a positive" in str(message)
    message = pytest.raises(ConfigError, build_raters, ["glicko2:tau=0.5"], load_plugins(), "league.yaml").value
    assert "rater 'glicko2' has no option 'tau'; its options are: prior_rd, white_advantage" in str(message)


def test_training_file_values_are_checked_by_type_with_the_key_path(tmp_path):
    (tmp_path / "games.pgn").write_text("")
    path = tmp_path / "t.yaml"
    sources = "data: {sources: [{path: games.pgn}]}\n"
    assert parse_yaml("learning_rate: 3e-4") == {"learning_rate": 0.0003}
    path.write_text(sources + "train: {learning_rate: 3e-4, betas: [0.8, 0.9], compile: true}\n")
    train = load_training(path).train
    assert train.learning_rate == 0.0003 and type(train.learning_rate) is float
    assert train.betas == (0.8, 0.9) and train.compile is True
    for text, message in (
        ("train: {learning_rate: '3e-4'}", "train.learning_rate: '3e-4' must be a number >= 0, without quotes"),
        ("train: {batch_size: 0}", "train.batch_size: 0 must be a whole number >= 1"),
        ("train: {max_steps: 1e4}", "train.max_steps: 10000.0 must be a whole number >= 1: write 10000"),
        ("train: {betas: [0.9]}", "train.betas: [0.9] must be two numbers, e.g. [0.9, 0.95]"),
        ("train: {compile: maybe}", "train.compile: 'maybe' must be true or false"),
        ("data: {sources: [{path: games.pgn}], filters: {min_moves: ten}}",
         "data.filters.min_moves: 'ten' must be a whole number"),
    ):
        path.write_text(sources + text + "\n")
        with pytest.raises(ConfigError) as caught:
            load_training(path)
        assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)


def test_every_training_section_is_checked_when_the_file_is_read(tmp_path):
    (tmp_path / "games.pgn").write_text("")
    path = tmp_path / "t.yaml"
    sources = "data: {sources: [{path: games.pgn}]}\n"
    path.write_text(sources + "model: {size: tiny, dropout: 0.1}\nevaluate: {opponents: random, games: 2}\n")
    config = load_training(path)
    assert config.model == {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 256, "dropout": 0.1}
    assert config.evaluate == {"opponents": ["random"], "games": 2, "temperature": 0.1, "decoding": "sample"}
    path.write_text("data: {sources: [{path: games.pgn}], filters: {speeds: blitz}}\n")
    assert load_training(path).filters.speeds == ("blitz",)
    for text, message in (
        ("evaluate: {games: 2}", "evaluate.opponents: is required: a list of at least one player spec"),
        ("evaluate: {opponents: []}", "evaluate.opponents: [] must be a list of at least one player spec"),
        ("evaluate: {opponents: [random], temperature: hot}", "evaluate.temperature: 'hot' must be a number >= 0"),
        ("evaluate: {opponents: [random], decoding: beam}", "evaluate.decoding: 'beam' must be one of sample, legal"),
        ("evaluate: {opponents: [random], game: 2}", "evaluate.game: unknown key; allowed keys: decoding, games, "
                                                     "opponents, temperature (did you mean 'games'?)"),
        ("model: {n_layer: 0}", "model.n_layer: 0 must be a whole number >= 1"),
        ("model: {dropout: 1.5}", "model.dropout: 1.5 must be a number >= 0 and < 1"),
        ("model: {bias: maybe}", "model.bias: 'maybe' must be true or false"),
        ("model: {n_head: 3}", "model: n_embd 128 is not a multiple of n_head 3"),
        ("data: {sources: [{path: games.pgn}], validation: 1}", "data.validation: 1 must be a fraction between 0 and 1"),
        ("data: {sources: [{path: games.pgn}], filters: {speeds: [blitz, fast]}}",
         "data.filters.speeds: ['blitz', 'fast'] must be a list of speed classes from ultrabullet, bullet, blitz"),
        ("data: {sources: [games.pgn]}", "data.sources[0]: must be a mapping, not str"),
        ("data: {sources: [{path: games.pgn, run: r}]}", "data.sources[0]: needs exactly one of 'path'"),
        ("data: {sources: [{run: r, ratings: {a: high}}]}",
         "data.sources[0].ratings: {'a': 'high'} must be a mapping of player names to ratings"),
        ("seed: yes", "seed: True must be a whole number"),
    ):
        path.write_text(sources + text + "\n")
        with pytest.raises(ConfigError) as caught:
            load_training(path)
        assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)


def test_league_keys_are_checked_from_their_declarations(tmp_path, plugins):
    from arena.league.config import load_league

    path = tmp_path / "league.yaml"
    players = "players: [{type: random}, {type: stockfish, nodes: 50}]\n"
    path.write_text(players + "schedule: {type: gauntlet, challengers: rand*, games: 4}\n"
                              "rules: {max_moves: 40, illegal_attempts: 5}\nplugins: null\n")
    league = load_league(path, plugins)
    assert league.schedule.challengers == ("rand*",) and league.schedule.opponents == ()
    assert (league.rules.max_moves, league.rules.illegal_attempts) == (40, 5)
    assert league.concurrency_default and league.raters == ("glicko2",)
    for text, message in (
        ("raters: glicko2", "raters: 'glicko2' must be a list of raters, e.g. [glicko2, bradley_terry]"),
        ("rules: {move_cap_result: win}", "rules.move_cap_result: 'win' must be one of draw, eval"),
        ("rules: {illegal_attempts: 0}", "rules.illegal_attempts: 0 must be a whole number >= 1"),
        ("rules: {max_moves: '89'}", "rules.max_moves: '89' must be a whole number >= 1"),
        ("seed: yes", "seed: True must be a whole number"),
        ("games_in_flight: 2.0", "games_in_flight: 2.0 must be a whole number >= 1: write 2"),
        ("schedule: {type: gauntlet, challengers: [1]}",
         "schedule.challengers: [1] must be a list of player names or patterns like 'cf-*'"),
        ("schedule: {challengers: [random]}", "schedule: challengers/opponents apply to type: gauntlet only"),
        ("out: 5", "out: 5 must be text"),
        ("plugins: [3]", "plugins: [3] must be a list of .py file paths"),
    ):
        path.write_text(players + text + "\n")
        with pytest.raises(ConfigError) as caught:
            load_league(path, plugins)
        assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)


def test_study_keys_are_checked_from_their_declarations(tmp_path):
    import yaml

    from arena_plugins.study.study import load_study

    path = tmp_path / "s.yaml"
    sections = {"experts": {"players": ["random"]}, "train": {"model": {}}, "evaluate": {"players": []}}
    path.write_text(yaml.safe_dump({**sections, "seed": 7, "name": "s1"}))
    study = load_study(path)
    assert (study.seed, study.name, study.out) == (7, "s1", Path("results") / "s1")
    for extra, message in (
        ({"seed": "one"}, "seed: 'one' must be a whole number"),
        ({"name": 3}, "name: 3 must be text"),
        ({"expert": {}}, "expert: unknown key; allowed keys: evaluate, experts, name, out, seed, train "
                         "(did you mean 'experts'?)"),
    ):
        path.write_text(yaml.safe_dump({**sections, **extra}))
        with pytest.raises(ConfigError) as caught:
            load_study(path)
        assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)


def test_plugins_options_lists_every_type_with_type_default_and_help(plugins):
    done = CliRunner().invoke(cli, ["plugins", "--options"], obj=plugins)
    assert done.exit_code == 0, done.output
    for line in ("player stockfish  (plugin uci)", "player random  (plugin random)", "rater glicko2  (plugin raters)"):
        assert line in done.output
    done = CliRunner().invoke(cli, ["plugins", "--options", "stockfish"], obj=plugins)
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "player stockfish  (plugin uci)" and "rater" not in done.output
    skill = next(line for line in lines if line.split()[0] == "skill")
    assert "a whole number from 0 to 20" in skill and "default: none" in skill and "UCI Skill Level" in skill
    assert "default: 16" in next(line for line in lines if line.split()[0] == "hash")
    done = CliRunner().invoke(cli, ["plugins", "--options", "noisy"], obj=plugins)
    epsilon = next(line for line in done.output.splitlines() if line.split()[0] == "epsilon")
    assert "a probability from 0 to 1" in epsilon and "required" in epsilon
    done = CliRunner().invoke(cli, ["plugins", "--options", "stockfsh"], obj=plugins)
    assert isinstance(done.exception, ConfigError) and "no player, rater or executor type 'stockfsh'" in str(done.exception)

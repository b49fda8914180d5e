"""Every command README.md shows is run by a test, or README says why it is not.

README's commands are the lines starting with ``arena `` or ``make `` in its
```bash blocks, the ``$ arena ...`` lines of its output examples, and the
inline code in tables and prose that is a whole command (``arena`` and at
least two more words, no placeholder such as ``FILE``). Each has an entry in
:data:`COMMANDS`: the test that runs it (whose code, with the helpers and
constants of its file that it uses, must hold the command's words), or the
reason it is not run, in README's own words in the same section. The tests
below run the cheap commands nobody else runs, as written, in a temporary
folder; so does the last one for every player spec of README's spec table.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena import EngineNotFoundError
from arena.cli import cli
from arena.league.store import read_records
from arena_engines import locate_engine
from conftest import ROOT, run_arena

README = ROOT / "README.md"
#: Faults that must not end a game a README example plays (an illegal move by a model may).
FAULTS = {"crash", "timeout", "player_error", "time_forfeit"}


@dataclass(frozen=True)
class RunBy:
    """The test that runs a README command.

    ``replaced`` are the command's words the test gives otherwise (a run
    folder in a temporary directory, fewer games); ``needles``, where given,
    are what the test's code must hold instead of the command's words.
    """

    test: str
    replaced: tuple[str, ...] = ()
    needles: tuple[str, ...] | None = None


@dataclass(frozen=True)
class NotRun:
    """A README command no test runs, and why: words README states in the command's section."""

    reason: str


HERE = "tests/test_readme.py::"
SMOKE = HERE + "test_the_smoke_league_and_its_reports_run_as_in_the_readme"

COMMANDS: dict[str, RunBy | NotRun] = {
    "make demo": RunBy(HERE + "test_the_demo_league_runs_as_make_demo_runs_it",
                       needles=("demo:", "league", "configs/demo.yaml")),
    "make test": NotRun("run the test suite"),
    "arena validate configs/smoke.yaml": RunBy(SMOKE),
    "arena league configs/smoke.yaml": RunBy(SMOKE),
    "arena league configs/smoke.yaml --executor ray": RunBy(
        "tests/test_ray.py::test_the_smoke_league_on_a_local_ray_plays_the_same_games_as_local_workers",
        replaced=("configs/smoke.yaml",)),
    "arena compare stockfish:nodes=400 stockfish:nodes=25 --sprt elo0=0,elo1=100 --max-games 400 --max-moves 80 "
    "--concurrency 2 --out results/sf-nodes": RunBy(
        "tests/test_compare.py::test_a_compare_of_two_node_budgets_stops_with_h1_long_before_its_cap",
        replaced=("results/sf-nodes",)),
    "arena compare results/sf-nodes stockfish@nodes=25 stockfish@nodes=400 --sprt elo0=0,elo1=100 --json": RunBy(
        "tests/test_compare.py::test_compare_on_a_run_folder_prints_the_head_to_head_and_the_sprt",
        replaced=("results/sf-nodes",)),
    "arena play transformer:checkpoint=ckpt/cap1000.pt,temperature=0.1,decoding=legal stockfish:skill=1": RunBy(
        HERE + "test_the_transformer_command_plays_with_the_shipped_model_in_place"),
    "arena train configs/train/tiny.yaml": NotRun("Its 300 steps take minutes on a CPU"),
    "arena train configs/train/tiny.yaml --prepare-only": RunBy(SMOKE),
    "arena bench train": NotRun("several minutes on a CPU, so the tests do not run it"),
    "arena study configs/transcendence.yaml --check": RunBy("tests/test_study.py::test_the_shipped_study_checks"),
    "arena study configs/transcendence.yaml": NotRun("43 minutes on two cores"),
    "arena study configs/transcendence.yaml --stage report": RunBy(
        HERE + "test_the_shipped_study_report_is_rebuilt_from_its_records"),
    "arena uci random": RunBy("tests/test_uci_server.py::test_python_chess_plays_whole_games_against_arena_uci"),
    "arena uci transformer:checkpoint=models/transcendence-tiny.pt,temperature=0.1,decoding=legal": RunBy(
        "tests/test_uci_server.py::test_python_chess_plays_whole_games_against_arena_uci",
        replaced=("transformer:checkpoint=models/transcendence-tiny.pt,temperature=0.1,decoding=legal",),
        needles=("uci", "transformer:checkpoint=", "models", "transcendence-tiny.pt", ",temperature=0.1,decoding=legal")),
    "arena uci noisy:epsilon=0.2,player.type=stockfish,player.nodes=50": RunBy(
        "tests/test_uci_server.py::test_python_chess_plays_whole_games_against_arena_uci"),
    "arena diversity results/transcendence/experts/games.pgn --by band --json": RunBy(
        "tests/test_diversity.py::test_by_band_a_band_that_always_plays_the_same_moves_has_zero_diversity",
        replaced=("results/transcendence/experts/games.pgn",), needles=("--by", "band", "--json")),
    "arena puzzles lichess_puzzles.csv stockfish:nodes=100000 --json": RunBy(
        "tests/test_puzzles.py::test_a_strong_engine_solves_every_puzzle_and_random_does_not",
        replaced=("lichess_puzzles.csv",)),
    "arena rate results/smoke": RunBy(SMOKE),
    "arena rate games.pgn --anchor stockfish-skill1=1554": RunBy(SMOKE),
    "arena rate results/smoke --rater glicko2 --rater bradley_terry --json": RunBy(SMOKE),
    "arena report results/smoke": RunBy(SMOKE),
    "arena bench rate": RunBy("tests/test_bench.py::test_bench_rate_without_ordo_says_so_and_prints_the_raters_figures"),
    "arena bench sprt": RunBy(
        "tests/test_bench.py::test_bench_sprt_prints_error_rates_and_pairs_beside_the_fixed_length_test"),
    "arena bench sprt --sprt elo0=0,elo1=20,model=logistic --runs 50 --draw-ratio 0.6": RunBy(
        "tests/test_bench.py::test_bench_sprt_prints_error_rates_and_pairs_beside_the_fixed_length_test"),
    "arena play stockfish:skill=3,nodes=2000 random --games 10 --out results/sf3-vs-random --seed 7": RunBy(
        HERE + "test_the_play_command_plays_ten_games_that_its_seed_replays"),
    "arena --plugin mobility.py play mobility random": RunBy(
        "tests/test_plugins.py::test_readme_plugin_example_works_as_written"),
    "arena play mobility random --plugin mobility.py": RunBy(
        "tests/test_plugins.py::test_readme_plugin_example_works_as_written"),
    "arena bench transformer": RunBy(HERE + "test_bench_transformer_runs_small"),
    "arena bench transformer --size small --rounds 2 --paper-moves 1 --games 1,2": RunBy(
        HERE + "test_bench_transformer_runs_small"),
    "arena bench league --executor ray": RunBy(
        "tests/test_ray.py::test_bench_league_on_ray_prints_its_runs_beside_local_and_the_ratio"),
    "arena bench league": RunBy("tests/test_bench.py::test_bench_league_prints_three_rows_and_the_ratios"),
    "arena plugins --options": RunBy(
        "tests/test_options.py::test_plugins_options_lists_every_type_with_type_default_and_help"),
    "arena plugins --options stockfish": RunBy(
        "tests/test_options.py::test_plugins_options_lists_every_type_with_type_default_and_help"),
    "arena rate results/calibration --write-anchors anchors.yaml": RunBy(
        "tests/test_reports.py::test_calibration_writes_anchors_that_presets_then_carry",
        replaced=("results/calibration",)),
}


# ---- reading README ----------------------------------------------------------------------------

def readme() -> str:
    return README.read_text()


def sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each ``## `` section, the text before the first under ''."""
    parts = re.split(r"^(## .*)$", text, flags=re.MULTILINE)
    return [("", parts[0])] + list(zip(parts[1::2], parts[2::2]))


def normal(command: str) -> str:
    """A command as its words: comments and quotes gone, one space apart."""
    return " ".join(shlex.split(command, comments=True))


def is_whole_command(code: str) -> bool:
    """Inline code that is a command to run: ``arena`` and two more words, none a placeholder (``FILE``)."""
    words = code.split()
    return (
        len(words) >= 3
        and words[0] in ("arena", "make")
        and not any(re.fullmatch(r"[A-Z][A-Z_]*(=[A-Z_]+)?", word) for word in words)
    )


def commands_in(text: str) -> list[str]:
    """Every command README shows, in order, once each."""
    found: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
            continue
        if fence == "bash" and line.startswith(("arena ", "make ")):
            found.append(normal(line))
        elif fence is not None and line.startswith("$ arena "):
            found.append(normal(line[2:]))
    prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)  # inline code only
    for code in re.findall(r"`([^`]+)`", prose):
        code = " ".join(code.split())  # a span may wrap over lines
        if is_whole_command(code):
            found.append(normal(code))
    return list(dict.fromkeys(found))


def section_of(text: str, command: str) -> str:
    """The body of the README section that shows ``command`` first."""
    for heading, body in sections(text):
        if command in commands_in(body):
            return heading + body
    raise LookupError(command)


def player_specs(text: str) -> list[tuple[str, str]]:
    """(spec, description) of each row of README's player spec table."""
    table = text.split("### Player specs", 1)[1].split("\n\n|", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in ("|" + table).splitlines() if line.startswith("| `")]
    return [re.match(r"\| `([^`]+)` \| (.*) \|$", row).groups() for row in rows]


# ---- reading the tests -------------------------------------------------------------------------

def code_of(test: str) -> list[ast.AST]:
    """The test function and the module-level helpers, fixtures and constants of its file it uses."""
    path, _, name = test.partition("::")
    tree = ast.parse((ROOT / path).read_text())
    defined: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        defined[leaf.id] = node
    if name not in defined or not isinstance(defined[name], ast.FunctionDef):
        raise LookupError(f"{path} has no test function {name}")
    used, todo = [], [name]
    while todo:
        node = defined.get(todo.pop())
        if node is None or node in used:
            continue
        used.append(node)
        todo += [leaf.id for leaf in ast.walk(node) if isinstance(leaf, ast.Name)]
        if isinstance(node, ast.FunctionDef):  # its fixtures, where the file defines them
            todo += [argument.arg for argument in node.args.args]
    return used


def strings_of(nodes: list[ast.AST]) -> list[str]:
    return [leaf.value for node in nodes for leaf in ast.walk(node)
            if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str)]


def holds(strings: list[str], word: str) -> bool:
    """A word is in the test's strings whole, or (a path) as its parts: ``ROOT / "configs" / "x.yaml"``."""
    if any(word in string for string in strings):
        return True
    return "/" in word and all(any(part in string for string in strings) for part in word.split("/"))


def needles(command: str, entry: RunBy) -> list[str]:
    if entry.needles is not None:
        return list(entry.needles)
    return [word for word in shlex.split(command)[1:] if word not in entry.replaced]


# ---- the index ---------------------------------------------------------------------------------

def test_every_readme_command_has_an_entry():
    commands = commands_in(readme())
    assert len(commands) >= 20  # the extraction itself works
    missing = [command for command in commands if command not in COMMANDS]
    assert not missing, (
        "README shows commands that tests/test_readme.py's COMMANDS does not list:\n"
        + "".join(f"    {command!r}\n" for command in missing)
        + "Add each with RunBy('tests/test_x.py::test_that_runs_it') (its code must hold the command's "
        "words; name the ones it replaces in replaced=...), or NotRun('why', in README's words beside it)."
    )
    stale = [command for command in COMMANDS if command not in commands]
    assert not stale, f"COMMANDS lists commands README no longer shows; remove or update them: {stale}"


@pytest.mark.parametrize("command", [c for c, entry in COMMANDS.items() if isinstance(entry, RunBy)])
def test_each_command_is_run_by_the_test_named(command):
    entry = COMMANDS[command]
    code = code_of(entry.test)
    strings = strings_of(code)
    absent = [word for word in needles(command, entry) if not holds(strings, word)]
    assert not absent, f"{entry.test} does not hold {absent} of {command!r}"


@pytest.mark.parametrize("command", [c for c, entry in COMMANDS.items() if isinstance(entry, NotRun)])
def test_each_command_not_run_has_its_reason_beside_it_in_the_readme(command):
    section = " ".join(section_of(readme(), command).split())
    assert " ".join(COMMANDS[command].reason.split()) in section, (
        f"README's section with {command!r} should say why no test runs it: {COMMANDS[command].reason!r}")


def test_the_extraction_reads_blocks_output_examples_tables_and_prose():
    text = (
        "## A\n```bash\narena play random random   # two randoms\nmake demo\nexport X=1\n```\n"
        "```\n$ arena bench sprt\nSPRT ...\n```\n"
        "| a | b |\n|---|---|\n| `arena rate x.pgn --json` | rates |\n"
        "Try `arena --plugin p.py play p random`, not `arena study FILE` or `arena rate`.\n"
    )
    assert commands_in(text) == ["arena play random random", "make demo", "arena bench sprt",
                                 "arena rate x.pgn --json", "arena --plugin p.py play p random"]


# ---- running the commands nobody else runs -----------------------------------------------------

def shown(command: str) -> list[str]:
    """The command's arguments after ``arena``, after checking README still shows it."""
    assert command in commands_in(readme()), f"README no longer shows {command!r}"
    return shlex.split(command)[1:]


def invoke(plugins, command: str, *extra: str):
    """Run a README command in this process, as written (plus ``extra``); it must succeed."""
    done = CliRunner().invoke(cli, [*shown(command), *extra], obj=plugins)
    assert done.exit_code == 0, (command, done.output, done.exception)
    return done


def copy(relative: str, folder: Path, as_name: str | None = None) -> Path:
    """Copy a file or folder of the repository into ``folder`` at the same (or another) relative path."""
    target = folder / (as_name or relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    if (ROOT / relative).is_dir():
        shutil.copytree(ROOT / relative, target)
    else:
        shutil.copy(ROOT / relative, target)
    return target


def test_the_smoke_league_and_its_reports_run_as_in_the_readme(tmp_path, plugins, monkeypatch):
    copy("configs", tmp_path)
    monkeypatch.chdir(tmp_path)
    checked = invoke(plugins, "arena validate configs/smoke.yaml").output
    assert "players (5):" in checked and "sf-nodes@nodes=200" in checked and "40 games" in checked
    invoke(plugins, "arena league configs/smoke.yaml", "--quiet")
    run = tmp_path / "results" / "smoke"
    assert len(list(read_records(run))) == 40
    players = {"random", "stockfish-skill0", "stockfish-skill5", "sf-nodes@nodes=200", "sf-nodes@nodes=2000"}
    rated = invoke(plugins, "arena rate results/smoke").output
    assert all(name in rated for name in players)
    both = invoke(plugins, "arena rate results/smoke --rater glicko2 --rater bradley_terry --json")
    rows = json.loads(both.stdout)
    assert {row["player"] for row in rows} == players
    assert all(set(row["ratings"]) == {"glicko2", "bradley_terry"} for row in rows)
    (run / "cross_table.png").unlink()
    invoke(plugins, "arena report results/smoke")
    assert (run / "cross_table.png").read_bytes()[:4] == b"\x89PNG" and (run / "pairings.md").is_file()
    # The training file reads these games (data: ../../results/smoke).
    prepared = run_arena(*shown("arena train configs/train/tiny.yaml --prepare-only"), cwd=tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    assert "kept 40 games" in prepared.stdout
    # Any PGN, with an anchor among its players.
    played = CliRunner().invoke(cli, ["play", "stockfish:skill=1,nodes=100", "random", "-n", "2",
                                      "--max-moves", "30", "--seed", "1", "--out", "pgn"], obj=plugins)
    assert played.exit_code == 0, played.output
    shutil.copy(tmp_path / "pgn" / "games.pgn", tmp_path / "games.pgn")
    anchored = invoke(plugins, "arena rate games.pgn --anchor stockfish-skill1=1554").output
    assert re.search(r"stockfish-skill1\s+1554\b", anchored), anchored


def test_the_demo_league_runs_as_make_demo_runs_it(tmp_path):
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE).group(1)
    assert recipe.split() == ["$(BIN)/arena", "league", "configs/demo.yaml"]  # what the test runs below
    copy("configs/demo.yaml", tmp_path)  # the repository's layout: the league names ../models/...
    copy("models/transcendence-tiny.pt", tmp_path)
    done = run_arena("league", "configs/demo.yaml", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run = tmp_path / "results" / "demo"
    assert len(list(read_records(run))) == 144  # README: 144 games
    assert (run / "rating_vs_temperature.png").read_bytes()[:4] == b"\x89PNG"
    assert all(f"tiny@t={t}" in done.stdout for t in ("0.001", "0.1", "1.0"))


def _rounded(value):
    """``value`` with every float rounded to 6 decimals, in nested lists and dicts."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return value


def test_the_shipped_study_report_is_rebuilt_from_its_records(tmp_path):
    copy("configs/transcendence.yaml", tmp_path)
    copy("results/transcendence", tmp_path)
    # The report stage loads the trained model; the study's model ships as models/transcendence-tiny.pt.
    copy("models/transcendence-tiny.pt", tmp_path, "results/transcendence/model/model.pt")
    done = run_arena(*shown("arena study configs/transcendence.yaml --stage report"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "results" / "transcendence"
    # The same fit, to rounding: numpy builds may differ in the last digits of a float.
    assert _rounded(json.loads((out / "verdict.json").read_text())) == _rounded(json.loads(
        (ROOT / "results" / "transcendence" / "verdict.json").read_text()))
    # README's numbers are the verdict's: the model at 0.001 and at 1, and the best expert.
    verdict = json.loads((out / "verdict.json").read_text())
    by_temperature = {point["temperature"]: point for point in verdict["points"]}
    text = " ".join(readme().split())
    for rated in (by_temperature[0.001], by_temperature[1.0], verdict["best_expert"]):
        assert f"{rated['rating']:.0f} [{rated['low']:.0f}, {rated['high']:.0f}]" in text, rated


def test_the_transformer_command_plays_with_the_shipped_model_in_place(tmp_path, plugins, monkeypatch):
    copy("models/transcendence-tiny.pt", tmp_path, "ckpt/cap1000.pt")
    monkeypatch.chdir(tmp_path)
    command = "arena play transformer:checkpoint=ckpt/cap1000.pt,temperature=0.1,decoding=legal stockfish:skill=1"
    done = invoke(plugins, command, "--max-moves", "8", "--out", "run")
    records = list(read_records(tmp_path / "run"))
    assert len(records) == 2  # arena play's default
    assert all(record.termination.value not in FAULTS for record in records), done.output
    # decoding=legal never plays an illegal move, and records the model's distribution with each.
    model_moves = [move for record in records for move in record.moves if "entropy" in move.info]
    assert model_moves and not any(move.illegal for move in model_moves)


def test_the_play_command_plays_ten_games_that_its_seed_replays(tmp_path, plugins, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = "arena play stockfish:skill=3,nodes=2000 random --games 10 --out results/sf3-vs-random --seed 7"
    done = invoke(plugins, command)
    assert "stockfish-skill3 vs random: " in done.output
    records = list(read_records(tmp_path / "results" / "sf3-vs-random"))
    assert len(records) == 10
    assert [r.white.name for r in records[:2]] == ["stockfish-skill3", "random"]  # colours alternate
    assert (tmp_path / "results" / "sf3-vs-random" / "games.pgn").is_file()
    # The same seed gives the same games their seeds (Stockfish's skill levels add noise of their own).
    again = CliRunner().invoke(cli, ["play", "stockfish:skill=3,nodes=2000", "random", "--games", "2",
                                     "--seed", "7", "--out", "again"], obj=plugins)
    assert again.exit_code == 0, again.output
    replayed = list(read_records(tmp_path / "again"))
    assert [r.seed for r in replayed] == [r.seed for r in records[:2]]
    assert [r.moves[0].uci for r in replayed] == [r.moves[0].uci for r in records[:2]]  # the same openings


def test_bench_transformer_runs_small(tmp_path):
    small = "arena bench transformer --size small --rounds 2 --paper-moves 1 --games 1,2"
    assert "arena bench transformer" in commands_in(readme())
    done = run_arena(*shown(small), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("model: small,")
    assert any(line.startswith("paper's loop") for line in lines)
    assert any(line.startswith("arena, 2 games ") for line in lines)
    assert any(line.startswith("FLOP-bound limit:") for line in lines)
    assert "oracle move lengths" in lines[0] and any(line.startswith("roofline: ") for line in lines)
    done = run_arena(*shown(small), "--json", cwd=tmp_path)
    figures = json.loads(done.stdout)
    assert [run["games"] for run in figures["runs"]] == [1, 2] and figures["bandwidth_gbs"] > 0
    assert all(0 < run["of_flop_limit"] <= run["of_roofline"] for run in figures["runs"])


# ---- the spec table ----------------------------------------------------------------------------

def engine_missing(spec: str) -> str | None:
    """The engine a spec's ``command=`` names, when it is not installed."""
    found = re.search(r"command=([^,]+)", spec)
    if found is None:
        return None
    try:
        locate_engine(found.group(1))
    except EngineNotFoundError:
        return found.group(1)
    return None


#: Files the spec table's examples name, made in the folder they play in.
SPEC_FILES = {
    "ckpt.pt": lambda folder: copy("models/transcendence-tiny.pt", folder, "ckpt.pt"),
    "my-player.yaml": lambda folder: (folder / "my-player.yaml").write_text(
        "type: stockfish\nname: my-player\nskill: 3\nnodes: 200\n"),
}


@pytest.mark.parametrize("spec, description", player_specs(readme()))
def test_each_player_spec_of_the_readme_plays(spec, description, tmp_path, plugins, monkeypatch):
    missing = engine_missing(spec)
    if missing:
        pytest.skip(f"{missing} is not installed: engines/install.sh {missing}")
    for name, make in SPEC_FILES.items():
        if name in spec:
            make(tmp_path)
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(cli, ["play", spec, "random", "-n", "2", "--max-moves", "6", "--seed", "1",
                                    "--out", "run"], obj=plugins)
    assert done.exit_code == 0, (spec, done.output, done.exception)
    records = list(read_records(tmp_path / "run"))
    assert len(records) == 2
    assert all(record.termination.value not in FAULTS for record in records), [r.detail for r in records]
    # A name the table promises is the name the player gets.
    named = re.search(r"name (?:from the command )?\(?`([^`]+)`", description)
    if named:
        assert f"{named.group(1)} vs random" in done.output

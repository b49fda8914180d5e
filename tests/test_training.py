"""Training: data preparation from PGN (plain, gzip, zstd) and run folders, a real tiny run, resume."""

from __future__ import annotations

import gzip
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import chess
import pytest
import torch
import zstandard

from arena.spec import PlayerSpec, build_player
from arena import ConfigError, MoveRequest
from arena_plugins.training.config import load_training
from arena_plugins.training.data import Filters, Shards, league_command, prepare
from arena_plugins.training.trainer import ChessFormerTrainer
from arena.league.store import read_records
from arena_plugins.transformer.checkpoint import load_model
from arena_plugins.transformer.tokenizer import MoveTokenizer
from conftest import run_arena


def game(white_elo, black_elo, result, moves="1. e4 e5 2. Nf3 Nc6 3. Bb5 a6", tc="180+2", extra=""):
    return (f'[Event "t"]\n[WhiteElo "{white_elo}"]\n[BlackElo "{black_elo}"]\n[TimeControl "{tc}"]\n'
            f'[Result "{result}"]\n{extra}\n{moves} {result}\n\n')


PGN = "".join([
    game(1200, 1400, "1-0"),                       # kept
    game(1500, 1450, "0-1"),                       # kept (both at or below the cap)
    game(1501, 1300, "1-0"),                       # dropped: above the cap
    game(1200, 1300, "*"),                         # dropped: unfinished
    game(1200, 1300, "1-0", moves="1. e4 e5 2. Ke3 Nc6"),  # malformed: illegal move
    game(1200, 1300, "1/2-1/2", tc="60+0"),        # dropped: bullet
    game(1200, 1300, "1-0", moves="1. e4"),        # dropped: too short
    game("?", 1300, "1-0"),                        # dropped: rating unknown
    game(900, 1000, "1/2-1/2", tc="600+5"),        # kept (rapid)
])
FILTERS = Filters(max_rating=1500, speeds=("blitz", "rapid"), min_moves=2)


def test_data_step_keeps_and_drops_exactly_by_the_filters(tmp_path):
    plain = tmp_path / "games.pgn"
    plain.write_text(PGN)
    (tmp_path / "games.pgn.zst").write_bytes(zstandard.ZstdCompressor().compress(PGN.encode()))
    with gzip.open(tmp_path / "games.pgn.gz", "wt") as handle:
        handle.write(PGN)
    summaries = []
    for name in ("games.pgn", "games.pgn.zst", "games.pgn.gz"):
        out = tmp_path / f"shards-{name}"
        summary = prepare([{"path": str(tmp_path / name)}], FILTERS, out, validation=0.01, seed=1)
        summaries.append(summary)
        shards = Shards(out)
        games = len(shards.starts("train")) + len(shards.starts("val"))
        assert games == summary.kept == 3
        semicolon = shards.meta()["tokenizer"]["vocabulary"].index(";")
        assert int((shards.tokens("train") == semicolon).sum()) == len(shards.starts("train"))
    summary = summaries[0]
    assert dict(summary.dropped) == {
        "a player rated above 1500": 1,
        "unfinished (no result)": 1,
        "malformed": 1,
        "time control not blitz/rapid": 1,
        "shorter than 2 moves": 1,
        "a player's rating is unknown": 1,
    }
    assert "game 5" in summary.malformed[0]
    assert [dict(s.dropped) for s in summaries[1:]] == [dict(summary.dropped)] * 2
    # The transcripts are the paper's format, one game after another.
    shards = Shards(tmp_path / "shards-games.pgn")
    vocabulary = shards.meta()["tokenizer"]["vocabulary"]
    text = "".join(vocabulary[t] for t in shards.tokens("train")) + "".join(vocabulary[t] for t in shards.tokens("val"))
    assert ";1.e4 e5 2.Nf3 Nc6 3.Bb5 a6" in text


@pytest.fixture(scope="module")
def expert_run(tmp_path_factory):
    """Games played by arena itself: Stockfish at low strengths, from random openings."""
    folder = tmp_path_factory.mktemp("experts")
    league = folder / "experts.yaml"
    league.write_text("""
seed: 3
concurrency: 2
games_in_flight: 2
players:
  - {type: stockfish, skill: [0, 3], nodes: 60}
  - {type: stockfish, name: sf-d, depth: 1}
schedule: {games: 24}
openings: {type: random, plies: 6}
rules: {max_moves: 60}
""")
    done = run_arena("league", str(league), "--out", str(folder / "run"), "--quiet")
    assert done.returncode == 0, done.stderr
    return folder / "run"


def training_file(tmp_path, run, max_steps=300, **train):
    settings = {"max_steps": max_steps, "batch_size": 16, "learning_rate": 3e-3, "min_lr": 3e-4,
                "warmup_steps": 20, "eval_interval": 100, "eval_batches": 4, "checkpoint_interval": 100, **train}
    lines = "\n".join(f"  {key}: {value}" for key, value in settings.items())
    path = tmp_path / "train.yaml"
    path.write_text(f"""
seed: 5
data:
  sources: [{{run: {run}}}]
  validation: 0.1
model: {{size: tiny, n_layer: 2, n_head: 2, n_embd: 64, block_size: 128}}
train:
{lines}
""")
    return path


def _first_try_legal_rate(checkpoint, plugins, boards):
    player = build_player(PlayerSpec("transformer", {"checkpoint": str(checkpoint), "temperature": 1.0}), plugins)
    player.start()
    replies = player.choose([MoveRequest(f"g{i}", board, seed=i) for i, board in enumerate(boards)])
    return sum(reply.move is not None for reply in replies) / len(boards)


def test_a_tiny_model_learns_arena_games_and_plays_more_legal_moves(tmp_path, expert_run, plugins):
    config = load_training(training_file(tmp_path, expert_run), out=tmp_path / "out")
    checkpoint = ChessFormerTrainer().train(config, echo=lambda line: None, quiet=True)
    model, _, meta = load_model(checkpoint)
    # model.pt holds the weights of the step with the lowest validation loss.
    assert meta["iter_num"] in (100, 200, 300)
    assert meta["best_val_loss"] == load_model(checkpoint.parent / "last.pt")[2]["best_val_loss"]
    at_best = _weights(checkpoint.parent / f"step-{meta['iter_num']}.pt")
    assert all(torch.equal(value, at_best[key]) for key, value in model.state_dict().items())
    # The finished run's model.pt has the weights alone: a third of last.pt, which also keeps Adam's moments.
    assert checkpoint.name == "model.pt" and "optimizer" not in meta
    assert checkpoint.stat().st_size < 0.5 * (checkpoint.parent / "last.pt").stat().st_size
    assert meta["best_val_loss"] < 0.6 * math.log(32)  # well below the uniform baseline
    boards = []
    for plies in (0, 1, 2, 3, 4, 5, 6, 7) * 4:
        board = chess.Board()
        rng = torch.Generator().manual_seed(plies + len(boards))
        for _ in range(plies):
            moves = list(board.legal_moves)
            board.push(moves[int(torch.randint(len(moves), (1,), generator=rng))])
        boards.append(board)
    random_weights = tmp_path / "random.pt"
    from arena_plugins.transformer.checkpoint import save_checkpoint
    from arena_plugins.transformer.model import GPT
    from arena_plugins.transformer.tokenizer import CharTokenizer

    torch.manual_seed(0)
    save_checkpoint(random_weights, GPT(model.config), CharTokenizer())
    trained = _first_try_legal_rate(checkpoint, plugins, boards)
    untrained = _first_try_legal_rate(random_weights, plugins, boards)
    print(f"first-try legal moves: trained {trained:.2f}, random weights {untrained:.2f}")
    assert trained >= untrained + 0.25


def test_a_move_token_model_learns_arena_games(tmp_path, expert_run, plugins):
    path = training_file(tmp_path, expert_run)
    path.write_text(path.read_text().replace("validation: 0.1", "validation: 0.1\n  tokenizer: move")
                    .replace("block_size: 128", "block_size: 32"))
    config = load_training(path, out=tmp_path / "out")
    checkpoint = ChessFormerTrainer().train(config, echo=lambda line: None, quiet=True)
    model, tokenizer, meta = load_model(checkpoint)
    assert isinstance(tokenizer, MoveTokenizer) and model.config.vocab_size == 1969
    # Held-out games (distinct ones, from random openings): well below a uniform guess over 1969 moves.
    assert meta["best_val_loss"] < 0.8 * math.log(1969)
    # The shards hold each game as its start token and its moves, two bytes a token.
    shards = Shards(tmp_path / "out" / "data")
    tokens, starts = shards.tokens("train"), shards.starts("train")
    assert tokens.dtype.itemsize == 2 and int((tokens == 0).sum()) == len(starts)
    first = next(iter(read_records(expert_run)))
    assert any(tokenizer.decode(list(tokens[a:b])).split()[1:] == [m.uci for m in first.moves]
               for a, b in zip(starts, list(starts[1:]) + [len(tokens)]))
    boards = []
    rng = torch.Generator().manual_seed(1)
    for plies in (0, 1, 2, 3, 4, 5, 6, 7) * 4:
        board = chess.Board()
        for _ in range(plies):
            moves = list(board.legal_moves)
            board.push(moves[int(torch.randint(len(moves), (1,), generator=rng))])
        boards.append(board)
    # Sampled whole moves: the trained model's first try is a legal move far more often than
    # random weights', which spread their probability over 1,968 moves (about 1% of them legal here).
    from arena_plugins.transformer.checkpoint import save_checkpoint
    from arena_plugins.transformer.model import GPT

    torch.manual_seed(0)
    save_checkpoint(tmp_path / "random.pt", GPT(model.config), MoveTokenizer())
    untrained = _first_try_legal_rate(tmp_path / "random.pt", plugins, boards)
    trained = _first_try_legal_rate(checkpoint, plugins, boards)
    print(f"first-try legal moves: trained {trained:.2f}, random weights {untrained:.2f}")
    assert untrained < 0.1 and trained >= 0.4


def _weights(path):
    return load_model(path)[0].state_dict()


def test_resumed_training_reaches_the_same_weights(tmp_path, expert_run):
    whole = load_training(training_file(tmp_path, expert_run, max_steps=30, checkpoint_interval=10), tmp_path / "a")
    ChessFormerTrainer().train(whole, echo=lambda line: None, quiet=True)
    parts = load_training(training_file(tmp_path, expert_run, max_steps=30, checkpoint_interval=10), tmp_path / "b")
    ChessFormerTrainer().train(parts, echo=lambda line: None, quiet=True, stop_after=13)
    assert load_model(tmp_path / "b" / "last.pt")[2]["iter_num"] == 13
    ChessFormerTrainer().train(parts, echo=lambda line: None, quiet=True)
    a, b = _weights(tmp_path / "a" / "last.pt"), _weights(tmp_path / "b" / "last.pt")
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_sigkill_during_training_then_rerun_continues_identically(tmp_path, expert_run):
    reference = load_training(training_file(tmp_path, expert_run, max_steps=120, checkpoint_interval=20,
                                            eval_interval=60), tmp_path / "ref")
    ChessFormerTrainer().train(reference, echo=lambda line: None, quiet=True)
    path = training_file(tmp_path, expert_run, max_steps=120, checkpoint_interval=20, eval_interval=60)
    out = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "arena", "train", str(path), "--out", str(out), "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not (out / "step-40.pt").exists():
        assert process.poll() is None and time.time() < deadline, process.communicate()
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = run_arena("train", str(path), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "resuming from" in done.stdout
    a, b = _weights(tmp_path / "ref" / "last.pt"), _weights(out / "last.pt")
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_training_file_errors_name_the_key(tmp_path):
    cases = [
        ("data: {sources: []}\n", "data.sources: give a list"),
        ("data: {sources: [{path: x.pgn}]}\nmodel: {size: huge}\n", "model.size: 'huge' must be one of tiny, small"),
        ("data: {sources: [{path: x.pgn}]}\ntrain: {max_step: 3}\n", "train.max_step: unknown key"),
        ("data: {sources: [{path: x.pgn}]}\ntrain: {batch_size: 0}\n", "train.batch_size: 0 must be"),
        ("data: {sources: [{path: missing.pgn}]}\n", "missing.pgn' does not exist"),
        ("data: {sources: [{path: x.pgn}], tokenizer: bpe}\n", "data.tokenizer: 'bpe' must be one of char, move"),
        ("data: {sources: [{path: x.pgn}], filters: {min_moves: ten}}\n",
         "bad.yaml: data.filters.min_moves: 'ten' must be a whole number"),
        ("data: {sources: [{path: x.pgn}]}\nevaluate: {opponents: [random], games: 0}\n",
         "bad.yaml: evaluate.games: 0 must be a whole number >= 1"),
    ]
    for text, message in cases:
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        done = run_arena("train", str(path), "--out", str(tmp_path / "never"))
        assert done.returncode == 2 and message in done.stderr, (text, done.stderr)
        assert "Traceback" not in done.stderr


ROOT = Path(__file__).resolve().parent.parent


def refusal(source: dict, out: Path) -> str:
    """The message ``prepare`` refuses ``source`` with; nothing may be written meanwhile."""
    with pytest.raises(ConfigError) as caught:
        prepare([source], Filters(), out)
    assert not out.exists()
    return str(caught.value)


def test_a_run_source_without_games_says_which_league_to_play_into_it(tmp_path, monkeypatch):
    missing, empty, study = tmp_path / "nowhere", tmp_path / "empty", tmp_path / "study"
    empty.mkdir()
    (study / "experts").mkdir(parents=True)
    (study / "experts" / "games.jsonl").write_text("")
    out = tmp_path / "data"
    assert refusal({"run": str(missing)}, out) == (
        f"data source {str(missing)!r} does not exist: play a league into it first "
        f"(arena league LEAGUE.yaml --out {missing})"
    )
    assert refusal({"run": str(empty)}, out) == (
        f"data source {str(empty)!r} is not an arena run folder (no games.jsonl): play a league into it first "
        f"(arena league LEAGUE.yaml --out {empty})"
    )
    assert "no games.jsonl); the run folders in it are experts: play a league" in refusal({"run": str(study)}, out)
    # A shipped league's run folder names that league: results/smoke is configs/smoke.yaml's out.
    monkeypatch.chdir(tmp_path)
    smoke = ROOT / "configs" / "smoke.yaml"
    assert refusal({"run": "results/smoke"}, out).endswith(f"play a league into it first (arena league {smoke})")
    assert league_command(ROOT / "results" / "smoke") == f"arena league {smoke} --out {ROOT / 'results' / 'smoke'}"


def test_the_tiny_recipe_names_the_league_that_makes_its_data(monkeypatch):
    recipe = ROOT / "configs" / "train" / "tiny.yaml"
    (source,) = load_training(recipe).sources
    folder = Path(source["run"]).resolve()
    assert folder == ROOT / "results" / "smoke"
    assert "arena league configs/smoke.yaml" in recipe.read_text() and "make demo" not in recipe.read_text()
    # From the project's root (where its comment says to run it), the error gives that command exactly.
    monkeypatch.chdir(ROOT)
    assert league_command(Path(source["run"])) == "arena league configs/smoke.yaml"

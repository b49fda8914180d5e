"""The transformer player on small real models: checkpoints, batching, caching, decoding, leagues."""

from __future__ import annotations

import json
import math
import os
import pickle
import random
import zipfile
from pathlib import Path

import chess
import pytest
import torch

from arena import ConfigError, MoveRequest
from arena.play.game import GameRules
from arena.league.config import load_league
from arena.league.run import LeagueRun
from arena.play.match import Match
from arena.play.record import Termination
from arena.league.store import read_records
from arena.spec import PlayerSpec, build_player
from arena_plugins.transformer.checkpoint import CheckpointError, check_checkpoint, load_model, save_checkpoint
from arena_plugins.transformer.inference import GROWTH_COLUMNS, Session
from arena_plugins.transformer.model import GPT, GPTConfig, state_shapes
from arena_plugins.transformer.tokenizer import (
    PAPER_VOCABULARY,
    CharTokenizer,
    MoveTokenizer,
    Prompts,
    tokenizer_from_dict,
    transcript,
)
from conftest import run_arena

CONFIG = dict(block_size=512, vocab_size=32, n_layer=2, n_head=2, n_embd=32, dropout=0.0, bias=False)


def tiny_model(seed: int = 0, **overrides) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(**{**CONFIG, **overrides})).eval()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, tiny_model(), CharTokenizer(), iter_num=0)
    return str(path)


def player(checkpoint, plugins, **options):
    built = build_player(PlayerSpec("transformer", {"checkpoint": checkpoint, **options}), plugins)
    built.start()
    return built


def boards(*games: str) -> list[chess.Board]:
    result = []
    for sans in games:
        board = chess.Board()
        for san in sans.split():
            board.push_san(san)
        result.append(board)
    return result


GAMES = ("e4 e5 Nf3", "d4", "", "e4 c5 Nf3 d6 d4 cxd4 Nxd4 Nf6 Nc3")


def test_transcripts_are_the_papers_format():
    board = boards("e4 e5 Nf3")[0]
    assert transcript(board) == ";1.e4 e5 2.Nf3 "
    board.push_san("Nc6")
    assert transcript(board) == ";1.e4 e5 2.Nf3 Nc6 3."
    assert CharTokenizer().encode(" x") == [0, 31] and PAPER_VOCABULARY.index(";") == 15
    with pytest.raises(ValueError, match="standard position"):
        transcript(chess.Board("8/8/8/8/8/8/8/K6k w - - 0 1"))


@pytest.mark.parametrize("kind", ["char", "move"])
def test_prompts_kept_between_moves_equal_the_transcript_built_from_the_start(kind):
    tokenizer = CharTokenizer() if kind == "char" else MoveTokenizer()
    prompts = Prompts(tokenizer)
    board = chess.Board()
    rng = random.Random(5)
    for _ in range(60):
        assert prompts.prompt("g", board) == tokenizer.prompt(board)
        board.push(rng.choice(list(board.legal_moves)))
    board.pop(), board.pop()  # the history changed (a take-back): the prompt is rebuilt, not extended
    board.push(next(iter(board.legal_moves)))
    assert prompts.prompt("g", board) == tokenizer.prompt(board)
    assert prompts.prompt("other", boards("e4")[0]) == tokenizer.prompt(boards("e4")[0])
    with pytest.raises(ValueError, match="standard position"):
        prompts.prompt("fen", chess.Board("8/8/8/8/8/8/8/K6k w - - 0 1"))


def test_the_san_stems_early_stop_reads_are_python_chess_san_without_check_marks():
    from arena_plugins.transformer.player import san_stems

    rng = random.Random(6)
    compared = 0
    # Random games reach promotions, castling and moves that need a file, a rank or both to tell apart.
    for _ in range(30):
        board = chess.Board()
        while not board.is_game_over() and board.ply() < 150:
            assert san_stems(board) == [board.san(move).rstrip("+#") for move in board.legal_moves]
            compared += board.legal_moves.count()
            board.push(rng.choice(list(board.legal_moves)))
    # Knights on a1, e1, g1 and e5: f3 and d3 are reached by several, told apart by file, rank or both.
    board = chess.Board("1k6/8/8/4N3/8/8/8/N3N1NK w - - 0 1")
    assert {"N1d3", "N5d3", "Ngf3", "N5f3", "Ne1f3"} <= set(san_stems(board))
    assert compared > 50_000


def test_the_move_vocabulary_holds_every_legal_move_once():
    tokenizer = MoveTokenizer()
    assert tokenizer.size == 1969  # 1,792 queen and knight moves, 176 promotions, the game start
    seen = set()
    positions = [chess.Board("8/1P4k1/8/8/8/8/1p4K1/8 w - - 0 1"), chess.Board("r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 0 1")]
    rng = torch.Generator().manual_seed(0)
    for _ in range(200):  # random games reach promotions, castling, en passant
        board = chess.Board()
        while not board.is_game_over() and board.ply() < 300:
            moves = list(board.legal_moves)
            board.push(moves[int(torch.randint(len(moves), (1,), generator=rng))])
            positions.append(board.copy(stack=False))
    for board in positions:
        moves = list(board.legal_moves)
        tokens = tokenizer.encode(moves)
        assert 0 not in tokens and len(set(tokens)) == len(moves)
        seen.update(move.uci() for move in moves)
    assert {"b7b8q", "b2a1n", "e8c8", "e1g1"} <= seen
    board = boards("e4 e5 Nf3")[0]
    assert tokenizer.decode(tokenizer.prompt(board)) == "; e2e4 e7e5 g1f3"
    assert tokenizer_from_dict(tokenizer.to_dict()) == tokenizer
    with pytest.raises(ValueError, match="standard position"):
        tokenizer.prompt(chess.Board("8/8/8/8/8/8/8/K6k w - - 0 1"))


def test_a_move_token_model_plays_legal_moves_or_samples_illegal_ones(tmp_path, plugins):
    path = tmp_path / "moves.pt"
    torch.manual_seed(0)
    save_checkpoint(path, GPT(GPTConfig(**{**CONFIG, "vocab_size": MoveTokenizer().size, "block_size": 16})),
                    MoveTokenizer())
    legal = player(str(path), plugins, decoding="legal", temperature=1.0)
    sampler = player(str(path), plugins, decoding="sample", temperature=1.0)
    requests = [MoveRequest(f"g{i}", board, seed=i) for i, board in enumerate(boards(*GAMES))]
    legal_replies = legal.choose(requests)
    assert all(reply.move in request.board.legal_moves for reply, request in zip(legal_replies, requests))
    assert all(0 < sum(reply.info["top"].values()) <= 1.0001 for reply in legal_replies)
    # Random weights put almost all their mass on the 1,968 - 20 moves that are not legal here.
    many = [MoveRequest(f"s{i}", board, seed=i) for i, board in enumerate(boards(*GAMES) * 5)]
    sampled = sampler.choose(many)
    assert sum(reply.move is None for reply in sampled) > len(sampled) / 2
    assert all(reply.move is None or reply.move in request.board.legal_moves for reply, request in zip(sampled, many))
    # The context holds 16 tokens: the game start and 15 moves, then the move cap rule ends the game.
    long_game = boards("Nf3 Nf6 Ng1 Ng8 " * 4)[0]
    assert legal.choose([MoveRequest("long", long_game, seed=1)])[0].failure == "context_full"


def test_nanogpt_checkpoint_with_compiled_keys_loads_with_the_same_logits(tmp_path):
    model = tiny_model(seed=3, bias=True)
    # nanoGPT's train.py layout, saved from a torch.compile'd model, with no tokenizer.
    state = {f"_orig_mod.{key}": value for key, value in model.state_dict().items()}
    state["_orig_mod.transformer.h.0.attn.bias"] = torch.tril(torch.ones(1, 1, 8, 8))  # the old causal mask buffer
    data = {
        "model": state,
        "model_args": {**CONFIG, "bias": True},
        "optimizer": {"state": {}, "param_groups": []},
        "iter_num": 100000,
        "best_val_loss": torch.tensor(0.9),
        "config": {"learning_rate": 3e-4, "batch_size": 125, "dataset": "lichess_hf_dataset"},
    }
    path = tmp_path / "ckpt.pt"
    torch.save(data, path)
    loaded, tokenizer, meta = load_model(path)
    assert tokenizer.vocabulary == PAPER_VOCABULARY and meta["iter_num"] == 100000
    idx = torch.tensor([CharTokenizer().encode(";1.e4 e5 2.Nf3 Nc6 3.")])
    with torch.no_grad():
        assert torch.equal(loaded(idx)[0], model(idx)[0])


def test_unsafe_and_broken_checkpoints_are_refused_with_the_reason(tmp_path):
    good = tmp_path / "good.pt"
    save_checkpoint(good, tiny_model(), CharTokenizer())
    data = torch.load(good, weights_only=True)

    unsafe = tmp_path / "unsafe.pt"
    torch.save({**data, "config": GPTConfig()}, unsafe)  # a pickled object, not plain data
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:2000])
    shapes = tmp_path / "shapes.pt"
    torch.save({**data, "model_args": {**CONFIG, "n_embd": 64}}, shapes)
    missing = tmp_path / "missing.pt"
    torch.save({**data, "model": {k: v for k, v in data["model"].items() if "ln_f" not in k}}, missing)
    vocabulary = tmp_path / "vocabulary.pt"
    torch.save({**data, "tokenizer": {"kind": "char", "vocabulary": PAPER_VOCABULARY + "!"}}, vocabulary)
    cases = [
        (unsafe, "holds Python objects other than tensors"),
        (truncated, "is truncated or damaged"),
        (shapes, "does not match its model_args"),
        (missing, "missing ['transformer.ln_f.weight']"),
        (vocabulary, "32 output tokens but its vocabulary has 33"),
        (tmp_path / "nowhere.pt", "does not exist"),
    ]
    for path, message in cases:
        with pytest.raises(CheckpointError) as caught:
            load_model(path)
        assert message in str(caught.value) and str(path) in str(caught.value), str(caught.value)


#: Where the model tests run: the CPU, and a CUDA GPU where this machine has one (bench/gpu.sh runs them there).
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
#: How far cached logits may stray from a full recomputation, as a share of the logits' norm: float32
#: rounding, or bfloat16's 8-bit mantissa (both ways compute in bfloat16, in differently shaped products).
RELATIVE_ERROR = {"float32": 1e-5, "bfloat16": 2e-2}


def _relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    return float((got.double() - want.double()).norm() / want.double().norm())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("kind", ["char", "move"])
def test_batched_cached_logits_equal_one_at_a_time_full_recomputation(kind, dtype, device):
    tokenizer = CharTokenizer() if kind == "char" else MoveTokenizer()
    model = tiny_model(seed=1, vocab_size=tokenizer.size).to(device=device, dtype=getattr(torch, dtype))
    positions = boards(*GAMES)
    prompts = [tokenizer.prompt(board) for board in positions]
    # One more token per game, as a sampled character or move would be: "N", or the game's first legal move.
    appended = ([tokenizer.encode("N")[0]] * len(prompts) if kind == "char"
                else [tokenizer.encode([next(iter(board.legal_moves))])[0] for board in positions])
    session = Session(model)
    with torch.no_grad():
        rows, last = session.prefill([f"g{i}" for i in range(len(prompts))], prompts)
        after = session.step(rows, appended)
        for row, tokens in enumerate(prompts):
            full = model(torch.tensor([tokens + [appended[row]]], device=device))[0][0]
            assert last[row].dtype == after[row].dtype == full.dtype
            assert _relative_error(last[row], full[-2]) < RELATIVE_ERROR[dtype]
            assert _relative_error(after[row], full[-1]) < RELATIVE_ERROR[dtype]
        # One game of the four goes on (the others' moves ended): attention takes only its row.
        more = session.step([rows[-1]], [appended[-1]])
        full = model(torch.tensor([prompts[-1] + [appended[-1]] * 2], device=device))[0][0]
        assert more.shape[0] == 1 and _relative_error(more[0], full[-1]) < RELATIVE_ERROR[dtype]
        assert session.cache.layout_rows is not None and session.cache.layout_rows.tolist() == [rows[-1]]


def _game_prompts(script: str, plies: int) -> list[int]:
    board = chess.Board()
    for san in script.split()[:plies]:
        board.push_san(san)
    return CharTokenizer().encode(transcript(board))


SCRIPTS = ("e4 c5 Nf3 d6 d4 cxd4 Nxd4 Nf6 Nc3 a6 Be3 e5 Nb3 Be6 f3 Be7 Qd2 O-O O-O-O Nbd7",
           "d4 d5 c4 e6 Nc3 Nf6 Bg5 Be7 e3 O-O Nf3 h6 Bh4 b6 cxd5 Nxd5 Bxe7 Qxe7 Nxd5 exd5")


def test_keys_and_values_kept_between_moves_give_the_same_logits_as_the_cache_grows():
    model = tiny_model(seed=2, block_size=128)
    session = Session(model)
    tokenizer = CharTokenizer()
    for plies in range(2, 21):
        prompts = [_game_prompts(script, plies) for script in SCRIPTS]
        before = session.computed
        with torch.no_grad():
            rows, kept = session.prefill(["a", "b"], prompts)
            # A garbage continuation that the next move must throw away.
            session.step(rows, tokenizer.encode("xx"))
            fresh = Session(model).prefill(["a", "b"], prompts)[1]
        torch.testing.assert_close(kept, fresh, atol=1e-5, rtol=1e-4)
        if plies > 2:
            assert session.computed - before < sum(len(p) for p in prompts) / 2  # only the new characters ran
    # The columns in use grew with the longest game, a few at a time, and no further; nothing was copied.
    assert session.growths == 1  # the two games' rows, once
    assert max(map(len, prompts)) + 2 <= session.cache.ready <= max(map(len, prompts)) + 2 + 2 * GROWTH_COLUMNS


def _requests(seed=7):
    return [MoveRequest(f"g{i}", board, seed=seed + i) for i, board in enumerate(boards(*GAMES))]


@pytest.mark.parametrize("decoding", ["sample", "legal"])
def test_same_seed_same_moves_whatever_the_batch(checkpoint, plugins, decoding):
    requests = _requests()
    together = player(checkpoint, plugins, decoding=decoding, temperature=1.0).choose(requests)
    alone = [player(checkpoint, plugins, decoding=decoding, temperature=1.0).choose([r])[0] for r in requests]
    reversed_batch = player(checkpoint, plugins, decoding=decoding, temperature=1.0).choose(requests[::-1])[::-1]
    for a, b, c in zip(together, alone, reversed_batch):
        assert (a.move, a.text) == (b.move, b.text) == (c.move, c.text)


def test_greedy_is_argmax_and_batched_greedy_equals_one_at_a_time(checkpoint, plugins):
    requests = _requests()
    greedy = player(checkpoint, plugins, decoding="legal", temperature=0)
    moves = greedy.choose(requests)
    for request, reply in zip(requests, moves):
        assert reply.info["entropy"] == 0.0
        top_move, top_probability = next(iter(reply.info["top"].items()))
        assert top_probability == 1.0 and reply.text == top_move
        assert player(checkpoint, plugins, decoding="legal", temperature=0).choose([request])[0].move == reply.move
    sampled = player(checkpoint, plugins, decoding="sample", temperature=0)
    assert [r.text for r in sampled.choose(requests)] == [
        player(checkpoint, plugins, decoding="sample", temperature=0).choose([r])[0].text for r in requests
    ]


def test_lower_temperature_lowers_move_entropy(checkpoint, plugins):
    requests = _requests()
    entropy = {}
    for temperature in (0.1, 0.5, 1.0, 1.5):
        replies = player(checkpoint, plugins, decoding="legal", temperature=temperature).choose(requests)
        entropy[temperature] = sum(reply.info["entropy"] for reply in replies)
    assert entropy[0.1] < entropy[0.5] < entropy[1.0] < entropy[1.5]


def test_random_weights_sample_illegal_moves_that_forfeit_and_legal_mode_never_does(checkpoint, plugins):
    rules = GameRules(illegal_attempts=3, max_moves=30)
    sample = PlayerSpec("transformer", {"checkpoint": checkpoint, "decoding": "sample"})
    with Match(sample, PlayerSpec("random"), plugins) as match:
        records = list(match.play(4, seed=1, rules=rules))
    model_stats = [r.white_stats if r.white.name == "tiny" else r.black_stats for r in records]
    assert sum(s.illegal_attempts for s in model_stats) >= 3
    assert any(r.termination is Termination.ILLEGAL_MOVE and r.winner == "random" for r in records)
    legal = PlayerSpec("transformer", {"checkpoint": checkpoint, "decoding": "legal", "temperature": 1.0})
    with Match(legal, PlayerSpec("random"), plugins) as match:
        records = list(match.play(4, seed=1, rules=rules))
    assert all(r.termination is not Termination.ILLEGAL_MOVE for r in records)
    assert sum(r.white_stats.illegal_attempts + r.black_stats.illegal_attempts for r in records) == 0
    model_moves = [m for r in records for i, m in enumerate(r.moves) if (r.white if i % 2 == 0 else r.black).name == "tiny"]
    assert all({"logprob", "entropy", "legal_mass", "top"} <= set(m.info) for m in model_moves)


def test_a_full_context_ends_the_game_by_the_move_cap_rule(tmp_path, plugins):
    path = tmp_path / "short.pt"
    save_checkpoint(path, tiny_model(block_size=64), CharTokenizer())
    spec = PlayerSpec("transformer", {"checkpoint": str(path), "decoding": "legal"})
    with Match(spec, PlayerSpec("random"), plugins) as match:
        (record,) = match.play(1, seed=2)
    assert record.termination is Termination.CONTEXT_FULL and record.result == "1/2-1/2"
    assert 6 <= record.plies <= 14


def test_bad_options_are_reported(checkpoint, plugins):
    for options, message in (
        ({"checkpoint": "missing.pt"}, "checkpoint 'missing.pt' does not exist"),
        ({"checkpoint": checkpoint, "temperature": -1}, "temperature=-1 must be a number >= 0"),
        ({"checkpoint": checkpoint, "decoding": "beam"}, "decoding='beam' must be one of sample, legal"),
        ({"checkpoint": checkpoint, "device": "tpu"}, "device='tpu' must be auto, cpu, cuda or cuda:N"),
    ):
        with pytest.raises(ConfigError, match=message):
            build_player(PlayerSpec("transformer", options), plugins)


def test_league_with_a_transformer_at_three_temperatures(tmp_path, checkpoint):
    league_file = tmp_path / "league.yaml"
    league_file.write_text(f"""
seed: 4
concurrency: 2
games_in_flight: 4
players:
  - type: transformer
    checkpoint: {checkpoint}
    temperature: [0.0, 0.5, 1.0]
    decoding: legal
  - {{type: stockfish, skill: 0, nodes: 100}}
  - type: random
schedule: {{type: gauntlet, challengers: ["tiny*"], games: 2}}
rules: {{max_moves: 40, illegal_attempts: 5}}
""")
    league = load_league(league_file, out=tmp_path / "run")
    assert [spec.name for spec in league.players][:3] == ["tiny@t=0.0", "tiny@t=0.5", "tiny@t=1.0"]
    LeagueRun(league).play()
    records = list(read_records(league.out))
    assert len(records) == 3 * 2 * 2
    assert {r.white.name for r in records} | {r.black.name for r in records} >= {"tiny@t=0.5", "random"}
    manifest = json.loads((league.out / "manifest.json").read_text())
    assert manifest["engines"]["tiny@t=0.0"]["parameters"] > 0


def test_sampling_stops_once_the_characters_cannot_spell_a_legal_move(checkpoint, plugins):
    from arena_plugins.transformer.player import Spellings

    requests = _requests(seed=11) * 4
    requests = [MoveRequest(f"x{i}", r.board, seed=i) for i, r in enumerate(requests)]
    early = player(checkpoint, plugins, temperature=1.0).choose(requests)
    full = player(checkpoint, plugins, temperature=1.0, early_stop=False).choose(requests)
    for request, short, whole in zip(requests, early, full):
        viable = Spellings(request.board)
        chars = short.info["chars"].lstrip()
        if short.move is None and not short.resign:
            # Stopped at the first character that left every legal move's spelling...
            assert not viable.begins(chars) and (chars[:-1] == "" or viable.begins(chars[:-1]))
        # ...and the full token starts the same way: it can only be illegal too.
        assert whole.info["chars"].lstrip().startswith(chars.strip()) or short.move is not None
    assert sum(len(r.info["chars"]) for r in early) < sum(len(r.info["chars"]) for r in full) / 2


@pytest.mark.parametrize("decoding", ["sample", "legal"])
def test_a_finished_game_gives_its_row_to_the_next_game(checkpoint, plugins, decoding):
    # Moves run under inference mode and game_over outside it: releasing a row must work there,
    # or every finished game would keep its row and every later batch would compute them all.
    model = player(checkpoint, plugins, temperature=0.5, decoding=decoding)
    for game in range(4):
        board = chess.Board()
        for _ in range(3):
            board.push(model.choose([MoveRequest(f"g{game}", board, seed=game)])[0].move or
                       next(iter(board.legal_moves)))
        model.game_over(f"g{game}", board, "*")
        assert model.session.rows == {} and model.session.free == [0]
    assert len(model.session.tokens) == 1


def test_columns_no_game_wrote_never_spoil_the_logits():
    # Rows added for new games have columns that earlier calls used for other rows; attention
    # masks them out, but a NaN there would still leak (0 x NaN). The buffer must start clean.
    model = tiny_model()
    session = Session(model)
    with torch.inference_mode():
        session.prefill(["a"], [_game_prompts("e4 e5 Nf3 Nc6 Bb5 a6", 6)])
        # Leave NaN in freed memory of the size the grown buffer will take, as a previous user might.
        grown = session.cache.keys[0][:1].numel() * 3
        del_me = torch.full((grown,), float("nan"))
        del del_me
        session.prefill(["a", "b", "c"], [_game_prompts("e4 e5 Nf3 Nc6 Bb5 a6", 6)] * 3)
        # Every column a call may read (those before ``ready``) holds numbers.
        ready = session.cache.ready
        assert all(torch.isfinite(layer[:, :, :ready]).all() for layer in session.cache.keys + session.cache.values)
        _, logits = session.prefill(["d"], [_game_prompts("d4 d5", 2)])
    assert torch.isfinite(logits).all()


# --- Files that are not checkpoints: one clear ConfigError when the player is built -------------

#: Where a malicious file's code would leave its mark, were it ever unpickled.
PWNED = "arena-test-pwned"


class RunsCode:
    """What a malicious pickle holds: unpickling it calls os.system."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _truncated(path: Path) -> None:
    save_checkpoint(path, tiny_model(), CharTokenizer())
    path.write_bytes(path.read_bytes()[:-300])  # the zip's index, at its end, is cut off


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not a model")


def _malicious_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps(RunsCode(path.parent / PWNED)))


def _malicious_torch(path: Path) -> None:
    # A real checkpoint's layout with a code-running object among its entries.
    good = path.parent / "good.pt"
    save_checkpoint(good, tiny_model(), CharTokenizer())
    torch.save({**torch.load(good, weights_only=True), "config": RunsCode(path.parent / PWNED)}, path)


#: kind: (what writes the file, what the message says it is)
BAD_FILES = {
    "text": (lambda p: p.write_text("hi\n"), "is a text file (it begins 'hi'), not a PyTorch checkpoint"),
    "empty": (lambda p: p.write_bytes(b""), "is empty (0 bytes)"),
    "truncated": (_truncated, "is truncated or damaged"),
    "garbage": (lambda p: p.write_bytes(bytes(range(256)) * 4), "is not a PyTorch file"),
    "zip": (_zip, "is a zip archive but not a PyTorch file"),
    "tensor": (lambda p: torch.save(torch.zeros(3), p), "not an arena or nanoGPT checkpoint: it holds a Tensor"),
    "other dict": (lambda p: torch.save({"epoch": 3, "weights": [1.0]}, p),
                   "not an arena or nanoGPT checkpoint: it holds a dict with the keys 'epoch', 'weights'"),
    "state dict": (lambda p: torch.save(tiny_model().state_dict(), p), "bare weights (a state dict)"),
    "pickled module": (lambda p: torch.save(torch.nn.Linear(2, 2), p),
                       "holds Python objects other than tensors and plain data (it refers to torch.nn"),
    "malicious pickle": (_malicious_pickle, "is a Python pickle, not a PyTorch checkpoint"),
    "malicious torch file": (_malicious_torch, "(it refers to posix.system)" if os.name == "posix" else "refers to"),
    "git lfs pointer": (lambda p: p.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:ab\n"),
                        "is a Git LFS pointer"),
    "folder": (lambda p: p.mkdir(), "is a folder, not a checkpoint file"),
    "missing": (lambda p: None, "does not exist"),
}


@pytest.fixture(params=sorted(BAD_FILES))
def bad_file(request, tmp_path) -> tuple[Path, str]:
    write, message = BAD_FILES[request.param]
    path = tmp_path / f"{request.param.replace(' ', '-')}.pt"
    write(path)
    return path, message


def assert_clear(message: str, path: Path, what: str) -> None:
    """The message names the file, what is wrong and where a checkpoint comes from; never torch's advice."""
    assert str(path) in message and what in message, message
    assert "weights_only" not in message and "Traceback" not in message, message
    if "does not exist" not in what and "folder" not in what:
        assert "written by arena train or nanoGPT" in message and "arena train configs/" in message, message


def test_a_file_that_is_not_a_checkpoint_is_refused_when_the_player_is_built(bad_file, plugins):
    path, what = bad_file
    with pytest.raises(ConfigError) as caught:
        build_player(PlayerSpec("transformer", {"checkpoint": str(path), "temperature": 0.5}), plugins)
    assert_clear(str(caught.value), path, what)
    with pytest.raises(CheckpointError) as loading:  # and by load_model itself, with the same reason
        load_model(path)
    assert_clear(str(loading.value), path, what)
    assert not (path.parent / PWNED).exists(), "a malicious checkpoint ran its code"


def test_a_league_with_such_a_checkpoint_fails_when_it_is_loaded(bad_file, tmp_path, plugins):
    path, what = bad_file
    league_file = tmp_path / "league.yaml"
    league_file.write_text(f"""
players:
  - type: transformer
    checkpoint: {path}
    temperature: [0.1, 1.0]
  - type: random
schedule: {{type: round_robin, games: 2}}
""")
    with pytest.raises(ConfigError) as caught:
        load_league(league_file, plugins, out=tmp_path / "run")
    message = str(caught.value)
    assert_clear(message, path, what)
    assert message.startswith(f"{league_file}: players[0]"), message
    assert not (tmp_path / "run").exists()


def test_the_cli_reports_a_broken_checkpoint_in_one_line_and_plays_nothing(tmp_path):
    # Real processes, as a user runs them (the other kinds of file take the same path in-process above).
    text = tmp_path / "fake.pt"
    text.write_text("hi\n")
    done = run_arena("play", f"transformer:checkpoint={text}", "random", "--out", str(tmp_path / "play"))
    assert done.returncode == ConfigError.exit_code, done.stderr
    assert_clear(done.stdout + done.stderr, text, "is a text file")
    assert not (tmp_path / "play").exists()
    league_file = tmp_path / "league.yaml"
    league_file.write_text(f"""
concurrency: 2
players:
  - {{type: transformer, checkpoint: {text}}}
  - {{type: random}}
schedule: {{type: round_robin, games: 2}}
""")
    done = run_arena("league", str(league_file), "--out", str(tmp_path / "run"))
    assert done.returncode == ConfigError.exit_code, done.stderr
    assert_clear(done.stdout + done.stderr, text, "is a text file")
    assert "worker crashed" not in done.stdout + done.stderr
    assert not (tmp_path / "run" / "games.jsonl").exists() and not (tmp_path / "run").exists()


def test_a_checkpoint_replaced_after_its_check_is_checked_again(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, tiny_model(), CharTokenizer())
    check_checkpoint(path)
    path.write_text("hi\n")  # another size: the file is read again
    with pytest.raises(CheckpointError, match="is a text file"):
        check_checkpoint(path)


@pytest.mark.parametrize("bias", [False, True])
def test_state_shapes_are_the_models_own(bias):
    config = GPTConfig(**{**CONFIG, "bias": bias, "n_layer": 3, "vocab_size": 40, "block_size": 24})
    assert state_shapes(config) == {key: tuple(value.shape) for key, value in GPT(config).state_dict().items()}


def test_the_oracle_bench_player_samples_the_scripted_moves_with_their_space(checkpoint, plugins):
    from arena.spec import build_registered
    from arena_plugins.transformer.bench import OracleTransformer

    oracle = build_registered({"transformer": OracleTransformer}, "player",
                              PlayerSpec("transformer", {"checkpoint": checkpoint, "temperature": 1.0}))
    oracle.attach(plugins)
    oracle.name = "oracle"
    oracle.start()
    requests = _requests()
    scripted = ["Nc6", "Nf6", "e4", "a6"]  # the next move of each of GAMES
    tokenizer = CharTokenizer()
    for request, san in zip(requests, scripted):
        oracle.oracle[request.game_id] = tokenizer.encode(san + " ")
    before = oracle.session.forwards
    replies = oracle.choose(requests)
    assert [reply.text for reply in replies] == scripted
    assert [reply.info["chars"] for reply in replies] == [san + " " for san in scripted]
    assert all(reply.move == request.board.parse_san(san) for reply, request, san in zip(replies, requests, scripted))
    # One forward pass for the prompts, then one per character of the longest move.
    assert oracle.session.forwards - before == 1 + max(len(san) for san in scripted)


def test_new_games_get_their_rows_in_one_allocation_and_the_same_logits():
    model = tiny_model(seed=3, block_size=128)
    session = Session(model)
    prompts = [_game_prompts(SCRIPTS[i % 2], 2 + i) for i in range(5)]
    with torch.no_grad():
        _, logits = session.prefill([f"g{i}" for i in range(5)], prompts)
        assert len(session.tokens) == session.cache.shape[0] == 5  # not 8 from doubling 1, 2, 4, 8
        _, more = session.prefill(["g5", "g6"], prompts[:2])  # rows double from here: 5 more
        assert session.cache.shape[0] == 10
        alone = [Session(model).prefill(["x"], [prompt])[1][0] for prompt in prompts]
    torch.testing.assert_close(logits, torch.stack(alone), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(more, torch.stack(alone[:2]), atol=1e-5, rtol=1e-4)


def _full_logprobs(model: GPT, tokens: list[int], device: str) -> torch.Tensor:
    """Log-probabilities after every token, the whole sequence recomputed (no cache), in float64."""
    with torch.no_grad():
        return torch.log_softmax(model(torch.tensor([tokens], device=device))[0][0].double().cpu(), dim=-1)


def _greedy_by_full_recomputation(model, tokenizer, board: chess.Board, decoding: str, device: str):
    """The move (legal) or the characters (sample) temperature 0 gives, with the margin by which
    the choice won: each step the whole transcript recomputed, nothing batched or cached."""
    prompt = tokenizer.prompt(board)
    if decoding == "legal":
        scores = {}
        for move in board.legal_moves:
            tokens = tokenizer.encode([move]) if isinstance(tokenizer, MoveTokenizer) else tokenizer.encode(board.san(move) + " ")
            logprobs = _full_logprobs(model, prompt + tokens[:-1], device)
            scores[move] = float(sum(logprobs[len(prompt) - 1 + i, token] for i, token in enumerate(tokens)))
        ranked = sorted(scores.values(), reverse=True)
        return max(scores, key=scores.get), ranked[0] - ranked[1]
    generated, margin = [], math.inf
    for _ in range(1 if isinstance(tokenizer, MoveTokenizer) else 10):
        logprobs = _full_logprobs(model, prompt + generated, device)[-1]
        top = torch.topk(logprobs, 2).values
        margin = min(margin, float(top[0] - top[1]))
        generated.append(int(torch.argmax(logprobs)))
        text = tokenizer.decode(generated)
        if isinstance(tokenizer, CharTokenizer) and ((text.endswith(" ") and text.strip()) or text.endswith(";")):
            break
    return tokenizer.decode(generated), margin


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("decoding", ["sample", "legal"])
@pytest.mark.parametrize("kind", ["char", "move"])
def test_batched_cached_greedy_moves_equal_a_full_recomputation(tmp_path, plugins, kind, decoding, dtype, device):
    tokenizer = CharTokenizer() if kind == "char" else MoveTokenizer()
    path = tmp_path / "model.pt"
    model = tiny_model(seed=5, vocab_size=tokenizer.size)
    with torch.no_grad():
        model.lm_head.weight *= 30  # decided choices, as a trained model's: random weights give near ties
    save_checkpoint(path, model, tokenizer)
    batched = player(str(path), plugins, temperature=0.0, decoding=decoding, dtype=dtype, device=device,
                     early_stop=False)
    reference = batched.model  # the same weights, in the same dtype, on the same device
    positions = boards(*GAMES, *(" ".join(SCRIPTS[1].split()[:plies]) for plies in (5, 12, 19)))
    # Two moves per game in a row, all games in one batch: the second reuses the first's cache.
    for round_number in range(2):
        replies = batched.choose([MoveRequest(f"g{i}", board, seed=1) for i, board in enumerate(positions)])
        compared = 0
        for board, reply in zip(positions, replies):
            want, margin = _greedy_by_full_recomputation(reference, tokenizer, board, decoding, device)
            if margin < (1e-6 if dtype == "float32" else 0.05):
                continue  # a near tie: rounding may pick either
            compared += 1
            assert (reply.move if decoding == "legal" else reply.info["chars"]) == want, (board.fen(), reply)
        assert compared >= len(positions) - 1
        for board in positions:
            board.push(next(iter(board.legal_moves)))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("decoding", ["sample", "legal"])
def test_bfloat16_plays_the_same_greedy_moves_as_float32_on_a_scripted_game(plugins, decoding, device):
    shipped = str(Path(__file__).parent.parent / "models" / "transcendence-tiny.pt")
    moves = {}
    for dtype in ("float32", "bfloat16"):
        model = player(shipped, plugins, temperature=0.0, dtype=dtype, device=device, decoding=decoding)
        # Every position of the scripted game, each game a request of its own, all in one batch.
        requests = [MoveRequest(f"p{plies}", board, seed=1) for plies, board in
                    enumerate(boards(*(" ".join(SCRIPTS[0].split()[:plies]) for plies in range(20))))]
        moves[dtype] = [reply.text for reply in model.choose(requests)]
    assert moves["bfloat16"] == moves["float32"] and sum(map(bool, moves["float32"])) == 20


@pytest.mark.parametrize("device", DEVICES)
def test_the_legal_moves_trie_scores_every_move_as_scoring_it_alone_does(device):
    model = tiny_model(seed=4).to(device)
    tokenizer = CharTokenizer()
    session = Session(model)
    positions = boards(*GAMES)
    with torch.no_grad():
        prompts = [tokenizer.encode(transcript(board)) for board in positions]
        rows, _ = session.prefill([f"g{i}" for i in range(len(prompts))], prompts)
        encoded = [[tokenizer.encode(board.san(move) + " ") for move in board.legal_moves] for board in positions]
        before = session.computed
        trie = session.tree(rows, [[tokens[:-1] for tokens in moves] for moves in encoded])
        ran = session.computed - before
        for row, (prompt, moves) in enumerate(zip(prompts, encoded)):
            for tokens, scored in zip(moves, trie[row]):
                # The move alone, its whole transcript recomputed: log-probabilities after each of its tokens.
                full = torch.log_softmax(model(torch.tensor([prompt + tokens[:-1]], device=device))[0][0].float(), dim=-1)
                torch.testing.assert_close(scored, full[len(prompt):], atol=1e-4, rtol=1e-4)
    # Shared prefixes ran once: fewer tokens than the moves' characters.
    assert ran < sum(len(tokens) - 1 for moves in encoded for tokens in moves)


def test_the_bench_counts_legal_decodings_trie_in_its_limits(checkpoint, plugins):
    from arena_plugins.transformer.bench import run_arena, scripted_games

    games = scripted_games(2, 2 * 3 + 2, seed=1)
    sample = run_arena(checkpoint, games, 3, plugins, "sample", lengths="oracle")
    legal = run_arena(checkpoint, games, 3, plugins, "legal")
    assert sample.trie == 0 and legal.trie > 20 * legal.moves  # some 20 legal moves' characters, shared prefixes once
    assert sample.tokens == legal.tokens  # the same transcripts
    assert legal.flops > sample.flops and legal.bytes > 0


def test_the_gpu_bench_says_what_it_needs_where_there_is_no_gpu(tmp_path):
    import subprocess

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: bench/gpu.sh would run the bench")  # never on the CI machines
    done = run_arena("bench", "transformer", "--size", "small", "--device", "cuda", cwd=tmp_path)
    assert done.returncode == 2 and "--device cuda: no CUDA device is available here" in done.stderr
    script = subprocess.run([str(Path(__file__).parent.parent / "bench" / "gpu.sh")], capture_output=True, text=True)
    assert script.returncode == 2 and "TORCH=torch make setup" in script.stderr


def test_the_oracle_bench_plays_the_scripted_moves_with_move_tokens_too(tmp_path, plugins):
    from arena_plugins.transformer.bench import OracleTransformer, run_arena, scripted_games

    path = tmp_path / "moves.pt"
    save_checkpoint(path, GPT(GPTConfig(**{**CONFIG, "vocab_size": MoveTokenizer().size})), MoveTokenizer())
    games = scripted_games(2, 2 * 3 + 2, seed=2)
    figures = run_arena(str(path), games, 3, plugins, "sample", lengths="oracle")
    assert figures.moves == 6 and figures.tokens == 6 * 2  # two plies, one token each, per model move
    from arena.spec import build_registered

    oracle = build_registered({"transformer": OracleTransformer}, "player",
                              PlayerSpec("transformer", {"checkpoint": str(path)}))
    oracle.name = "oracle"
    oracle.start()
    board = chess.Board()
    oracle.oracle["g"] = MoveTokenizer().encode([games[0][0]])
    assert oracle.choose([MoveRequest("g", board, seed=1)])[0].move == games[0][0]

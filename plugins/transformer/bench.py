"""``arena bench transformer``: the paper's generation loop against arena's batched, cached path.

Both run the same weights on the same positions. The paper's loop (one game
at a time, batch 1, the whole transcript recomputed for every character,
always 10 characters, top-k 200) is re-implemented faithfully here; arena's
path is the transformer player itself, playing 1, 8 and 64 games at once
that follow scripted random games, so every model move has a real,
growing transcript and reuses its game's keys and values from the move before.
"""

from __future__ import annotations

import json
import math
import random
import re
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING, Any

import chess
import click

from arena import ConfigError, MoveRequest
from arena.spec import PlayerSpec, build_registered

from .player import MOVE_END, TransformerPlayer
from .tokenizer import CharTokenizer, MoveTokenizer, Prompts

if TYPE_CHECKING:
    from .model import GPT, GPTConfig

# torch is imported inside the functions: this module is loaded whenever the CLI starts.
SIZES: dict[str, dict[str, Any]] = {
    "paper": dict(block_size=1023, n_layer=16, n_head=8, n_embd=512),  # the paper's ~50M model
    "small": dict(block_size=1023, n_layer=4, n_head=4, n_embd=128),
}


def scripted_games(count: int, plies: int, seed: int) -> list[list[chess.Move]]:
    """Random legal games (redrawn until they last ``plies`` plies)."""
    games = []
    rng = random.Random(seed)
    while len(games) < count:
        board = chess.Board()
        while board.ply() < plies and not board.is_game_over():
            board.push(rng.choice(list(board.legal_moves)))
        if board.ply() == plies:
            games.append(list(board.move_stack))
    return games


def _synchronize(device: str) -> None:
    """Wait for the device's queued work (a GPU runs it asynchronously)."""
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def matmul_flops(size: int = 1024, seconds: float = 2.0, dtype: str = "float32", device: str = "cpu") -> float:
    """Measured matrix-multiply FLOP/s of ``device`` in ``dtype``."""
    import torch

    a = torch.randn(size, size, device=device).to(getattr(torch, dtype))
    b = torch.randn(size, size, device=device).to(getattr(torch, dtype))
    a @ b  # warm up
    _synchronize(device)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        count += 1
        if count % 16 == 0:
            _synchronize(device)
    _synchronize(device)
    return 2 * size**3 * count / (time.perf_counter() - started)


def memory_bandwidth(megabytes: int = 256, seconds: float = 1.0, device: str = "cpu") -> float:
    """Measured memory bandwidth of ``device`` in bytes/s: a large tensor copied (read once, written once)."""
    import torch

    source = torch.ones(megabytes * 2**20 // 4, device=device)
    target = torch.empty_like(source)
    target.copy_(source)  # warm up: the pages are touched
    _synchronize(device)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        target.copy_(source)
        count += 1
        if count % 16 == 0:
            _synchronize(device)
    _synchronize(device)
    return 2 * source.numel() * 4 * count / (time.perf_counter() - started)


def paper_loop_move(model: GPT, tokens: list[int], temperature: float = 1.0, top_k: int = 200,
                    steps: int = 10) -> list[int]:
    """One move as the paper's code made it: 10 characters (a move-token model: 1 token), the whole
    sequence recomputed for each."""
    import torch

    idx = torch.tensor([tokens], device=next(model.parameters()).device)
    for _ in range(steps):
        logits = model(idx[:, -model.config.block_size:])[0][:, -1, :] / temperature
        values, _ = torch.topk(logits, min(top_k, logits.size(-1)))
        logits[logits < values[:, [-1]]] = -float("inf")
        idx = torch.cat((idx, torch.multinomial(torch.softmax(logits, dim=-1), 1)), dim=1)
    return idx[0, len(tokens):].tolist()


@dataclass
class Figures:
    label: str
    moves: int
    seconds: float
    tokens: int = 0  #: transcript tokens the moves added (what any method must at least compute)
    flops: float = 0.0  #: the minimal FLOPs of those characters
    #: the least memory traffic of those characters: every weight once per batched forward pass,
    #: and each character's reads of the keys and values of every earlier position of its game
    bytes: float = 0.0
    trie: int = 0  #: legal decoding's tokens of the legal moves' tries, counted in ``flops`` and ``bytes``

    def limit(self, flops_per_s: float, bytes_per_s: float = math.inf) -> float:
        """Moves per second if every move cost only its arithmetic (at ``flops_per_s``), or only its
        memory traffic (at ``bytes_per_s``), whichever takes longer: the roofline."""
        return self.moves / max(self.flops / flops_per_s, self.bytes / bytes_per_s)

    @property
    def moves_per_s(self) -> float:
        return self.moves / self.seconds


def minimal_flops(config: GPTConfig, parameters: int, position: int) -> float:
    """FLOPs to run one new token at ``position`` (weights, plus attention over earlier positions)."""
    return 2.0 * parameters + 4.0 * config.n_layer * config.n_embd * position


def cache_bytes(config: GPTConfig, position: int, element: int) -> float:
    """Bytes of keys and values one new token at ``position`` reads: every earlier position, every layer."""
    return 2.0 * config.n_layer * config.n_embd * position * element


class OracleTransformer(TransformerPlayer):
    """The transformer player whose sampled moves are the scripted game's: a trained model's move lengths.

    Every step of a move still draws from the model's logits as sampling does
    (the same work), then takes the script's token instead, so each move runs
    exactly its real SAN and the space after it (random weights would stop
    after a character or two, or run to ``max_chars``), or its one move token.
    """

    def start(self) -> None:
        super().start()
        self.oracle: dict[str, list[int]] = {}  #: per game, the tokens its next move must be

    def _pick(self, requests: list[MoveRequest], step: int, logits: Any, generators: list[Any]) -> list[tuple[int, float]]:
        picked = super()._pick(requests, step, logits, generators)
        scripts = [self.oracle[request.game_id] for request in requests]
        # Past its end a move is over: the token is dropped.
        return [(script[min(step, len(script) - 1)], log_p) for script, (_, log_p) in zip(scripts, picked)]


def run_arena(checkpoint: str, games: list[list[chess.Move]], rounds: int, plugins, decoding: str,
              dtype: str = "float32", early_stop: bool = True, lengths: str = "random",
              device: str = "cpu") -> Figures:
    """The player answers for all games at once, ``rounds`` times; the games follow their scripts.

    ``lengths``: ``oracle`` makes every sampled move the script's (:class:`OracleTransformer`),
    ``random`` lets the weights decide.
    """
    options = {"checkpoint": checkpoint, "temperature": 1.0, "decoding": decoding, "dtype": dtype, "device": device,
               "early_stop": early_stop}
    table = {"transformer": OracleTransformer if lengths == "oracle" else TransformerPlayer}
    player = build_registered(table, "player", PlayerSpec("transformer", options))
    player.attach(plugins)
    player.start()
    player.name = "transformer"
    config, parameters = player.model.config, player.model.num_parameters()
    element = next(player.model.parameters()).element_size()
    tokenizer = player.tokenizer
    seconds, moves, tokens, flops, traffic, tries = 0.0, 0, 0, 0.0, 0.0, 0
    boards = [chess.Board() for _ in games]  # each game at the round's position, advanced two plies a round
    prompts = Prompts(tokenizer)  # the bench's own count of the transcripts, kept as the player keeps its own
    for round_number in range(rounds):
        ply = 2 * round_number
        requests, lengths = [], []
        for number, (script, board) in enumerate(zip(games, boards)):
            requests.append(MoveRequest(f"g{number}", board.copy(), seed=number))
            before = len(prompts.prompt(f"g{number}", board))
            lengths.append(before)
            board.push(script[ply])
            board.push(script[ply + 1])
            after = len(prompts.prompt(f"g{number}", board))
            if isinstance(player, OracleTransformer):  # the move the script plays next (then the space)
                following = script[ply + 2]
                player.oracle[f"g{number}"] = (tokenizer.encode([following]) if player.per_move
                                               else tokenizer.encode(board.san(following) + MOVE_END))
            tokens += after - before
            flops += sum(minimal_flops(config, parameters, p) for p in range(before, after))
            traffic += sum(cache_bytes(config, p, element) for p in range(before, after))
        forwards, scratch = player.session.forwards, player.session.scratch
        started = time.perf_counter()
        player.choose(requests)
        seconds += time.perf_counter() - started
        traffic += (player.session.forwards - forwards) * parameters * element
        # Legal decoding's own work: the legal moves' trie, each node counted at its game's prompt (on average).
        prompt = sum(lengths) // len(lengths)
        trie = player.session.scratch - scratch
        tries += trie
        flops += trie * minimal_flops(config, parameters, prompt)
        traffic += trie * cache_bytes(config, prompt, element)
        moves += len(requests)
    player.close()
    label = f"arena, {len(games)} game{'s' if len(games) > 1 else ''}"
    return Figures(label, moves, seconds, tokens, flops, traffic, tries)


@click.command("transformer")
@click.option("--size", type=click.Choice(sorted(SIZES)), default="paper", show_default=True,
              help="paper: 16 layers x 512 (~50M parameters); small: 4 x 128.")
@click.option("--rounds", default=60, show_default=True, type=click.IntRange(min=1),
              help="Model moves per game in arena's runs (from move 1 on).")
@click.option("--paper-moves", default=3, show_default=True, type=click.IntRange(min=1),
              help="Moves timed with the paper's (slow) loop.")
@click.option("--games", "game_counts", default="1,8,64", show_default=True, help="Concurrent games to time.")
@click.option("--decoding", type=click.Choice(["sample", "legal"]), default="sample", show_default=True)
@click.option("--dtype", type=click.Choice(["float32", "bfloat16"]), default="float32", show_default=True,
              help="arena's precision (the paper's loop runs float32); the FLOP limit uses this dtype's matmul rate.")
@click.option("--early-stop/--no-early-stop", default=True, show_default=True,
              help="Stop sampling once a move cannot be legal (random weights rarely spell one; "
                   "--lengths oracle spells legal moves).")
@click.option("--lengths", type=click.Choice(["oracle", "random"]), default="oracle", show_default=True,
              help="oracle: every sampled move is the script's real next move and its space, as a trained "
                   "model's (the sampling work of each character still done); random: what random weights give.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of the table.")
@click.option("--tokenizer", "tokenizer_kind", type=click.Choice(["char", "move"]), default="char",
              show_default=True, help="char: the paper's characters; move: one token per move (the shipped model's).")
@click.option("--device", default="cpu", show_default=True, metavar="cpu|cuda[:N]",
              help="Where both loops run (bench/gpu.sh: cuda, bfloat16, up to 256 games).")
@click.pass_obj
def bench_transformer(app, size, rounds, paper_moves, game_counts, decoding, dtype, early_stop, lengths, as_json,
                      tokenizer_kind, device):
    """Moves per second: the paper's loop vs arena's batched path, and the FLOP and roofline limits."""
    import torch

    from .checkpoint import save_checkpoint
    from .model import GPT, GPTConfig

    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise ConfigError(f"--device {device}: give cpu, cuda or cuda:N")
    if device != "cpu" and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: no CUDA device is available here (torch {torch.__version__}); "
                          f"run it on a machine with a GPU and a CUDA build of torch, or give --device cpu")
    say = (lambda line: None) if as_json else click.echo
    torch.manual_seed(0)
    tokenizer = MoveTokenizer() if tokenizer_kind == "move" else CharTokenizer()
    model = GPT(GPTConfig(**SIZES[size], vocab_size=tokenizer.size)).eval().to(device)
    counts = [int(part) for part in game_counts.split(",")]
    with tempfile.TemporaryDirectory() as folder, torch.inference_mode():
        checkpoint = str(Path(folder) / f"{size}.pt")
        save_checkpoint(checkpoint, model, tokenizer)
        gpu = device != "cpu"
        flops_per_s = matmul_flops(size=4096 if gpu else 1024, dtype=dtype, device=device)
        bytes_per_s = memory_bandwidth(megabytes=1024 if gpu else 256, device=device)
        where = torch.cuda.get_device_name(device) if gpu else f"threads {torch.get_num_threads()}"
        say(f"model: {size}, {model.num_parameters() / 1e6:.1f}M parameters, random weights; "
            f"{where}; {tokenizer_kind} tokens; arena in {dtype}, {decoding} decoding"
            f"{', early stop' if early_stop and decoding == 'sample' else ''}"
            f"{', oracle move lengths' if lengths == 'oracle' and decoding == 'sample' else ''}")
        say(f"measured matmul: {flops_per_s / 1e9:.1f} GFLOP/s ({dtype}, {4096 if gpu else 1024} square); "
            f"memory bandwidth: {bytes_per_s / 1e9:.1f} GB/s (a {1024 if gpu else 256} MiB copy)")
        games = scripted_games(max(counts), 2 * rounds + 2, seed=1)
        # The paper's loop on positions spread over the same games' first `rounds` moves.
        started = time.perf_counter()
        for number in range(paper_moves):
            ply = 2 * ((2 * number + 1) * rounds // (2 * paper_moves))  # the middle of each stretch
            board = chess.Board()
            for move in games[number % len(games)][:ply]:
                board.push(move)
            paper_loop_move(model, tokenizer.prompt(board), steps=1 if tokenizer_kind == "move" else 10)
        paper = Figures("paper's loop", paper_moves, time.perf_counter() - started)
        runs = [run_arena(checkpoint, games[:count], rounds, app.plugins, decoding, dtype, early_stop, lengths, device)
                for count in counts]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    peak_gpu = torch.cuda.max_memory_allocated(device) / 1024**3 if device != "cpu" else None
    if as_json:
        click.echo(json.dumps({
            "matmul_gflops": round(flops_per_s / 1e9, 2),
            "bandwidth_gbs": round(bytes_per_s / 1e9, 2),
            "paper": {"moves_per_s": round(paper.moves_per_s, 4)},
            "runs": [{"games": count, "moves_per_s": round(run.moves_per_s, 3),
                      "vs_paper": round(run.moves_per_s / paper.moves_per_s, 2),
                      "of_flop_limit": round(run.moves_per_s / run.limit(flops_per_s), 4),
                      "of_roofline": round(run.moves_per_s / run.limit(flops_per_s, bytes_per_s), 4)}
                     for count, run in zip(counts, runs)],
            "peak_rss_gib": round(peak, 2),
            **({"peak_gpu_gib": round(peak_gpu, 2)} if peak_gpu is not None else {}),
        }))
        return
    say(f"\n{'run':<18} {'moves':>6} {'seconds':>8} {'moves/s':>9} {'vs paper':>9} {'of FLOP limit':>14} "
        f"{'of roofline':>12}")
    say(f"{paper.label:<18} {paper.moves:>6} {paper.seconds:>8.2f} {paper.moves_per_s:>9.3f} {'1.0x':>9}")
    for run in runs:
        say(f"{run.label:<18} {run.moves:>6} {run.seconds:>8.2f} {run.moves_per_s:>9.2f} "
            f"{run.moves_per_s / paper.moves_per_s:>8.1f}x {run.moves_per_s / run.limit(flops_per_s):>13.1%} "
            f"{run.moves_per_s / run.limit(flops_per_s, bytes_per_s):>12.1%}")
    last = runs[-1]
    trie = f" and {last.trie / last.moves:.1f} tokens of the legal moves' trie" if last.trie else ""
    say(f"\nFLOP-bound limit: {last.limit(flops_per_s):.1f} moves/s "
        f"({last.tokens / last.moves:.1f} new transcript tokens per model move{trie}, "
        f"{last.flops / last.moves / 1e9:.2f} GFLOP each, at the measured matmul rate)")
    say(f"roofline: {last.limit(flops_per_s, bytes_per_s):.1f} moves/s (also {last.bytes / last.moves / 1e6:.1f} MB "
        f"of weights and cached keys and values read per model move, at the measured bandwidth)")
    say(f"peak memory (resident): {peak:.2f} GiB" + (f"; on the GPU: {peak_gpu:.2f} GiB" if peak_gpu is not None else ""))
    say("targets (paper size, 64 games): >= 100x the paper's loop, >= 50% of the roofline")

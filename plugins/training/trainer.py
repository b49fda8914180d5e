"""The ``chessformer`` trainer: nanoGPT's recipe on arena's data shards, resumable to the bit.

Blocks of ``block_size + 1`` tokens start at game starts, drawn by a
seeded generator whose state is saved with every checkpoint, together with
the optimizer's: a run resumed from ``last.pt`` continues exactly as if it
had never stopped (on the CPU; GPU kernels may differ in the last bits).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from tqdm import tqdm

from arena.errors import ConfigError
from arena_plugins.transformer.checkpoint import read_checkpoint, save_checkpoint
from arena_plugins.transformer.model import GPT, GPTConfig
from arena_plugins.transformer.tokenizer import TOKENIZERS

from .config import TrainingConfig
from .data import Shards, prepare

LAST = "last.pt"
#: The weights at the lowest validation loss so far (nanoGPT keeps its checkpoint the same way).
BEST = "best.pt"
#: The finished model, weights only (no optimizer state): the file to share or ship. It is
#: the weights at the step with the lowest validation loss, so that a run longer than its
#: data supports still gives the model before it began to memorise its games.
MODEL = "model.pt"


def learning_rate(step: int, settings: Any) -> float:
    """Linear warmup, then cosine decay to ``min_lr`` at ``max_steps`` (nanoGPT's schedule)."""
    if step < settings.warmup_steps:
        return settings.learning_rate * (step + 1) / (settings.warmup_steps + 1)
    progress = min(1.0, (step - settings.warmup_steps) / max(1, settings.max_steps - settings.warmup_steps))
    return settings.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (settings.learning_rate - settings.min_lr)


class Blocks:
    """Training blocks that begin at game starts, drawn reproducibly from a torch generator."""

    def __init__(self, tokens: np.ndarray, starts: np.ndarray, block_size: int, split: str):
        self.tokens = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
        usable = starts[starts <= len(tokens) - (block_size + 1)]
        if len(usable) == 0:
            raise ConfigError(
                f"the {split} data ({len(tokens)} tokens) is too small for blocks of {block_size + 1}; "
                f"add games or lower model.block_size"
            )
        self.starts = torch.from_numpy(usable.astype(np.int64))
        self.block_size = block_size

    def batch(self, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        chosen = self.starts[torch.randint(len(self.starts), (size,), generator=generator)]
        offsets = chosen[:, None] + torch.arange(self.block_size + 1)[None, :]
        rows = self.tokens[offsets]
        return rows[:, :-1], rows[:, 1:]


def _optimizer(model: GPT, settings: Any, device: torch.device) -> torch.optim.AdamW:
    # Weight decay on matrices only (not on norms and biases), as nanoGPT does.
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    plain = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [{"params": decay, "weight_decay": settings.weight_decay}, {"params": plain, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=settings.learning_rate, betas=settings.betas, fused=device.type == "cuda")


class ChessFormerTrainer:
    """Trains a ChessFormer from a training file; see :mod:`arena_plugins.training.config`."""

    description = "nanoGPT-style ChessFormer on game transcripts (the paper's recipe; characters or moves)"

    def train(
        self,
        config: TrainingConfig,
        fresh: bool = False,
        echo: Callable[[str], None] = print,
        stop_after: int | None = None,
        quiet: bool = False,
    ) -> Path:
        """Prepare data if needed, train (resuming from ``last.pt`` unless ``fresh``), return the checkpoint.

        A finished run also writes ``model.pt``, the weights alone at the step
        with the lowest validation loss, and returns it; a run stopped early
        returns ``last.pt``.

        ``stop_after`` ends the run after that many steps of this invocation
        (the checkpoint is written), as an interruption would.
        """
        out = config.out
        data_folder = out / "data"
        tokenizer = TOKENIZERS[config.tokenizer]()
        prepared = (data_folder / "meta.json").exists() and Shards(data_folder).tokenizer() == tokenizer
        if fresh or not prepared:
            echo(f"preparing data into {data_folder}/")
            summary = prepare(config.sources, config.filters, data_folder, config.validation, config.seed, tokenizer)
            echo(summary.describe())
            for problem in summary.malformed[:10]:
                echo(f"  skipped {problem}")
        shards = Shards(data_folder)
        settings = config.train
        device = torch.device("cuda" if settings.device == "auto" and torch.cuda.is_available() else
                              ("cpu" if settings.device == "auto" else settings.device))
        gpt_config = GPTConfig(vocab_size=tokenizer.size, **config.model)
        train_blocks = Blocks(shards.tokens("train"), shards.starts("train"), gpt_config.block_size, "train")
        val_blocks = Blocks(shards.tokens("val"), shards.starts("val"), gpt_config.block_size, "validation")

        torch.manual_seed(config.seed)
        model = GPT(gpt_config).to(device)
        optimizer = _optimizer(model, settings, device)
        generator = torch.Generator().manual_seed(config.seed)
        step, best = 0, float("inf")
        last = out / LAST
        if last.exists() and not fresh:
            state = read_checkpoint(last)
            if state["model_args"] != asdict(gpt_config):
                raise ConfigError(
                    f"{last} was trained with another model shape; rerun with --fresh to start over"
                )
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            generator.set_state(state["generator"])
            torch.set_rng_state(state["rng"])
            step, best = int(state["iter_num"]), float(state["best_val_loss"])
            echo(f"resuming from {last} at step {step}")
        runnable = torch.compile(model) if settings.compile else model
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else _nothing()

        def save(path: Path) -> None:
            save_checkpoint(
                path, model, tokenizer,
                optimizer=optimizer.state_dict(), iter_num=step, best_val_loss=best,
                generator=generator.get_state(), rng=torch.get_rng_state(), config=config.raw,
            )

        def save_weights(path: Path) -> None:
            save_checkpoint(path, model, tokenizer, iter_num=step, best_val_loss=best, config=config.raw)

        def validate() -> float:
            model.eval()
            local = torch.Generator().manual_seed(config.seed + 1)  # the same batches every time
            losses = []
            with torch.no_grad(), autocast:
                for _ in range(settings.eval_batches):
                    x, y = val_blocks.batch(settings.batch_size, local)
                    losses.append(float(runnable(x.to(device), y.to(device))[1]))
            model.train()
            return sum(losses) / len(losses)

        tokens_per_step = settings.batch_size * settings.grad_accum * gpt_config.block_size
        echo(f"model: {model.num_parameters() / 1e6:.2f}M parameters, {tokens_per_step} tokens per step, "
             f"device {device}; uniform baseline loss ln({tokenizer.size}) = {math.log(tokenizer.size):.3f}")
        model.train()
        bar = tqdm(total=settings.max_steps, initial=step, unit="step", disable=quiet, dynamic_ncols=True)
        ran = 0
        started, counted = time.perf_counter(), 0
        while step < settings.max_steps:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, settings)
            total = 0.0
            for _ in range(settings.grad_accum):
                x, y = train_blocks.batch(settings.batch_size, generator)
                with autocast:
                    _, loss = runnable(x.to(device), y.to(device))
                (loss / settings.grad_accum).backward()
                total += loss.item() / settings.grad_accum
            if settings.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            ran += 1
            counted += tokens_per_step
            rate = counted / (time.perf_counter() - started)
            bar.update(1)
            bar.set_postfix_str(f"loss {total:.3f}, {rate:,.0f} tok/s", refresh=False)
            last_step = step == settings.max_steps or (stop_after is not None and ran >= stop_after)
            if step % settings.eval_interval == 0 or last_step:
                val = validate()
                if val < best:
                    best = val
                    save_weights(out / BEST)
                bar.write(f"step {step}: train loss {total:.4f}, validation loss {val:.4f}")
            if step % settings.checkpoint_interval == 0 or last_step:
                save(last)
                if step % settings.checkpoint_interval == 0:
                    save(out / f"step-{step}.pt")
                if config.evaluate:
                    bar.write(evaluate(last, config.evaluate, step))
            if stop_after is not None and ran >= stop_after:
                break
        bar.close()
        if step < settings.max_steps:
            return last
        if (out / BEST).exists():
            (out / BEST).replace(out / MODEL)
        elif not (out / MODEL).exists():  # a run from before best.pt was kept
            save_weights(out / MODEL)
        return out / MODEL


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def evaluate(checkpoint: Path, settings: dict[str, Any], step: int) -> str:
    """Play the checkpoint against each opponent for a few games: score and illegal-move attempts."""
    from arena import load_plugins
    from arena.play.game import GameRules
    from arena.play.match import Match
    from arena.spec import PlayerSpec, parse_player_spec
    from arena.rating.standings import Standing

    plugins = load_plugins()
    model = PlayerSpec("transformer", {
        "checkpoint": str(checkpoint),
        "temperature": settings.get("temperature", 0.1),
        "decoding": settings.get("decoding", "sample"),
    }, name=f"step-{step}")
    lines = []
    for text in settings["opponents"]:
        score, illegal = Standing("model"), 0
        with Match(model, parse_player_spec(str(text)), plugins) as match:
            for record in match.play(int(settings.get("games", 4)), seed=step, rules=GameRules(illegal_attempts=5)):
                score.add(record.score_for(match.names[0]))
                stats = record.white_stats if record.white.name == match.names[0] else record.black_stats
                illegal += stats.illegal_attempts
        lines.append(f"{match.names[1]} {score.points:g}/{score.games} ({illegal} illegal attempts)")
    return f"step {step} evaluation: " + "; ".join(lines)

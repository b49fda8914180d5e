"""``arena bench train``: training tokens per second and model FLOP utilization on this machine."""

from __future__ import annotations

import time

import click

#: Shapes timed by default: a tiny CPU model and the paper's 50M configuration.
SHAPES = {
    "tiny": dict(n_layer=4, n_head=4, n_embd=128, block_size=256),
    "paper-50m": dict(n_layer=16, n_head=8, n_embd=512, block_size=1023),
}


def training_rate(shape: dict, batch_size: int, steps: int) -> tuple[float, float, int]:
    """(tokens/s, training FLOPs per token, parameters) of AdamW steps on random data."""
    import torch

    from arena_plugins.transformer.model import GPT, GPTConfig

    torch.manual_seed(0)
    config = GPTConfig(vocab_size=32, **shape)
    model = GPT(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randint(32, (batch_size, config.block_size))
    y = torch.randint(32, (batch_size, config.block_size))

    def step() -> None:
        _, loss = model(x, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()  # warm up
    started = time.perf_counter()
    for _ in range(steps):
        step()
    rate = steps * batch_size * config.block_size / (time.perf_counter() - started)
    parameters = model.num_parameters()
    # 6 FLOPs per parameter per token (forward and backward), plus attention over the block (PaLM's count).
    per_token = 6 * parameters + 12 * config.n_layer * config.n_embd * config.block_size
    return rate, per_token, parameters


@click.command("train")
@click.option("--steps", default=3, show_default=True, type=click.IntRange(min=1), help="Timed steps per shape.")
@click.option("--batch-size", default=4, show_default=True, type=click.IntRange(min=1))
def bench_train(steps, batch_size):
    """Tokens per second of a training step (tiny and 50M shapes) and model FLOP utilization."""
    from arena_plugins.transformer.bench import matmul_flops

    peak = matmul_flops()
    click.echo(f"measured matmul: {peak / 1e9:.1f} GFLOP/s (float32)")
    click.echo(f"{'shape':<10} {'parameters':>11} {'tokens/s':>10} {'GFLOP/s':>9} {'MFU':>7}")
    for name, shape in SHAPES.items():
        rate, per_token, parameters = training_rate(shape, batch_size, steps)
        achieved = rate * per_token
        click.echo(f"{name:<10} {parameters / 1e6:>10.2f}M {rate:>10,.0f} {achieved / 1e9:>9.1f} {achieved / peak:>7.1%}")

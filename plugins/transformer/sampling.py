"""Drawing a token or a move from model scores at a temperature, reproducibly from a generator."""

from __future__ import annotations

import math
from typing import Any

import torch


def _draw(probabilities: torch.Tensor, generator: torch.Generator) -> int:
    # Inverse CDF in float64 with one uniform from the game's own generator: the same seed
    # gives the same choice whatever else ran in the batch.
    uniform = torch.rand((), generator=generator, dtype=torch.float64)
    cumulative = torch.cumsum(probabilities, dim=0)
    return int(min(torch.searchsorted(cumulative, uniform * cumulative[-1]).item(), len(probabilities) - 1))


def pick(logits: torch.Tensor, temperature: float, top_k: int | None,
         generators: list[torch.Generator]) -> list[tuple[int, float]]:
    """A token from each row of logits (row ``i`` drawn with ``generators[i]``), with its
    log-probability under the model (temperature 1). The rows are scaled, cut and normalized
    together; each game's draw still takes one uniform from its own generator."""
    logits = logits.to(torch.float64).cpu()
    log_model = torch.log_softmax(logits, dim=-1)
    if temperature == 0:
        tokens = torch.argmax(logits, dim=-1)
    else:
        scaled = logits / temperature
        if top_k is not None and top_k < scaled.shape[-1]:
            threshold = torch.topk(scaled, top_k, dim=-1).values[:, -1:]
            scaled = torch.where(scaled < threshold, torch.full_like(scaled, -math.inf), scaled)
        cumulative = torch.cumsum(torch.softmax(scaled, dim=-1), dim=-1)
        uniforms = torch.stack([torch.rand((), generator=generator, dtype=torch.float64) for generator in generators])
        tokens = torch.searchsorted(cumulative, (uniforms * cumulative[:, -1])[:, None])[:, 0]
        tokens = tokens.clamp(max=logits.shape[-1] - 1)
    chosen = log_model.gather(1, tokens[:, None])[:, 0]
    return list(zip(tokens.tolist(), chosen.tolist()))


def pick_from(scores: list[float], temperature: float, generator: torch.Generator) -> tuple[int, dict[str, Any]]:
    """A move from the model's log-probabilities of the legal moves, and facts about the distribution.

    Facts: ``logprob`` (the chosen move's log-probability among legal moves),
    ``entropy`` (in nats, of the distribution it was drawn from), ``legal_mass``
    (the model's total probability on legal moves) and ``top`` (the five most
    likely moves at this temperature, as (index, probability)).
    """
    values = torch.tensor(scores, dtype=torch.float64)
    normalized = torch.log_softmax(values, dim=0)
    if temperature == 0:
        distribution = torch.zeros_like(values)
        distribution[int(torch.argmax(values))] = 1.0
    else:
        distribution = torch.softmax(values / temperature, dim=0)
    index = int(torch.argmax(values)) if temperature == 0 else _draw(distribution, generator)
    positive = distribution[distribution > 0]
    entropy = float(-(positive * positive.log()).sum())
    order = torch.argsort(distribution, descending=True)[:5]
    return index, {
        "logprob": round(float(normalized[index]), 4),
        "entropy": round(entropy, 4),
        "legal_mass": round(float(torch.logsumexp(values, dim=0).exp()), 4),
        "top": [(int(i), round(float(distribution[i]), 4)) for i in order],
    }

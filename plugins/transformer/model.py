"""ChessFormer: a GPT decoder in the style of nanoGPT, with a key/value cache for batched play.

Self-contained: it imports nothing from the rest of the project. Parameter
names match nanoGPT's model.py, so checkpoints written by nanoGPT's train.py
load as they are.

Two ways in:

* ``model(idx, targets)`` for training: logits (and the loss) of whole sequences.
* ``model.extend(idx, positions, mask, cache)`` for play: runs new tokens of a
  batch of sequences that may have different lengths (padding is masked out
  and each row has its own positions) on top of the keys and values already
  in ``cache``, and appends theirs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    """Model shape; the defaults are the paper's ~50M-parameter ChessFormer."""

    block_size: int = 1023
    vocab_size: int = 32
    n_layer: int = 16
    n_head: int = 8
    n_embd: int = 512
    dropout: float = 0.0
    bias: bool = False


def state_shapes(config: GPTConfig) -> dict[str, tuple[int, ...]]:
    """The keys and tensor shapes of ``GPT(config).state_dict()``, without building the model.

    Checking a checkpoint against its ``model_args`` must not cost a model (nor the seconds
    torch takes to initialise one on the meta device); the tests keep the two equal.
    """
    embd, hidden = config.n_embd, 4 * config.n_embd
    layers = {
        "ln_1": [embd], "attn.c_attn": [3 * embd, embd], "attn.c_proj": [embd, embd],
        "ln_2": [embd], "mlp.c_fc": [hidden, embd], "mlp.c_proj": [embd, hidden],
    }
    shapes: dict[str, tuple[int, ...]] = {
        "transformer.wte.weight": (config.vocab_size, embd),
        "transformer.wpe.weight": (config.block_size, embd),
    }
    for layer in range(config.n_layer):
        for name, shape in layers.items():
            shapes[f"transformer.h.{layer}.{name}.weight"] = tuple(shape)
            if config.bias:
                shapes[f"transformer.h.{layer}.{name}.bias"] = (shape[0],)
    shapes["transformer.ln_f.weight"] = (embd,)
    if config.bias:
        shapes["transformer.ln_f.bias"] = (embd,)
    shapes["lm_head.weight"] = (config.vocab_size, embd)
    return shapes


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch's always has one)."""

    def __init__(self, ndim: int, bias: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class KVCache:
    """Keys and values of a batch of sequences, one (rows, heads, capacity, head size) buffer per layer.

    A row's token goes in the column its caller names (a :class:`Session` keeps each
    game's tokens in its row's first columns). The buffers are allocated, not written:
    a column is zeroed when it first comes into use (:meth:`prepare`), so on a CPU
    memory is resident only as far as the longest row reaches (the untouched end of
    each row's block is never given pages by the OS), and no growth copies the cache
    as games lengthen. Zeroed, because a masked-out column still enters attention's product with
    weight 0, and memory holding NaN would turn 0 x NaN into NaN logits. One buffer per
    layer, so that adding rows holds the new buffers and one old layer at a time.
    """

    def __init__(self, config: GPTConfig, rows: int, capacity: int, device: torch.device, dtype: torch.dtype):
        self.shape = (rows, config.n_head, capacity, config.n_embd // config.n_head)
        self.keys = [torch.empty(self.shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
        self.values = [torch.empty(self.shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
        self.ready = 0  #: columns zeroed or written so far, in every row
        # Set by ``GPT.extend`` for its forward pass, per new token: its row, its row and step in
        # the attention's (rows, steps) layout, and the column its key and value go to; and the
        # cache rows that layout holds (None: the first ones, as many as it has).
        self.slot_rows = self.slot_places = self.slot_steps = self.columns = torch.zeros(0, dtype=torch.long)
        self.layout_rows: torch.Tensor | None = None

    def prepare(self, end: int) -> None:
        """Zero the columns before ``end`` that no call has used yet."""
        if end > self.ready:
            for buffer in self.keys + self.values:
                buffer[:, :, self.ready:end] = 0
            self.ready = end

    def resize(self, rows: int, capacity: int) -> None:
        """Grow to ``rows`` x ``capacity``, keeping what is there; a layer at a time."""
        old_rows = self.shape[0]
        self.shape = (rows,) + self.shape[1:2] + (capacity,) + self.shape[3:]
        for buffers in (self.keys, self.values):
            for layer, old in enumerate(buffers):
                new = torch.empty(self.shape, device=old.device, dtype=old.dtype)
                new[:old_rows, :, :self.ready] = old[:, :, :self.ready]
                new[old_rows:, :, :self.ready] = 0
                buffers[layer] = new
                del old


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        cache: KVCache | None = None,
        layer: int = 0,
    ) -> torch.Tensor:
        if cache is not None:
            return self._extend(x, mask, cache, layer)
        batch, steps, channels = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        # (batch, heads, steps, head size)
        q, k, v = (t.view(batch, steps, self.n_head, channels // self.n_head).transpose(1, 2) for t in (q, k, v))
        dropout = self.attn_dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=mask is None)
        y = y.transpose(1, 2).contiguous().view(batch, steps, channels)
        return self.resid_dropout(self.c_proj(y))

    def _extend(self, x: torch.Tensor, mask: torch.Tensor, cache: KVCache, layer: int) -> torch.Tensor:
        """``x``: (tokens, channels), the new tokens of every row one after another (no padding: the
        projections compute only real tokens). Attention places them at their (row, step) in ``mask``'s
        (batch, 1, steps, end) layout, after their rows' cached keys and values."""
        tokens, channels = x.shape
        batch, _, steps, end = mask.shape
        shape = (tokens, self.n_head, channels // self.n_head)
        q, k, v = (t.reshape(shape) for t in self.c_attn(x).split(self.n_embd, dim=1))
        keys, values = cache.keys[layer], cache.values[layer]
        # Each new token's key and value go to its own column of its row.
        keys[cache.slot_rows, :, cache.columns] = k
        values[cache.slot_rows, :, cache.columns] = v
        queries = q.new_zeros((batch, steps) + shape[1:])
        queries[cache.slot_places, cache.slot_steps] = q
        if cache.layout_rows is None:
            keys, values = keys[:batch, :, :end], values[:batch, :, :end]
        else:  # a few rows of many: a copy of theirs costs less than attending over all
            keys, values = keys[cache.layout_rows, :, :end], values[cache.layout_rows, :, :end]
        y = F.scaled_dot_product_attention(queries.transpose(1, 2), keys, values, attn_mask=mask)
        y = y.transpose(1, 2)[cache.slot_places, cache.slot_steps].reshape(tokens, channels)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, mask=None, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), mask, cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """The decoder: token and position embeddings, ``n_layer`` blocks, a tied output head."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as in GPT-2
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():
            if name.endswith("c_proj.weight"):  # scaled init of residual projections (GPT-2)
                torch.nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self, non_embedding: bool = True) -> int:
        """Parameters, without the position embeddings by default (as nanoGPT counts)."""
        count = sum(p.numel() for p in self.parameters())
        return count - self.transformer.wpe.weight.numel() if non_embedding else count

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """Logits for every position of ``idx`` (batch, steps), and the cross-entropy loss with ``targets``.

        Targets equal to -1 are ignored (padding).
        """
        steps = idx.shape[1]
        if steps > self.config.block_size:
            raise ValueError(f"sequence of {steps} tokens exceeds the block size {self.config.block_size}")
        positions = torch.arange(steps, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def extend(self, idx: torch.Tensor, positions: torch.Tensor, slots: torch.Tensor, mask: torch.Tensor,
               cache: KVCache, layout_rows: torch.Tensor | None = None) -> torch.Tensor:
        """Run new tokens on top of ``cache`` and return their logits (tokens, vocab).

        ``idx`` and ``positions`` (in its sequence) are per new token, of every row one
        after another; ``slots`` (tokens, 4) gives each token's cache row, its row and step
        in ``mask``, and the cache column its key and value go to. ``mask`` is (rows, 1,
        steps, end), True where a step may attend among the cache's first ``end`` columns
        (its row's own earlier tokens, never padding; a step no token fills must still see
        one column); its rows are the cache's ``layout_rows``, or its first rows if None.
        """
        x = self.transformer.wte(idx) + self.transformer.wpe(positions)
        cache.slot_rows, cache.slot_places, cache.slot_steps, cache.columns = slots.unbind(1)
        cache.layout_rows = layout_rows
        for layer, block in enumerate(self.transformer.h):
            x = block(x, mask, cache, layer)
        return self.lm_head(self.transformer.ln_f(x))

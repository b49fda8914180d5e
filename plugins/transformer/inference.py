"""Batched inference for many games at once, each game keeping its keys and values between moves.

A :class:`Session` belongs to one player. Every game it serves has a row (a
slot) in one key/value cache that lives across moves, and a row holds its
game's tokens in its first columns, in order: a token's column is its position.
A call runs the new tokens of many rows at once, each at the columns after its
row's tokens, with no padding in the projections (attention lays them out as
rows x steps); scratch tokens (the legal moves' trie) are written past the
row's end and over by the next call. So no column is wasted on other games'
tokens, nothing ever needs compacting, and the cache's memory follows the
longest game.

A move only runs the tokens new since the game's previous move (the last
moves and the move number) and the tokens it generates, for all games in one
batch, without copying any game's cache.
"""

from __future__ import annotations

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from .model import GPT, KVCache

#: Columns made ready at a time (zeroed: see KVCache) as the longest row needs more.
GROWTH_COLUMNS = 64
#: Attention kernels for decoding: all but cuDNN's, which builds a plan for every new shape, and every
#: step's cache length is one (measured on an H200: 2.8x fewer moves/s at 256 games with it).
DECODING_ATTENTION = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]


def _common_prefix(a: list[int], b: list[int]) -> int:
    length = min(len(a), len(b))
    for i in range(length):
        if a[i] != b[i]:
            return i
    return length


class Session:
    """The key/value rows of the games a player is serving."""

    def __init__(self, model: GPT):
        self.model = model
        parameter = next(model.parameters())
        self.device, self.dtype = parameter.device, parameter.dtype
        self.rows: dict[str, int] = {}  #: game id -> row
        self.free: list[int] = []
        self.tokens: list[list[int]] = []  #: per row, its game's tokens (column i holds token i)
        # Room for a whole context and a step past it: columns take memory only once they are used.
        self.cache = KVCache(model.config, 0, model.config.block_size + GROWTH_COLUMNS, self.device, self.dtype)
        self.computed = 0  #: tokens run through the model (for benchmarks)
        self.forwards = 0  #: batched forward passes, each reading every weight once (for benchmarks)
        self.scratch = 0  #: tokens run as scratch by :meth:`tree`, not kept (for benchmarks)
        self.growths = 0  #: times the cache was reallocated (a copy)

    # -- rows ---------------------------------------------------------------------------------------

    def release(self, game_id: str) -> None:
        """Forget a finished game; its row serves the next game."""
        row = self.rows.pop(game_id, None)
        if row is not None:
            self.tokens[row] = []
            self.free.append(row)

    def _rows(self, game_ids: list[str]) -> list[int]:
        """Each game's row; new games get free rows, made for all of them in one allocation
        (one at a time, the old and a bigger cache would be held together again and again)."""
        missing = len({game_id for game_id in game_ids if game_id not in self.rows}) - len(self.free)
        if missing > 0:
            old = len(self.tokens)
            self._grow(rows=old + max(missing, old))  # at least double: rare reallocations
            self.tokens += [[] for _ in range(len(self.tokens), self.cache.shape[0])]
            self.free += list(range(old, len(self.tokens)))
        for game_id in game_ids:
            if game_id not in self.rows:
                self.rows[game_id] = self.free.pop(0)
        return [self.rows[game_id] for game_id in game_ids]

    def _grow(self, rows: int = 0, columns: int = 0) -> None:
        """Make the cache hold ``rows`` rows and its first ``columns`` columns ready for use."""
        old_rows, _, capacity, _ = self.cache.shape
        if rows > old_rows or columns > capacity:  # a copy: rare (new games join; a trie past the context)
            self.cache.resize(max(rows, old_rows), columns + GROWTH_COLUMNS if columns > capacity else capacity)
            self.growths += 1
        if columns:
            self.cache.prepare(min(self.cache.shape[2], columns + GROWTH_COLUMNS))

    # -- running tokens -----------------------------------------------------------------------------

    def _layout(self, new: list[tuple[int, int, int, int]], steps: int, causal: bool = True) -> dict:
        """A forward pass's tensors for the new tokens ``new``, each (row, step, position, token id)
        and its column the row's length plus its step: the mask (rows, 1, steps, end), the slots
        (row, row in the mask, step, column), the token ids and the positions, and the rows the
        mask holds.

        In the mask each step of each row sees the row's tokens and itself, and if ``causal``
        the row's earlier steps (the trie sets its own). The mask holds the cache's first rows,
        up to the last one with a new token, or, when a third of those or fewer have one (a
        move's last characters), only those; the cache grows to hold the new columns.
        """
        rows, steps_of, positions, idx = (torch.tensor(values) for values in zip(*new))
        lengths = torch.tensor([len(tokens) for tokens in self.tokens])
        taking_part = sorted(set(rows.tolist()))
        if 3 * len(taking_part) <= taking_part[-1] + 1:
            layout_rows = torch.tensor(taking_part)
            places = torch.searchsorted(layout_rows, rows)
        else:
            layout_rows, places = None, rows
        lengths = lengths[layout_rows if layout_rows is not None else slice(0, taking_part[-1] + 1)][:, None]
        columns = lengths + torch.arange(steps)[None, :]
        end = int(columns.max()) + 1
        self._grow(columns=end)
        keys = torch.arange(end)[None, None, :]
        seen = keys <= columns[:, :, None] if causal else (keys < lengths[:, :, None]) | (keys == columns[:, :, None])
        slots = torch.stack([rows, places, steps_of, lengths[places, 0] + steps_of], dim=1)
        return {"mask": seen[:, None], "slots": slots, "idx": idx, "positions": positions, "layout_rows": layout_rows}

    def _forward(self, mask: torch.Tensor, slots: torch.Tensor, idx: torch.Tensor, positions: torch.Tensor,
                 layout_rows: torch.Tensor | None) -> torch.Tensor:
        """The logits of the new tokens (tokens, vocab)."""
        to = self.device
        with sdpa_kernel(DECODING_ATTENTION):
            logits = self.model.extend(idx.to(to), positions.to(to), slots.to(to), mask.to(to), self.cache,
                                       None if layout_rows is None else layout_rows.to(to))
        self.forwards += 1
        self.computed += len(idx)
        return logits

    def prefill(self, game_ids: list[str], prompts: list[list[int]]) -> tuple[list[int], torch.Tensor]:
        """Run each game's prompt tokens that are not in its row yet.

        Returns the games' rows and the logits at each prompt's last position (games, vocab).
        """
        rows = self._rows(game_ids)
        new, ends = [], []
        for row, prompt in zip(rows, prompts):
            # Keep the longest common prefix (always leave the last token to run: its logits are needed).
            keep = min(_common_prefix(self.tokens[row], prompt), len(prompt) - 1)
            self.tokens[row] = self.tokens[row][:keep]
            new += [(row, step, keep + step, token) for step, token in enumerate(prompt[keep:])]
            ends.append(len(new) - 1)
        layout = self._layout(new, max(len(prompt) - len(self.tokens[row]) for row, prompt in zip(rows, prompts)))
        for row, prompt in zip(rows, prompts):
            self.tokens[row] = list(prompt)
        return rows, self._forward(**layout)[ends]

    def step(self, rows: list[int], tokens: list[int]) -> torch.Tensor:
        """Append one token to each of ``rows``; returns the logits after each (rows, vocab)."""
        layout = self._layout([(row, 0, len(self.tokens[row]), token) for row, token in zip(rows, tokens)], 1)
        for row, token in zip(rows, tokens):
            self.tokens[row].append(token)
        return self._forward(**layout)

    def tree(self, rows: list[int], branches: list[list[list[int]]]) -> list[list[torch.Tensor]]:
        """Run several continuations of each row's prompt side by side, as scratch (not kept).

        ``branches[i]`` are token sequences following ``rows[i]``'s tokens; each
        token sees the prompt and its own branch's earlier tokens. Returns, per
        row and branch, the log-probabilities (float32, on the host) after each of its tokens.

        The branches of a row run as a trie: a prefix they share (``N`` of every
        knight move, ``Nb`` of ``Nbd2`` and ``Nbd7``) runs once, and each of its
        tokens sees the prompt and the prefix's earlier tokens, as in its branch.
        """
        tries = [_Trie(row_branches) for row_branches in branches]
        if not any(trie.tokens for trie in tries):  # every move one token long: nothing to run
            return [[torch.zeros((0, self.model.config.vocab_size)) for _ in trie.paths] for trie in tries]
        new, offsets = [], []
        for row, trie in zip(rows, tries):
            offsets.append(len(new))
            length = len(self.tokens[row])
            new += [(row, node, length + depth, token) for node, (token, depth) in enumerate(zip(trie.tokens, trie.depths))]
        layout = self._layout(new, max(len(trie.tokens) for trie in tries), causal=False)
        # ... and a trie node its ancestors among the new columns.
        place = dict(zip(layout["slots"][:, 0].tolist(), layout["slots"][:, 1].tolist()))
        for row, trie in zip(rows, tries):
            if trie.tokens:
                length, count = len(self.tokens[row]), len(trie.tokens)
                layout["mask"][place[row], 0, :count, length:length + count] = trie.ancestry()
        self.scratch += len(new)
        # One log-softmax for the whole batch: per branch, it costs more in calls than in arithmetic.
        # On the host, in one copy: callers read them move by move, and on a GPU each read would wait for it.
        logprobs = torch.log_softmax(self._forward(**layout).float(), dim=-1).cpu()
        return [[logprobs[offset + torch.tensor(path, dtype=torch.long)] for path in trie.paths]
                for offset, trie in zip(offsets, tries)]


class _Trie:
    """Token sequences as a trie: each distinct prefix one node, in the order first met."""

    def __init__(self, branches: list[list[int]]):
        self.tokens: list[int] = []  #: each node's token
        self.depths: list[int] = []  #: each node's place in its branches (0: the first token)
        self.paths: list[list[int]] = []  #: per branch, the node of each of its tokens
        nodes: dict[tuple[int, ...], int] = {}
        for branch in branches:
            path: list[int] = []
            for depth in range(len(branch)):
                prefix = tuple(branch[:depth + 1])
                if prefix not in nodes:
                    nodes[prefix] = len(self.tokens)
                    self.tokens.append(branch[depth])
                    self.depths.append(depth)
                path.append(nodes[prefix])
            self.paths.append(path)

    def ancestry(self) -> torch.Tensor:
        """(nodes, nodes): whether the second node is the first or one of its ancestors."""
        count = len(self.tokens)
        seen = [[False] * count for _ in range(count)]  # in Python, then one tensor: a move's trie is small
        for path in self.paths:
            for depth, node in enumerate(path):
                for ancestor in path[:depth + 1]:
                    seen[node][ancestor] = True
        return torch.tensor(seen, dtype=torch.bool).reshape(count, count)

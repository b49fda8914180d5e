"""Batched inference for many games at once, each game keeping its keys and values between moves.

A :class:`Session` belongs to one player. Every game it serves has a row (a
slot) in one key/value buffer that lives across moves. All rows share the
buffer's columns: each call appends the same columns to every row, and a row
marks which of its columns hold its game's tokens (the rest are holes: other
games' new tokens, discarded generations, padding). Positions are explicit
per token, so holes cost nothing but a little attention bandwidth; when the
columns run out, each row's tokens are packed to the left.

So a move only runs the characters new since the game's previous move (the
last moves and the move number) and the characters it generates, for all
games in one batch, without copying any game's cache.
"""

from __future__ import annotations

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from .model import GPT, KVCache

#: Columns beyond the model's context, so that packing (a copy) is rare.
SPARE_COLUMNS = 512
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

    def __init__(self, model: GPT, spare_columns: int = SPARE_COLUMNS):
        self.model = model
        parameter = next(model.parameters())
        self.device, self.dtype = parameter.device, parameter.dtype
        self.rows: dict[str, int] = {}  #: game id -> row
        self.free: list[int] = []
        self.tokens: list[list[int]] = []  #: per row, its game's tokens in order
        self.columns: list[list[int]] = []  #: per row, the column of each of those tokens
        self.capacity = model.config.block_size + spare_columns
        self.cache = KVCache(model.config, 0, self.capacity, self.device, self.dtype)
        self.valid = torch.zeros((0, self.capacity), dtype=torch.bool)
        self.length = 0  #: columns in use, the same for every row
        self.computed = 0  #: tokens run through the model (for benchmarks)
        self.forwards = 0  #: batched forward passes, each reading every weight once (for benchmarks)
        self.scratch = 0  #: tokens run as scratch by :meth:`tree`, not kept (for benchmarks)
        self.packings = 0  #: times the rows were packed to the left

    # -- rows ---------------------------------------------------------------------------------------

    def release(self, game_id: str) -> None:
        """Forget a finished game; its row serves the next game."""
        row = self.rows.pop(game_id, None)
        if row is not None:
            with torch.inference_mode():  # the buffers were made under inference mode, where the moves run
                self.valid[row] = False
            self.tokens[row], self.columns[row] = [], []
            self.free.append(row)

    def _row(self, game_id: str) -> int:
        if game_id in self.rows:
            return self.rows[game_id]
        if not self.free:
            self._grow(rows=max(1, len(self.tokens)))
        row = self.free.pop(0)
        self.rows[game_id] = row
        return row

    def _grow(self, rows: int = 0, columns: int = 0) -> None:
        """Reallocate the buffer with more rows or columns (rare: it copies everything)."""
        old_rows = len(self.tokens)
        cache = KVCache(self.model.config, old_rows + rows, self.capacity + columns, self.device, self.dtype)
        cache.keys[:, :old_rows, :, : self.length] = self.cache.keys[:, :, :, : self.length]
        cache.values[:, :old_rows, :, : self.length] = self.cache.values[:, :, :, : self.length]
        valid = torch.zeros((old_rows + rows, self.capacity + columns), dtype=torch.bool)
        valid[:old_rows, : self.capacity] = self.valid
        self.cache, self.valid = cache, valid
        self.capacity += columns
        self.tokens += [[] for _ in range(rows)]
        self.columns += [[] for _ in range(rows)]
        self.free += list(range(old_rows, old_rows + rows))

    def _room(self, needed: int) -> None:
        """Make sure ``needed`` more columns fit: pack rows to the left, or grow."""
        if self.length + needed <= self.capacity:
            return
        self.pack()
        if self.length + needed > self.capacity:
            self._grow(columns=self.length + needed - self.capacity)

    def pack(self) -> None:
        """Move every row's tokens to its leftmost columns, closing the holes (a copy of the cache)."""
        self.packings += 1
        width = max((len(columns) for columns in self.columns), default=0)
        for row, columns in enumerate(self.columns):
            if not columns:
                continue
            index = torch.tensor(columns, device=self.device)
            count = len(columns)
            self.cache.keys[:, row, :, :count] = self.cache.keys[:, row, :, index]
            self.cache.values[:, row, :, :count] = self.cache.values[:, row, :, index]
            self.columns[row] = list(range(count))
            self.valid[row] = False
            self.valid[row, :count] = True
        self.length = width

    # -- running tokens -----------------------------------------------------------------------------

    def _run(self, idx: torch.Tensor, positions: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        rows = idx.shape[0]
        view = KVCache.__new__(KVCache)
        view.keys, view.values, view.length = self.cache.keys[:, :rows], self.cache.values[:, :rows], self.length
        with sdpa_kernel(DECODING_ATTENTION):
            logits = self.model.extend(idx.to(self.device), positions.to(self.device), allowed.to(self.device), view)
        self.length = view.length
        self.forwards += 1
        return logits

    def _allowed(self, start: int, steps: int) -> torch.Tensor:
        """(rows, 1, steps, start + steps): a query at column start+q sees its row's valid columns up to itself."""
        rows = len(self.tokens)
        end = start + steps
        keys = torch.arange(end)
        queries = start + torch.arange(steps)
        seen = self.valid[:rows, None, :end] & (keys[None, None, :] <= queries[None, :, None])
        # A query with nothing to see (padding, a row not asked) would give NaN: let it see itself.
        seen |= keys[None, None, :] == queries[None, :, None]
        return seen[:, None]

    def prefill(self, game_ids: list[str], prompts: list[list[int]], extra: int) -> tuple[list[int], torch.Tensor]:
        """Run each game's prompt tokens that are not in its row yet; reserve ``extra`` columns after.

        Returns the games' rows and the logits at each prompt's last position (games, vocab).
        """
        # Rows for every new game at once: growing one row at a time would hold the old buffer
        # and a bigger copy together again and again (64 new games: 1.5 buffers of 64 rows at the peak).
        missing = len({game_id for game_id in game_ids if game_id not in self.rows}) - len(self.free)
        if missing > 0:
            self._grow(rows=max(missing, len(self.tokens)))
        rows = [self._row(game_id) for game_id in game_ids]
        fresh, dropped_rows, dropped_columns = [], [], []
        for row, prompt in zip(rows, prompts):
            # Keep the longest common prefix (always leave the last token to run: its logits are needed).
            keep = min(_common_prefix(self.tokens[row], prompt), len(prompt) - 1)
            dropped_columns += self.columns[row][keep:]
            dropped_rows += [row] * (len(self.columns[row]) - keep)
            self.tokens[row], self.columns[row] = self.tokens[row][:keep], self.columns[row][:keep]
            fresh.append(prompt[keep:])
        # Index lists, one tensor operation each: per-row tensor writes cost more than the rows' arithmetic
        # on a GPU, where the host's time per step is the bound.
        self.valid[dropped_rows, dropped_columns] = False
        # Columns after every row's last token hold only discarded tokens: write over them.
        self.length = max((columns[-1] + 1 for columns in self.columns if columns), default=0)
        steps = max(len(tokens) for tokens in fresh)
        self._room(steps + extra)
        start = self.length
        total_rows = len(self.tokens)
        idx = [[0] * steps for _ in range(total_rows)]
        positions = [[0] * steps for _ in range(total_rows)]
        valid_rows, valid_columns = [], []
        for row, tokens in zip(rows, fresh):
            offset = steps - len(tokens)  # right-aligned: every prompt ends in the block's last column
            idx[row][offset:] = tokens
            positions[row][offset:] = range(len(self.tokens[row]), len(self.tokens[row]) + len(tokens))
            new_columns = list(range(start + offset, start + steps))
            valid_rows += [row] * len(tokens)
            valid_columns += new_columns
            self.tokens[row] += tokens
            self.columns[row] += new_columns
        self.valid[valid_rows, valid_columns] = True
        self.computed += sum(len(tokens) for tokens in fresh)
        logits = self._run(torch.tensor(idx), torch.tensor(positions), self._allowed(start, steps))
        return rows, logits[rows, -1]

    def step(self, rows: list[int], tokens: list[int], keep: list[bool]) -> torch.Tensor:
        """Append one token to each of ``rows``; ``keep`` says which become part of their game.

        Returns the logits after each token (rows, vocab).
        """
        column = self.length
        total_rows = len(self.tokens)
        idx, positions, kept_rows = [[0] for _ in range(total_rows)], [[0] for _ in range(total_rows)], []
        for row, token, kept in zip(rows, tokens, keep):
            idx[row][0] = token
            positions[row][0] = len(self.tokens[row])
            if kept:
                kept_rows.append(row)
                self.tokens[row].append(token)
                self.columns[row].append(column)
        self.valid[kept_rows, column] = True
        self.computed += len(rows)
        logits = self._run(torch.tensor(idx), torch.tensor(positions), self._allowed(column, 1))
        return logits[rows, -1]

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
        width = max([len(trie.tokens) for trie in tries] + [1])
        self._room(width)
        start = self.length
        total_rows = len(self.tokens)
        end = start + width
        idx = torch.zeros((total_rows, width), dtype=torch.long)
        positions = torch.zeros((total_rows, width), dtype=torch.long)
        keys = torch.arange(end)
        queries = start + torch.arange(width)
        # Every query sees itself (padding too: a row with nothing to see would give NaN) ...
        allowed = (keys[None, None, :] == queries[None, :, None]).repeat(total_rows, 1, 1)
        for row, trie in zip(rows, tries):
            count = len(trie.tokens)
            idx[row, :count] = torch.tensor(trie.tokens, dtype=torch.long)
            positions[row, :count] = len(self.tokens[row]) + torch.tensor(trie.depths, dtype=torch.long)
            # ... and a trie node its row's prompt and its ancestors.
            allowed[row, :count, :start] = self.valid[row, :start]
            allowed[row, :count, start:start + count] = trie.ancestry()
            self.computed += count
            self.scratch += count
        # One log-softmax for the whole batch: per branch, it costs more in calls than in arithmetic.
        # On the host, in one copy: callers read them move by move, and on a GPU each read would wait for it.
        logprobs = torch.log_softmax(self._run(idx, positions, allowed[:, None]).float(), dim=-1).cpu()
        self.length = start  # the branches were scratch: the next call writes over them
        return [[logprobs[row, torch.tensor(path, dtype=torch.long)] for path in trie.paths]
                for row, trie in zip(rows, tries)]


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

"""Batched inference over sequences of different lengths, with keys and values kept between moves.

A :class:`Batch` lays its rows out left-padded in one key/value cache, so all
rows end in the same column and grow together one column per generated
character. Each row may start from a :class:`GameCache` -- the keys and values
of that game's previous prompt -- and then only the tokens that are new since
(the last moves and move number) go through the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .model import GPT, KVCache


@dataclass
class GameCache:
    """The keys and values of a game's tokens, kept from its previous move."""

    tokens: list[int]
    keys: torch.Tensor  #: (layers, heads, len(tokens), head size)
    values: torch.Tensor


def _common_prefix(a: list[int], b: list[int]) -> int:
    length = min(len(a), len(b))
    for i in range(length):
        if a[i] != b[i]:
            return i
    return length


class Batch:
    """Rows of token sequences run together through the model, on top of what each game kept."""

    def __init__(self, model: GPT, sequences: list[list[int]], kept: list[GameCache | None], extra: int):
        self.model = model
        self.sequences = sequences
        parameter = next(model.parameters())
        self.device, dtype = parameter.device, parameter.dtype
        lengths = [len(tokens) for tokens in sequences]
        # Reuse at most all but the last token: its logits are needed to continue.
        reusable = [
            min(_common_prefix(cache.tokens, tokens), len(tokens) - 1) if cache is not None else 0
            for cache, tokens in zip(kept, sequences)
        ]
        self.width = max(lengths)  # columns of the longest prompt; every prompt ends here
        self.new = max(length - reused for length, reused in zip(lengths, reusable))
        self.start = torch.tensor([self.width - length for length in lengths], device=self.device)
        self.cache = KVCache(model.config, len(sequences), self.width + extra, self.device, dtype)
        # Padding columns are read (masked) by attention, so they must hold numbers, not leftovers.
        for row, length in enumerate(lengths):
            self.cache.keys[:, row, :, : self.width - length] = 0
            self.cache.values[:, row, :, : self.width - length] = 0
        first_new = self.width - self.new
        for row, (cache, length) in enumerate(zip(kept, lengths)):
            reused = length - self.new  # the same number of new columns for every row
            if cache is not None and reused > 0:
                begin = self.width - length
                self.cache.keys[:, row, :, begin:begin + reused] = cache.keys[:, :, :reused]
                self.cache.values[:, row, :, begin:begin + reused] = cache.values[:, :, :reused]
        self.cache.length = first_new
        self.reused_tokens = sum(max(0, length - self.new) for length in lengths)

    def _mask(self, query_columns: torch.Tensor, total: int) -> torch.Tensor:
        """(rows, 1, queries, total): a query sees its row's tokens up to itself, never padding."""
        keys = torch.arange(total, device=self.device)
        allowed = (keys[None, None, :] >= self.start[:, None, None]) & (keys[None, None, :] <= query_columns[None, :, None])
        # A padding query would see nothing (NaN): let it see itself; its output is never read.
        allowed |= keys[None, None, :] == query_columns[None, :, None]
        return allowed[:, None]

    def _positions(self, columns: torch.Tensor) -> torch.Tensor:
        return (columns[None, :] - self.start[:, None]).clamp(min=0)

    def prefill(self) -> torch.Tensor:
        """Run every row's new prompt tokens; the logits at each prompt's last position (rows, vocab)."""
        first = self.width - self.new
        columns = torch.arange(first, self.width, device=self.device)
        idx = torch.zeros((len(self.sequences), self.new), dtype=torch.long)
        for row, tokens in enumerate(self.sequences):
            tail = tokens[max(0, len(tokens) - self.new):]
            idx[row, self.new - len(tail):] = torch.tensor(tail, dtype=torch.long)
        logits = self.model.extend(
            idx.to(self.device), self._positions(columns), self._mask(columns, self.width), self.cache
        )
        return logits[:, -1]

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Append one token to every row; the logits after it (rows, vocab)."""
        column = torch.tensor([self.cache.length], device=self.device)
        logits = self.model.extend(
            tokens.view(-1, 1).to(self.device), self._positions(column), self._mask(column, self.cache.length + 1),
            self.cache,
        )
        return logits[:, -1]

    def extend_tree(self, branches: list[list[list[int]]]) -> list[list[torch.Tensor]]:
        """Run, for each row, several continuations of its prompt side by side (a tree).

        ``branches[row]`` lists token sequences that all follow the row's
        prompt. Each token sees the prompt and its own branch's earlier tokens
        only. Returns, per row and branch, the logits after each of its tokens.
        """
        rows = len(branches)
        widths = [sum(len(branch) for branch in row) for row in branches]
        width = max(widths + [1])
        base = self.cache.length
        idx = torch.zeros((rows, width), dtype=torch.long)
        positions = torch.zeros((rows, width), dtype=torch.long)
        branch_of = torch.full((rows, width), -1, dtype=torch.long)
        lengths = torch.tensor([len(tokens) for tokens in self.sequences])
        for row, row_branches in enumerate(branches):
            at = 0
            for number, branch in enumerate(row_branches):
                idx[row, at:at + len(branch)] = torch.tensor(branch, dtype=torch.long)
                positions[row, at:at + len(branch)] = lengths[row] + torch.arange(len(branch))
                branch_of[row, at:at + len(branch)] = number
                at += len(branch)
        # Prompt columns as usual; tree columns only within the same branch and not later in it.
        total = base + width
        keys = torch.arange(total)
        prompt = (keys[None, None, :] >= self.start.cpu()[:, None, None]) & (keys[None, None, :] < base)
        key_branch = torch.cat([torch.full((rows, base), -2, dtype=torch.long), branch_of], dim=1)
        query_columns = base + torch.arange(width)
        same = (key_branch[:, None, :] == branch_of[:, :, None]) & (keys[None, None, :] <= query_columns[None, :, None])
        allowed = (prompt | same) & (branch_of[:, :, None] >= 0) | (keys[None, None, :] == query_columns[None, :, None])
        logits = self.model.extend(
            idx.to(self.device), positions.to(self.device), allowed[:, None].to(self.device), self.cache
        )
        result: list[list[torch.Tensor]] = []
        for row, row_branches in enumerate(branches):
            at, row_logits = 0, []
            for branch in row_branches:
                row_logits.append(logits[row, at:at + len(branch)])
                at += len(branch)
            result.append(row_logits)
        return result

    def keep(self, row: int, tokens: list[int]) -> GameCache:
        """What row ``row`` has computed for its first ``len(tokens)`` tokens, to reuse next move.

        A view into this batch's cache, not a copy: copying every game's keys
        and values out costs more than the model itself late in a game. The
        buffer lives until the games that point into it have moved on.
        """
        begin = int(self.start[row])
        end = begin + len(tokens)
        return GameCache(list(tokens), self.cache.keys[:, row, :, begin:end], self.cache.values[:, row, :, begin:end])

"""Loading and saving ChessFormer checkpoints: nanoGPT's layout, never executing code from the file.

A checkpoint is a dict with ``model_args`` (the GPTConfig fields) and
``model`` (the state dict; keys may start with ``_orig_mod.`` when saved from a
compiled model). The project's own checkpoints add ``tokenizer``; nanoGPT's
(the paper's) carry none and use the paper's 32-character vocabulary.
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch

from arena.errors import ConfigError

from .model import GPT, GPTConfig
from .tokenizer import PAPER_VOCABULARY, CharTokenizer, Tokenizer, tokenizer_from_dict

COMPILED_PREFIX = "_orig_mod."


class CheckpointError(ConfigError):
    """A checkpoint that cannot be used: unreadable, unsafe, or not matching its model."""


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint's dict, loaded with ``weights_only=True`` so that it cannot run code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"checkpoint {str(path)!r} holds Python objects other than tensors and plain data, "
            f"which arena refuses to load (they could run code): {str(error).splitlines()[0]}"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as error:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is truncated or not a PyTorch file: {str(error).splitlines()[0]}"
        ) from None
    if not isinstance(data, dict) or "model_args" not in data or "model" not in data:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is not in nanoGPT's layout: expected a dict with 'model_args' and 'model'"
        )
    return data


def tokenizer_of(data: dict[str, Any], path: str | Path) -> Tokenizer:
    """The checkpoint's tokenizer, or the paper's vocabulary when it carries none."""
    spec = data.get("tokenizer")
    if spec is None:
        return CharTokenizer(PAPER_VOCABULARY)
    try:
        return tokenizer_from_dict(spec)
    except ValueError as error:
        raise CheckpointError(f"checkpoint {str(path)!r}: bad tokenizer: {error}") from None


def load_model(path: str | Path) -> tuple[GPT, Tokenizer, dict[str, Any]]:
    """The model (on the CPU, in eval mode), its tokenizer, and the checkpoint's other entries."""
    data = read_checkpoint(path)
    args = data["model_args"]
    known = {field.name for field in fields(GPTConfig)}
    if not isinstance(args, dict) or set(args) - known:
        raise CheckpointError(f"checkpoint {str(path)!r}: model_args has unknown keys {sorted(set(args) - known)}")
    config = GPTConfig(**args)
    tokenizer = tokenizer_of(data, path)
    if config.vocab_size != tokenizer.size:
        raise CheckpointError(
            f"checkpoint {str(path)!r}: the model has {config.vocab_size} output tokens but its vocabulary "
            f"has {tokenizer.size} tokens"
        )
    state = {
        key[len(COMPILED_PREFIX):] if key.startswith(COMPILED_PREFIX) else key: value
        for key, value in data["model"].items()
    }
    # nanoGPT without flash attention saved its causal mask as a buffer named attn.bias: not a weight.
    state = {key: value for key, value in state.items() if not key.endswith(".attn.bias")}
    model = GPT(config)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # tensors of the wrong shape
        raise CheckpointError(
            f"checkpoint {str(path)!r} does not match its model_args: {str(error).splitlines()[-1].strip()}"
        ) from None
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint {str(path)!r} does not match its model_args: "
            f"missing {missing[:3]}{'...' if len(missing) > 3 else ''}, "
            f"unexpected {unexpected[:3]}{'...' if len(unexpected) > 3 else ''}"
        )
    model.eval()
    return model, tokenizer, {k: v for k, v in data.items() if k not in ("model", "model_args")}


def save_checkpoint(path: str | Path, model: GPT, tokenizer: Tokenizer, **extra: Any) -> None:
    """Write a checkpoint the player loads (and nanoGPT's sample.py, which ignores ``tokenizer``)."""
    config = model.config
    data = {
        "model_args": {field.name: getattr(config, field.name) for field in fields(GPTConfig)},
        "model": model.state_dict(),
        "tokenizer": tokenizer.to_dict(),
        **extra,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    torch.save(data, temporary)
    temporary.replace(path)  # a crash while saving never leaves half a checkpoint under the real name

"""Loading and saving ChessFormer checkpoints: nanoGPT's layout, never executing code from the file.

A checkpoint is a dict with ``model_args`` (the GPTConfig fields) and
``model`` (the state dict; keys may start with ``_orig_mod.`` when saved from a
compiled model). The project's own checkpoints add ``tokenizer``; nanoGPT's
(the paper's) carry none and use the paper's 32-character vocabulary.

Every file that is not such a checkpoint (missing, empty, truncated, a text or
zip file, a bare state dict, a pickle of Python objects) is refused with one
:class:`CheckpointError` that names the file, says what it is instead and how
to get a checkpoint. torch's own explanations are never passed on: they advise
``weights_only=False``, which would let the file run code.
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch

from arena.errors import ConfigError

from .model import GPT, GPTConfig, state_shapes
from .tokenizer import PAPER_VOCABULARY, CharTokenizer, Tokenizer, tokenizer_from_dict

COMPILED_PREFIX = "_orig_mod."
#: What every refusal ends with: where a usable checkpoint comes from.
FIX = ("give the path of a checkpoint written by arena train or nanoGPT's train.py "
       "(or train one: arena train configs/train/tiny.yaml)")
#: How files start: a zip archive (torch.save's format since torch 1.6), and the
#: pickled magic number that opens torch.save's older format.
ZIP_HEADS = (b"PK\x03\x04", b"PK\x05\x06")
LEGACY_HEAD = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
PICKLE_HEAD = b"\x80"
LFS_POINTER = b"version https://git-lfs.github.com/spec/"
HEAD_BYTES = 512


class CheckpointError(ConfigError):
    """A checkpoint that cannot be used: unreadable, unsafe, or not matching its model."""


@dataclass(frozen=True)
class CheckpointShape:
    """What a checkpoint's structure says, before any weight is read."""

    config: GPTConfig
    tokenizer: Tokenizer
    state: dict[str, Any]  # the weights under the model's own names (prefix and mask buffers dropped)


def read_checkpoint(path: str | Path, *, mmap: bool = False) -> dict[str, Any]:
    """The checkpoint's dict, loaded with ``weights_only=True`` so that it cannot run code.

    With ``mmap`` the tensors are mapped, not read: checking a large checkpoint costs
    little more than reading its pickled index.
    """
    path = Path(path)
    head = _head(path)
    data = _torch_load(path, head, mmap)
    _check_layout(data, path)
    return data


def _name(path: Path) -> str:
    return repr(str(path))


def _head(path: Path) -> bytes:
    """The file's first bytes, or the reason it cannot be read at all."""
    if not path.exists():
        where = "" if path.is_absolute() else f" (relative to {os.getcwd()})"
        raise CheckpointError(f"checkpoint {_name(path)} does not exist{where}; {FIX}")
    if path.is_dir():
        raise CheckpointError(f"checkpoint {_name(path)} is a folder, not a checkpoint file; {FIX}")
    try:
        with open(path, "rb") as file:
            head = file.read(HEAD_BYTES)
    except OSError as error:
        raise CheckpointError(f"checkpoint {_name(path)} cannot be read: {error.strerror or error}") from None
    if not head:
        raise CheckpointError(f"checkpoint {_name(path)} is empty (0 bytes); {FIX}")
    return head


def _torch_load(path: Path, head: bytes, mmap: bool) -> Any:
    """``torch.load`` with ``weights_only=True``, its failures turned into what the file is instead."""
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols and storage formats: nothing the user can act on.
            warnings.simplefilter("ignore")
            # mmap needs torch.save's zip format; the older format is read whole.
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap and head.startswith(ZIP_HEADS))
    except pickle.UnpicklingError as error:
        refused = _refused_global(error)
        if refused is not None:
            raise CheckpointError(
                f"checkpoint {_name(path)} holds Python objects other than tensors and plain data "
                f"(it refers to {refused}), which arena refuses to load because loading them could run code; {FIX}"
            ) from None
        raise CheckpointError(f"checkpoint {_name(path)} {_what_instead(path, head)}; {FIX}") from None
    except Exception:  # noqa: BLE001 - on a damaged or foreign file torch fails with whatever its parser hit
        # (KeyError, EOFError, IndexError, RuntimeError from miniz...): the file's bytes say more than that.
        raise CheckpointError(f"checkpoint {_name(path)} {_what_instead(path, head)}; {FIX}") from None


def _refused_global(error: pickle.UnpicklingError) -> str | None:
    """The Python object (``posix.system``, a pickled module class) torch's safe loader refused, if any."""
    found = re.search(r"GLOBAL ([\w.]+)", str(error))
    return found.group(1) if found else None


def _what_instead(path: Path, head: bytes) -> str:
    """What a file torch could not load is, from its bytes (the end of 'checkpoint X ...')."""
    if head.startswith(ZIP_HEADS):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return "is truncated or damaged: its zip archive is incomplete (was it copied or downloaded completely?)"
        if not any(name.endswith("/data.pkl") for name in names):
            return "is a zip archive but not a PyTorch file (it has no data.pkl)"
        return "is a damaged PyTorch file: torch cannot read it (was it copied or downloaded completely?)"
    if head.startswith(LEGACY_HEAD):
        return "is a truncated or damaged PyTorch file (in torch.save's old format)"
    if head.startswith(PICKLE_HEAD):
        return ("is a Python pickle, not a PyTorch checkpoint; arena does not unpickle it, "
                "because a pickle can run code")
    if head.startswith(LFS_POINTER):
        return "is a Git LFS pointer, not the checkpoint itself (fetch the file with 'git lfs pull')"
    text = _as_text(head)
    if text is not None:
        first = text.strip().splitlines()[0][:40] if text.strip() else ""
        return f"is a text file (it begins {first!r}), not a PyTorch checkpoint"
    return f"is not a PyTorch file (it begins with the bytes {head[:8].hex(' ')})"


def _as_text(head: bytes) -> str | None:
    """The bytes as text when they look like text (UTF-8, no NUL), else None."""
    if b"\0" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The head may end in the middle of a character.
        return head[: error.start].decode("utf-8") if error.start > len(head) - 4 else None


def _check_layout(data: Any, path: Path) -> None:
    """A dict with ``model_args`` and ``model``, else what the torch file holds instead."""
    if isinstance(data, dict) and "model_args" in data and "model" in data:
        return
    if isinstance(data, dict) and data and all(isinstance(value, torch.Tensor) for value in data.values()):
        found = "bare weights (a state dict) without 'model_args'"
    elif isinstance(data, dict):
        keys = ", ".join(repr(key) for key in list(data)[:5]) + (", ..." if len(data) > 5 else "")
        found = f"a dict with the keys {keys}" if data else "an empty dict"
    else:
        found = f"a {type(data).__name__}"
    raise CheckpointError(
        f"checkpoint {_name(path)} is a PyTorch file but not an arena or nanoGPT checkpoint: it holds {found}, "
        f"not a dict with 'model_args' and 'model'; {FIX}"
    )


def tokenizer_of(data: dict[str, Any], path: str | Path) -> Tokenizer:
    """The checkpoint's tokenizer, or the paper's vocabulary when it carries none."""
    spec = data.get("tokenizer")
    if spec is None:
        return CharTokenizer(PAPER_VOCABULARY)
    try:
        return tokenizer_from_dict(spec)
    except ValueError as error:
        raise CheckpointError(f"checkpoint {str(path)!r}: bad tokenizer: {error}") from None


def checkpoint_shape(data: dict[str, Any], path: str | Path) -> CheckpointShape:
    """The model shape, tokenizer and weights a checkpoint's dict describes, all checked against each other.

    Only the tensors' shapes are compared, so this reads no weight (of a memory-mapped checkpoint).
    """
    config = _config(data["model_args"], path)
    tokenizer = tokenizer_of(data, path)
    if config.vocab_size != tokenizer.size:
        raise CheckpointError(
            f"checkpoint {str(path)!r}: the model has {config.vocab_size} output tokens but its vocabulary "
            f"has {tokenizer.size} tokens"
        )
    state = _weights(data["model"], path)
    expected = state_shapes(config)
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    if missing or unexpected:
        listed = [f"{label} {keys[:3]}{'...' if len(keys) > 3 else ''}"
                  for label, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
        raise CheckpointError(f"checkpoint {str(path)!r} does not match its model_args: {', '.join(listed)}")
    for key, shape in expected.items():
        if tuple(state[key].shape) != shape:
            raise CheckpointError(
                f"checkpoint {str(path)!r} does not match its model_args: {key} has the shape "
                f"{tuple(state[key].shape)}, its model_args make it {shape}"
            )
    return CheckpointShape(config, tokenizer, state)


def _config(args: Any, path: str | Path) -> GPTConfig:
    """``model_args`` as a GPTConfig, each field of the type the model needs."""
    known = {field.name: field.type for field in fields(GPTConfig)}
    if not isinstance(args, dict):
        raise CheckpointError(f"checkpoint {str(path)!r}: model_args is a {type(args).__name__}, not a dict")
    unknown = sorted(set(map(str, args)) - set(known))
    if unknown:
        raise CheckpointError(f"checkpoint {str(path)!r}: model_args has unknown keys {unknown}")
    for key, value in args.items():
        kind = known[key]
        fits = (isinstance(value, bool) if kind == "bool"
                else isinstance(value, (int, float)) and not isinstance(value, bool) if kind == "float"
                else isinstance(value, int) and not isinstance(value, bool) and value >= 1)
        if not fits:
            wanted = {"bool": "true or false", "float": "a number"}.get(kind, "a whole number >= 1")
            raise CheckpointError(f"checkpoint {str(path)!r}: model_args {key}={value!r} must be {wanted}")
    config = GPTConfig(**args)
    if config.n_embd % config.n_head:
        raise CheckpointError(
            f"checkpoint {str(path)!r}: model_args n_embd={config.n_embd} is not a multiple of n_head={config.n_head}"
        )
    return config


def _weights(model: Any, path: str | Path) -> dict[str, Any]:
    """The state dict under the model's own names: compiled models' prefix and nanoGPT's mask buffers dropped."""
    if not isinstance(model, dict) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in model.items()
    ):
        raise CheckpointError(f"checkpoint {str(path)!r}: 'model' is not a state dict (a dict of tensors)")
    state = {
        key[len(COMPILED_PREFIX):] if key.startswith(COMPILED_PREFIX) else key: value
        for key, value in model.items()
    }
    # nanoGPT without flash attention saved its causal mask as a buffer named attn.bias: not a weight.
    return {key: value for key, value in state.items() if not key.endswith(".attn.bias")}


#: Checkpoints found usable, by (real path, modification time, size): a league builds one player
#: per swept option, and each worker builds them again.
_checked: set[tuple[str, int, int]] = set()


def check_checkpoint(path: str | Path) -> None:
    """Raise :class:`CheckpointError` unless ``path`` is a checkpoint :func:`load_model` can load.

    Cheap: the tensors are memory-mapped and never read, and a file already checked
    (same path, modification time and size) is not opened again.
    """
    path = Path(path)
    try:
        status = path.stat()
        key = (os.path.realpath(path), status.st_mtime_ns, status.st_size)
    except OSError:
        key = None  # read_checkpoint says what is wrong
    if key is not None and key in _checked:
        return
    checkpoint_shape(read_checkpoint(path, mmap=True), path)
    if key is not None:
        _checked.add(key)


def load_model(path: str | Path) -> tuple[GPT, Tokenizer, dict[str, Any]]:
    """The model (on the CPU, in eval mode), its tokenizer, and the checkpoint's other entries."""
    data = read_checkpoint(path)
    shape = checkpoint_shape(data, path)
    model = GPT(shape.config)
    try:
        model.load_state_dict(shape.state, strict=True)
    except RuntimeError as error:  # checked above; should the check miss a case, still no traceback
        reason = (str(error).strip().splitlines() or ["its weights do not fit the model"])[-1].strip()
        raise CheckpointError(f"checkpoint {str(path)!r} does not match its model_args: {reason}") from None
    model.eval()
    return model, shape.tokenizer, {k: v for k, v in data.items() if k not in ("model", "model_args")}


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

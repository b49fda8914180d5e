"""Training files (``arena train FILE.yaml``): read, check, and fill in defaults.

::

    name: tiny                      # default: the file name
    out: ../results/train/tiny      # checkpoints, data shards, log (default results/train/NAME)
    seed: 1
    trainer: chessformer            # a registered trainer
    data:
      sources:                      # PGN files (.pgn, .pgn.gz, .pgn.zst) and arena run folders
        - path: lichess_db_standard_rated_2023-01.pgn.zst
        - run: ../results/experts   # ratings from its standings.json, or give ratings: {name: 1400}
      filters: {max_rating: 1500, min_rating: null, speeds: [blitz, rapid], min_moves: 10}
      validation: 0.05
      tokenizer: char               # char (the paper's SAN characters) | move (one token per UCI move)
    model:
      size: tiny                    # tiny | small | paper-50m | paper-302m | paper-707m
      block_size: 256               # any GPTConfig field overrides the size's
    train:
      max_steps: 2000
      batch_size: 32
      grad_accum: 1
      learning_rate: 3.0e-4
      min_lr: 3.0e-5
      warmup_steps: 100
      weight_decay: 0.1
      betas: [0.9, 0.95]
      grad_clip: 1.0
      eval_interval: 200            # steps between validation losses
      eval_batches: 10
      checkpoint_interval: 500
      device: auto                  # auto | cpu | cuda | cuda:N; bf16 autocast on CUDA
      compile: false
    evaluate:                       # optional: a short match at every checkpoint
      opponents: [random, "stockfish:skill=0,nodes=200"]   # specs, or player files
      games: 4
      temperature: 0.1
      decoding: sample

Relative paths (``out``, the sources, player files among the opponents and
their path options) are relative to the training file's folder; without
``out`` it writes results/train/NAME in the current directory, and ``--out``
is relative to the current directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from arena.errors import ConfigError
from arena.options import Wording, validate_keys
from arena.yaml_checks import Base, key_error, mapping, read_yaml, seed as check_seed
from arena_plugins.transformer.tokenizer import TOKENIZERS

from .data import SPEEDS, Filters

SIZES: dict[str, dict[str, Any]] = {
    "tiny": dict(n_layer=4, n_head=4, n_embd=128, block_size=256),  # ~0.8M parameters: CPU studies
    "small": dict(n_layer=6, n_head=6, n_embd=192, block_size=512),  # ~2.7M
    "paper-50m": dict(n_layer=16, n_head=8, n_embd=512, block_size=1023),
    "paper-302m": dict(n_layer=24, n_head=16, n_embd=1024, block_size=1023),
    "paper-707m": dict(n_layer=36, n_head=20, n_embd=1280, block_size=1023),
}
MODEL_KEYS = {"size", "n_layer", "n_head", "n_embd", "block_size", "dropout", "bias"}
DATA_KEYS = {"sources", "filters", "validation", "tokenizer"}
FILTER_KEYS = {f.name for f in fields(Filters)}
EVALUATE_KEYS = {"opponents", "games", "temperature", "decoding"}


Count = Annotated[int, Field(ge=1)]
#: A rate or a coefficient: written 3e-4 or 0.0003 (quoted, '3e-4' is text).
Rate = Annotated[float, Field(ge=0), Wording("a number >= 0, without quotes, e.g. 3e-4")]


@dataclass
class TrainSettings:
    """The ``train:`` section: optimizer and loop settings (the paper's recipe where it applies), checked by type."""

    max_steps: Count = 2000
    batch_size: Count = 32
    grad_accum: Count = 1
    learning_rate: Rate = 3e-4
    min_lr: Rate = 3e-5
    warmup_steps: Annotated[int, Field(ge=0)] = 100
    weight_decay: Rate = 0.1
    betas: Annotated[tuple[float, float], Wording("two numbers, e.g. [0.9, 0.95]")] = (0.9, 0.95)
    grad_clip: Rate = 1.0
    eval_interval: Count = 200
    eval_batches: Count = 10
    checkpoint_interval: Count = 500
    device: str = "auto"
    compile: bool = False


@dataclass
class TrainingConfig:
    """A whole training file, checked."""

    name: str
    source: str
    out: Path
    seed: int
    trainer: str
    sources: list[dict[str, Any]]
    filters: Filters
    validation: float
    tokenizer: str
    model: dict[str, Any]
    train: TrainSettings
    evaluate: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def load_training(path: str | Path, out: str | Path | None = None) -> TrainingConfig:
    """Read and check a training file; ``out`` overrides its output folder."""
    path = Path(path)
    raw, _ = read_yaml(path, "training file")
    return training_from_mapping(raw, str(path), Base.of_file(path, "training file"), out, default_name=path.stem)


def training_from_mapping(
    raw: Any, source: str, base: Base | Path, out: str | Path | None = None, default_name: str = "model"
) -> TrainingConfig:
    """Check a training file's content (or a study's ``train:`` section); paths in it are relative to ``base``."""
    base = Base.coerce(base)
    top = {"name", "out", "seed", "trainer", "data", "model", "train", "evaluate"}
    raw = mapping(source, "", raw, top)
    name = str(raw.get("name") or default_name)

    data = mapping(source, "data", raw.get("data"), DATA_KEYS)
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources:
        raise key_error(source, "data.sources", "give a list of {path: FILE.pgn} or {run: RUN_FOLDER} entries")
    checked_sources = []
    for index, item in enumerate(sources):
        key = f"data.sources[{index}]"
        if not isinstance(item, dict) or len({"path", "run"} & set(item)) != 1:
            raise key_error(source, key, "needs exactly one of 'path' (a PGN file) or 'run' (a run folder)")
        mapping(source, key, item, {"path", "run", "ratings"})
        entry = dict(item)
        for where in ("path", "run"):
            if where in entry:
                entry[where] = str(base.path(str(entry[where])))
        checked_sources.append(entry)
    filters_raw = mapping(source, "data.filters", data.get("filters"), FILTER_KEYS)
    speeds = filters_raw.get("speeds") or []
    speeds = [speeds] if isinstance(speeds, str) else speeds
    filters = Filters(**validate_keys(Filters, {**filters_raw, "speeds": speeds}, source, "data.filters"))
    unknown = sorted(set(filters.speeds) - {name for name, _ in SPEEDS})
    if unknown:
        raise key_error(source, "data.filters.speeds", f"{unknown[0]!r} is not one of {', '.join(n for n, _ in SPEEDS)}")
    validation = data.get("validation", 0.05)
    if not isinstance(validation, (int, float)) or not 0 < validation < 1:
        raise key_error(source, "data.validation", f"{validation!r} must be a fraction between 0 and 1")

    tokenizer = data.get("tokenizer", "char")
    if tokenizer not in TOKENIZERS:
        raise key_error(source, "data.tokenizer", f"{tokenizer!r} is not one of {', '.join(TOKENIZERS)}")

    model = mapping(source, "model", raw.get("model"), MODEL_KEYS)
    size = model.get("size", "tiny")
    if size not in SIZES:
        raise key_error(source, "model.size", f"{size!r} is not one of {', '.join(SIZES)}")
    shape = {**SIZES[size], **{k: v for k, v in model.items() if k != "size"}}
    if shape["n_embd"] % shape["n_head"]:
        raise key_error(source, "model", f"n_embd {shape['n_embd']} is not a multiple of n_head {shape['n_head']}")

    train_raw = mapping(source, "train", raw.get("train"), {f.name for f in fields(TrainSettings)})
    train = TrainSettings(**validate_keys(TrainSettings, train_raw, source, "train"))
    evaluate = raw.get("evaluate")
    if evaluate is not None:
        evaluate = mapping(source, "evaluate", evaluate, EVALUATE_KEYS)
        if not evaluate.get("opponents"):
            raise key_error(source, "evaluate.opponents", "list at least one player spec, e.g. random")
        evaluate = {**evaluate, "opponents": _opponents(source, evaluate["opponents"], base)}
    seed = check_seed(source, raw.get("seed", 1))
    _check_files(source, checked_sources, sources, base)
    written = raw.get("out")
    return TrainingConfig(
        name=name,
        source=source,
        # --out is relative to the current directory, out: to the file, the default to the current directory.
        out=Path(out) if out else base.path(str(written)) if written else Path("results") / "train" / name,
        seed=seed,
        trainer=str(raw.get("trainer", "chessformer")),
        sources=checked_sources,
        filters=filters,
        validation=float(validation),
        tokenizer=tokenizer,
        model=shape,
        train=train,
        evaluate=evaluate,
        raw=raw,
    )


def _opponents(source: str, opponents: Any, base: Base) -> list[str]:
    """The evaluation's opponents as specs that mean the same from any current directory.

    Each is a spec (``stockfish:skill=0``) or a player file; their relative
    paths are relative to the training file, so they are made absolute here.
    """
    from arena.plugins import load_plugins
    from arena.spec import format_options, is_player_file, load_player_file, parse_player_spec, resolve_spec

    if not isinstance(opponents, list):
        opponents = [opponents]
    plugins = None
    texts = []
    for index, item in enumerate(opponents):
        key = f"evaluate.opponents[{index}]"
        if not isinstance(item, str):
            raise key_error(source, key, f"{item!r} must be a player spec such as 'random', or a player file")
        try:
            if is_player_file(item, base):
                load_player_file(item, base)  # missing or broken: say so now
                texts.append(str(base.path(item)))  # its own paths are relative to its own folder
                continue
            spec = parse_player_spec(item, base)
            plugins = plugins or load_plugins()  # which options are paths: the player types declare it
            resolved = resolve_spec(spec, plugins)
        except ConfigError as error:
            raise key_error(source, key, str(error)) from None
        if resolved.options == spec.options:
            texts.append(item)
        else:
            options = {**resolved.options, **({"name": spec.name} if spec.name is not None else {})}
            texts.append(spec.type + ":" + format_options(options))
    return texts


def _check_files(source: str, checked: list[dict[str, Any]], written: list[dict[str, Any]], base: Base) -> None:
    """PGN sources must exist now, not after the model is set up; the message says where they were looked for.

    Run folders are checked when the data is read: a study's default source
    is its expert league, which has not played yet when the file is checked.
    """
    for index, (entry, item) in enumerate(zip(checked, written)):
        if "path" in entry and not Path(entry["path"]).is_file():
            raise key_error(source, f"data.sources[{index}].path", base.missing(item["path"], Path(entry["path"])))

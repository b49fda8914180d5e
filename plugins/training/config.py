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

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from arena.errors import ConfigError
from arena.options import Wording, read_keys
from arena.yaml_checks import Base, key_error, listed, read_yaml
from arena_plugins.transformer.tokenizer import TOKENIZERS

from .data import SPEEDS, Filters

SIZES: dict[str, dict[str, Any]] = {
    "tiny": dict(n_layer=4, n_head=4, n_embd=128, block_size=256),  # ~0.8M parameters: CPU studies
    "small": dict(n_layer=6, n_head=6, n_embd=192, block_size=512),  # ~2.7M
    "paper-50m": dict(n_layer=16, n_head=8, n_embd=512, block_size=1023),
    "paper-302m": dict(n_layer=24, n_head=16, n_embd=1024, block_size=1023),
    "paper-707m": dict(n_layer=36, n_head=20, n_embd=1280, block_size=1023),
}

Count = Annotated[int, Field(ge=1)]
#: A rate or a coefficient: written 3e-4 or 0.0003 (quoted, '3e-4' is text).
Rate = Annotated[float, Field(ge=0), Wording("a number >= 0, without quotes, e.g. 3e-4")]
# The choices are the registries' names, so that a size or tokenizer added there is accepted here.
SizeName = Literal[tuple(SIZES)]  # type: ignore[valid-type]
TokenizerName = Literal[tuple(TOKENIZERS)]  # type: ignore[valid-type]
SpeedName = Literal[tuple(name for name, _ in SPEEDS)]  # type: ignore[valid-type]


@dataclass(frozen=True)
class TrainingKeys:
    """A training file's top-level keys, as written; its sections are read by their own classes."""

    name: str | None = None  #: default: the file name
    #: checkpoints, data shards, log; relative to the file (default results/train/NAME, relative to the cwd)
    out: str | None = None
    seed: int = 1
    trainer: str = "chessformer"  #: a registered trainer (the train command looks it up)
    data: Any = None  #: :class:`DataKeys`
    model: Any = None  #: :class:`ModelKeys`
    train: Any = None  #: :class:`TrainSettings`
    evaluate: Any = None  #: :class:`EvaluateKeys`; none: no evaluation matches


@dataclass(frozen=True)
class DataKeys:
    """The ``data:`` section."""

    sources: Any = None  #: a non-empty list of :class:`SourceKeys`, checked entry by entry
    filters: Any = None  #: :class:`FilterKeys`
    #: the share of games held out for the validation loss
    validation: Annotated[float, Field(gt=0, lt=1), Wording("a fraction between 0 and 1")] = 0.05
    tokenizer: TokenizerName = "char"  #: char (the paper's SAN characters) or move (one token per UCI move)


Ratings = Annotated[dict[str, float], Wording("a mapping of player names to ratings, e.g. {careful: 1400}")]


@dataclass(frozen=True)
class SourceKeys:
    """One ``data.sources`` entry: a PGN file or an arena run folder (exactly one of the two)."""

    path: Annotated[str, Wording("the path of a PGN file")] | None = None
    run: Annotated[str, Wording("the path of a run folder")] | None = None
    #: a run's players' ratings (default: its standings.json)
    ratings: Ratings | None = None


@dataclass(frozen=True)
class FilterKeys(Filters):
    """The ``data.filters:`` section: :class:`Filters`, its speeds Lichess's classes (one may be written alone)."""

    # Filters declares the other keys; only speeds needs more than its type says.
    speeds: Annotated[
        tuple[SpeedName, ...], BeforeValidator(listed),
        Wording(f"a list of speed classes from {', '.join(name for name, _ in SPEEDS)}"),
    ] = ()


@dataclass(frozen=True)
class ModelKeys:
    """The ``model:`` section: a size, and any of its shape's fields given over it."""

    size: SizeName = "tiny"
    n_layer: Count | None = None
    n_head: Count | None = None
    n_embd: Count | None = None
    block_size: Count | None = None
    dropout: Annotated[float, Field(ge=0, lt=1)] | None = None
    bias: bool | None = None

    def shape(self) -> dict[str, Any]:
        """The model's GPTConfig fields: the size's, with those given here over them."""
        given = {key: value for key, value in asdict(self).items() if key != "size" and value is not None}
        return {**SIZES[self.size], **given}


@dataclass(frozen=True)
class EvaluateKeys:
    """The ``evaluate:`` section: a short match against each opponent at every checkpoint."""

    opponents: Annotated[
        tuple[str, ...], BeforeValidator(listed), Field(min_length=1),
        Wording("a list of at least one player spec or player file, e.g. [random, 'stockfish:skill=0']"),
    ]
    games: Count = 4  #: per opponent
    temperature: Annotated[float, Field(ge=0)] = 0.1  #: the model's sampling temperature
    decoding: Literal["sample", "legal"] = "sample"  #: as the transformer player's option


@dataclass(frozen=True)
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
    keys = read_keys(TrainingKeys, raw, source, "")
    data = read_keys(DataKeys, keys.data, source, "data")
    sources = _sources(source, data.sources, base)
    filters = Filters(**asdict(read_keys(FilterKeys, data.filters, source, "data.filters")))
    model = read_keys(ModelKeys, keys.model, source, "model").shape()
    if model["n_embd"] % model["n_head"]:
        raise key_error(source, "model",
                        f"n_embd {model['n_embd']} is not a multiple of n_head {model['n_head']}")
    train = read_keys(TrainSettings, keys.train, source, "train")
    evaluate = None
    if keys.evaluate is not None:
        settings = read_keys(EvaluateKeys, keys.evaluate, source, "evaluate")
        # A mapping, as the trainer reads it, with the defaults filled in.
        evaluate = {**asdict(settings), "opponents": _opponents(source, settings.opponents, base)}
    _check_files(source, sources, data.sources, base)
    name = keys.name or default_name
    return TrainingConfig(
        name=name,
        source=source,
        # --out is relative to the current directory, out: to the file, the default to the current directory.
        out=Path(out) if out else base.path(keys.out) if keys.out else Path("results") / "train" / name,
        seed=keys.seed,
        trainer=keys.trainer,
        sources=sources,
        filters=filters,
        validation=data.validation,
        tokenizer=data.tokenizer,
        model=model,
        train=train,
        evaluate=evaluate,
        raw=raw or {},
    )


def _sources(source: str, written: Any, base: Base) -> list[dict[str, Any]]:
    """The ``data.sources`` entries as mappings, their paths absolute (relative ones read from ``base``)."""
    if not isinstance(written, list) or not written:
        raise key_error(source, "data.sources",
                        "give a list of {path: FILE.pgn} or {run: RUN_FOLDER} entries")
    entries = []
    for index, item in enumerate(written):
        key = f"data.sources[{index}]"
        entry = read_keys(SourceKeys, item, source, key)
        if (entry.path is None) == (entry.run is None):
            raise key_error(source, key, "needs exactly one of 'path' (a PGN file) or 'run' (a run folder)")
        given = {name: value for name, value in asdict(entry).items() if value is not None}
        entries.append({name: str(base.path(value)) if name in ("path", "run") else value
                        for name, value in given.items()})
    return entries


def _opponents(source: str, opponents: tuple[str, ...], base: Base) -> list[str]:
    """The evaluation's opponents as specs that mean the same from any current directory.

    Each is a spec (``stockfish:skill=0``) or a player file; their relative
    paths are relative to the training file, so they are made absolute here.
    """
    from arena.plugins import load_plugins
    from arena.spec import format_options, is_player_file, load_player_file, parse_player_spec, resolve_spec

    plugins = None
    texts = []
    for index, item in enumerate(opponents):
        key = f"evaluate.opponents[{index}]"
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

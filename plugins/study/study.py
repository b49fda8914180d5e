"""Study files (``arena study FILE.yaml``): an expert league, a model trained on its games, an evaluation league.

::

    name: transcendence
    seed: 1
    out: ../results/transcendence     # experts/, model/, evaluation/ and the report (relative to this file)
    experts:                          # stage 1: a league (a league file's keys but name and out)
      players: [...]
      schedule: {type: round_robin, games: 400}
    train:                            # stage 2: a training file's keys but name and out
      data:                           # sources default to the experts' games, rated by the expert league
        filters: {max_rating: 1600}   # the rating cap: games of experts rated above it are left out
      model: {size: tiny}
      train: {max_steps: 1000}
    evaluate:                         # stage 3: a league; the experts join it as they are,
      players:                        # and transformer players without a checkpoint play the trained model
        - type: transformer
          name: model
          temperature: [0.001, 0.1, 1.0]
        - type: random
      schedule: {type: gauntlet, challengers: ["model@*"], games: 20}

Stage 4, the report, rates the evaluation games and compares the model at
each temperature with the best expert whose games it was trained on.

Relative paths in the file (``out`` and those in its sections) are relative
to the study file's folder; without ``out``, the study writes results/NAME in
the current directory, and ``--out`` is relative to the current directory.
"""

from __future__ import annotations

import copy
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.league.config import League, league_from_mapping
from arena.options import read_keys
from arena.plugins import Plugins
from arena.yaml_checks import Base, key_error, read_yaml

STAGES = ("experts", "train", "evaluate", "report")
#: Keys the study sets in every section itself.
RESERVED_KEYS = {"name", "out"}


@dataclass(frozen=True)
class StudyKeys:
    """A study file's top-level keys, as written; its sections are read by their stages (leagues, a training file)."""

    name: str | None = None  #: default: the file name
    seed: int = 1  #: seeds the experts' league and the training; the evaluation league plays with seed + 1
    #: relative to the study file (default results/NAME, relative to the current directory)
    out: str | None = None
    experts: Any = None  #: a league file's keys but name and out
    train: Any = None  #: a training file's keys but name and out
    evaluate: Any = None  #: a league file's keys but name and out; the experts join its players


@dataclass
class Study:
    """A checked study file."""

    name: str
    source: str
    base: Path  #: relative paths in the sections are relative to the study file
    seed: int
    out: Path
    experts: dict[str, Any]
    train: dict[str, Any]
    evaluate: dict[str, Any]
    text: str

    @property
    def experts_folder(self) -> Path:
        return self.out / "experts"

    @property
    def model_folder(self) -> Path:
        return self.out / "model"

    @property
    def evaluation_folder(self) -> Path:
        return self.out / "evaluation"

    def section(self, key: str) -> str:
        """How errors name a section: ``FILE (experts)``."""
        return f"{self.source} ({key})"

    @property
    def paths(self) -> Base:
        """What the relative paths of its sections are relative to: the study file's folder."""
        return Base(self.base, "the study file's folder")


def load_study(path: str | Path, out: str | Path | None = None) -> Study:
    """Read a study file and check its shape; each section is checked fully when its stage is built."""
    path = Path(path)
    source = str(path)
    data, text = read_yaml(path, "study file")
    keys = read_keys(StudyKeys, data, source, "")
    sections = {}
    for key in ("experts", "train", "evaluate"):
        section = getattr(keys, key)
        if not isinstance(section, dict) or not section:
            raise key_error(source, key, f"the study needs a '{key}:' section (a mapping); see arena study --help")
        reserved = sorted(RESERVED_KEYS & set(section))
        if reserved:
            raise key_error(source, f"{key}.{reserved[0]}", "is set by the study (from its name and out); remove it")
        sections[key] = section
    name = keys.name or path.stem
    base = Base.of_file(path, "study file")
    return Study(
        name=name,
        source=source,
        base=base.folder,
        seed=keys.seed,
        # --out is relative to the current directory, out: to the file; the default results/NAME to the current directory.
        out=Path(out) if out else base.path(keys.out) if keys.out else Path("results") / name,
        text=text,
        **sections,
    )


def experts_league(study: Study, plugins: Plugins) -> League:
    """Stage 1's league: the experts play the data games."""
    data = {"seed": study.seed, **study.experts, "name": f"{study.name}-experts"}
    return league_from_mapping(data, study.section("experts"), study.paths, plugins, study.experts_folder)


def training_config(study: Study) -> Any:
    """Stage 2's training config; its data defaults to the experts' games."""
    from arena_plugins.training.config import training_from_mapping

    raw = copy.deepcopy(study.train)
    raw.setdefault("seed", study.seed)
    data = raw.setdefault("data", {})
    if isinstance(data, dict):
        data.setdefault("sources", [{"run": str(study.experts_folder.resolve())}])
    return training_from_mapping(raw, study.section("train"), study.paths, study.model_folder, f"{study.name}-model")


def model_checkpoint(config: Any) -> Path:
    """Where stage 2 (trained with ``config``) leaves the model: the finished run's weights."""
    from arena_plugins.training.trainer import MODEL

    return config.out / MODEL


def is_model_entry(entry: Any) -> bool:
    """A transformer entry of the evaluation league without its own checkpoint: it plays the trained model."""
    return isinstance(entry, dict) and entry.get("type") == "transformer" and "checkpoint" not in entry


def evaluation_league(study: Study, plugins: Plugins, config: Any) -> League:
    """Stage 3's league: the evaluation's own players, the model trained with ``config``, and the experts.

    Before the model exists, a randomly initialised one stands in, so that
    the section is checked completely before hours are spent on it.
    """
    players = study.evaluate.get("players")
    if not isinstance(players, list):
        raise key_error(study.section("evaluate"), "players", "must be a list of players; the experts join it")
    if not any(is_model_entry(entry) for entry in players):
        raise key_error(
            study.section("evaluate"), "players",
            "has no trained model: add a 'type: transformer' entry without a checkpoint (e.g. with temperature: [...])",
        )
    # Absolute: the league reads relative paths against the study file's folder, not the current directory.
    checkpoint = Path(os.path.abspath(model_checkpoint(config)))
    with tempfile.TemporaryDirectory(prefix="arena-study-") as scratch:
        if not checkpoint.exists():
            checkpoint = _stand_in_checkpoint(config, Path(scratch) / "not-trained-yet.pt")
        expert_entries = copy.deepcopy(study.experts.get("players") or [])
        # The section's own players first, so that error messages count its entries as the file does.
        entries = [
            {**entry, "checkpoint": str(checkpoint)} if is_model_entry(entry) else entry for entry in players
        ] + expert_entries
        data = {
            "seed": study.seed + 1,  # other openings than the training games
            **study.evaluate,
            "players": entries,
            "name": f"{study.name}-evaluation",
        }
        return league_from_mapping(data, study.section("evaluate"), study.paths, plugins, study.evaluation_folder)


def _stand_in_checkpoint(config: Any, path: Path) -> Path:
    from arena_plugins.transformer.checkpoint import save_checkpoint
    from arena_plugins.transformer.model import GPT, GPTConfig
    from arena_plugins.transformer.tokenizer import TOKENIZERS

    tokenizer = TOKENIZERS[config.tokenizer]()
    shape = {**config.model, "n_layer": 1, "n_embd": 8, "n_head": 1}  # only its names are used
    save_checkpoint(path, GPT(GPTConfig(vocab_size=tokenizer.size, **shape)), tokenizer)
    return path


def cap_note(ratings: dict[str, float], cap: float) -> str:
    """Which experts the rating cap leaves out of the training data, or a warning that it leaves out none."""
    above = [f"{name} ({rating:.0f})" for name, rating in ratings.items() if rating > cap]
    if above:
        return f"the rating cap {cap:g} leaves out the games of {', '.join(above)}"
    top = max(ratings.items(), key=lambda item: item[1], default=None)
    highest = f" (the highest is {top[0]}, {top[1]:.0f})" if top else ""
    return (f"warning: the rating cap {cap:g} is above every expert's rating in their league{highest}, "
            f"so it leaves out no games; lower train.data.filters.max_rating to cap the data")


def model_players(league: League, checkpoint: Path) -> list[str]:
    """Names of the evaluation league's players that play the study's model."""
    wanted = os.path.abspath(checkpoint)  # as evaluation_league wrote it
    return [spec.name or "" for spec in league.players if spec.options.get("checkpoint") == wanted]

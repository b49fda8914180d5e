"""Shared fixtures: the real plugins, real engines, and a way to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arena import load_plugins
from arena.plugins import Plugins

TESTS = Path(__file__).parent
ROOT = TESTS.parent
FAKE_ENGINE = TESTS / "fake_engines" / "faulty_uci.py"


@pytest.fixture(scope="session")
def plugins() -> Plugins:
    return load_plugins()


def fake_engine(tmp_path: Path, *args: str) -> str:
    """An executable that starts the faulty UCI engine with ``args`` (a UCI command takes no arguments)."""
    script = tmp_path / f"faulty-{'-'.join(args).replace('/', '_')}"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} {FAKE_ENGINE} {' '.join(args)}\n")
    script.chmod(0o755)
    return str(script)


def two_engine_league_file(tmp_path: Path, engine: str, max_moves: int = 2, concurrency: int = 1,
                           games_in_flight: int = 1) -> Path:
    """A league file of 2 games from the start position between UCI players a and b on ``engine``."""
    league = tmp_path / "league.yaml"
    league.write_text(f"""
seed: 1
players:
  - {{type: uci, name: a, command: {engine}, nodes: 1}}
  - {{type: uci, name: b, command: {engine}, nodes: 1}}
schedule: {{games: 2}}
openings: {{type: none}}
rules: {{max_moves: {max_moves}}}
concurrency: {concurrency}
games_in_flight: {games_in_flight}
""")
    return league


def run_arena(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``arena`` command as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "arena", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=600,
    )


def league_process(path: Path, out: Path, *extra: str) -> subprocess.Popen:
    """``arena league PATH --out OUT --quiet EXTRA...`` as a process of its own (to be killed)."""
    return subprocess.Popen(
        [sys.executable, "-m", "arena", "league", str(path), "--out", str(out), "--quiet", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_games(jsonl: Path, count: int, process: subprocess.Popen) -> None:
    """Wait until ``jsonl`` holds ``count`` games, failing if the process ends first or two minutes pass."""
    deadline = time.time() + 120
    while time.time() < deadline:
        if jsonl.exists() and len(jsonl.read_text().splitlines()) >= count:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the league made no progress")


def batch_recorder_league(tmp_path: Path, extra: str = "") -> tuple[Path, Path]:
    """A league of 12 short games of the batch recorder (it logs each batch's size) against random, 6 in flight.

    Returns the league file and the log; ``extra`` is more of the file (``executor: ray``).
    """
    log = tmp_path / "batches.log"
    path = tmp_path / "batches.yaml"
    path.write_text(f"""
plugins: [{TESTS / 'local_plugins' / 'batch_recorder.py'}]
games_in_flight: 6
players:
  - type: batch_recorder
    log: {log}
  - type: random
schedule: {{games: 12}}
rules: {{max_moves: 30}}
{extra}""")
    return path, log


def batch_sizes(log: Path) -> list[int]:
    """The batch sizes the batch recorder logged."""
    return [int(line) for line in log.read_text().split()]

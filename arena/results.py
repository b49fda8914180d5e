"""The results store of a run folder: games.jsonl (the source of truth) and games.pgn.

Each finished game is appended and flushed to disk at once, so killing a run
loses at most the games still being played.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

from arena.errors import ResultsError
from arena.record import GameRecord

JSONL_NAME = "games.jsonl"
PGN_NAME = "games.pgn"


class ResultsWriter:
    """Appends finished games to ``DIR/games.jsonl`` and ``DIR/games.pgn``."""

    def __init__(self, folder: str | Path, *, overwrite: bool = False):
        self.folder = Path(folder)
        jsonl = self.folder / JSONL_NAME
        if jsonl.exists() and jsonl.stat().st_size and not overwrite:
            raise ResultsError(
                f"{jsonl} already holds games; choose another --out folder or pass --force to replace them"
            )
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            mode = "w" if overwrite else "a"
            self._jsonl = open(jsonl, mode, encoding="utf-8")
            self._pgn = open(self.folder / PGN_NAME, mode, encoding="utf-8")
        except OSError as error:
            raise ResultsError(f"cannot write results to {self.folder}: {error.strerror}") from None

    def write(self, record: GameRecord) -> None:
        """Append one game to both files and push it to disk."""
        print(record.to_pgn(), file=self._pgn, end="\n\n")
        self._jsonl.write(json.dumps(record.to_dict(), separators=(",", ":")) + "\n")
        for handle in (self._pgn, self._jsonl):
            handle.flush()
            os.fsync(handle.fileno())

    def close(self) -> None:
        """Close both files."""
        self._jsonl.close()
        self._pgn.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: str | Path) -> Iterator[GameRecord]:
    """Read the games of a games.jsonl file (or of the run folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / JSONL_NAME
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield GameRecord.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError) as error:
                raise ResultsError(f"{path}:{number}: not a game record ({error})") from None

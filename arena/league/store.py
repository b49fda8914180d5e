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
from arena.play.record import GameRecord

JSONL_NAME = "games.jsonl"
PGN_NAME = "games.pgn"


class ResultsWriter:
    """Appends finished games to ``DIR/games.jsonl`` and ``DIR/games.pgn``.

    A folder that already holds games is refused unless ``overwrite`` (start
    again) or ``append`` (resume: the caller has checked the games belong).
    """

    def __init__(self, folder: str | Path, *, overwrite: bool = False, append: bool = False):
        self.folder = Path(folder)
        jsonl = self.folder / JSONL_NAME
        if jsonl.exists() and jsonl.stat().st_size and not (overwrite or append):
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
        """Append one game to both files; games.jsonl, the source of truth, goes to disk at once."""
        self._jsonl.write(json.dumps(record.to_dict(), separators=(",", ":")) + "\n")
        self._jsonl.flush()
        os.fsync(self._jsonl.fileno())
        # games.pgn is rebuilt from games.jsonl on resume, so flushing it is enough.
        print(record.pgn_text(), file=self._pgn, end="\n\n", flush=True)

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


def recover_records(folder: str | Path) -> list[GameRecord]:
    """The games of a run folder that may have been killed mid-write.

    A last line cut short by the kill is removed from games.jsonl (that game is
    simply played again), and games.pgn is rewritten from games.jsonl so both
    hold the same games. Damage anywhere else is an error, never silently dropped.
    """
    jsonl = Path(folder) / JSONL_NAME
    if not jsonl.exists():
        return []
    data = jsonl.read_bytes()
    if data and not data.endswith(b"\n"):
        last = data.rsplit(b"\n", 1)[-1]
        with open(jsonl, "r+b") as handle:
            try:
                json.loads(last)
                handle.seek(0, os.SEEK_END)
                handle.write(b"\n")  # complete but unterminated: end the line
            except ValueError:
                handle.truncate(len(data) - len(last))  # the last write never completed
    records = list(read_records(jsonl))
    with open(Path(folder) / PGN_NAME, "w", encoding="utf-8") as pgn:
        for record in records:
            print(record.pgn_text(), file=pgn, end="\n\n")
    return records

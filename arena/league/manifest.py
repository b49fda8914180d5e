"""The run folder's manifest.json: what ran, with which software, on which machine."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from arena import __version__
from arena.play.record import utc_now

PACKAGES = ("chess", "torch", "numpy", "pluggy", "multiprocess", "glicko2", "click", "PyYAML")
MANIFEST_NAME = "manifest.json"


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on (None where missing)."""
    versions: dict[str, str | None] = {"arena": __version__}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def machine_facts() -> dict[str, Any]:
    """CPU, GPU, OS and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpus: list[str] = []
    if shutil.which("nvidia-smi"):
        try:
            listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
            gpus = [line for line in listed.stdout.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "gpus": gpus,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "hostname": platform.node(),
    }


#: The status of a run that never recorded its end: killed (``kill -9``, out of memory, power loss).
KILLED = "killed"


def mark_killed(runs: list[Any]) -> None:
    """Mark earlier runs still "running" with no end time as killed.

    A run records how it ended as it exits; one that never did was killed before
    it could (one folder is played by one run at a time, so it is not running now).
    """
    for run in runs:
        if isinstance(run, dict) and run.get("status") == "running" and not run.get("finished"):
            run["status"] = KILLED


class Manifest:
    """manifest.json in a run folder, rewritten atomically whenever it changes."""

    def __init__(self, folder: Path, base: dict[str, Any]):
        self.path = folder / MANIFEST_NAME
        previous: dict[str, Any] = {}
        if self.path.exists():
            try:
                previous = json.loads(self.path.read_text())
            except ValueError:
                previous = {}
        self.data = {**base, "engines": previous.get("engines", {}), "runs": previous.get("runs", [])}
        mark_killed(self.data["runs"])
        self.run = {
            "started": utc_now(),
            "finished": None,
            "status": "running",
            "games_played": 0,
            "command": " ".join(sys.argv),
            "packages": package_versions(),
            "machine": machine_facts(),
        }
        self.data["runs"].append(self.run)
        self.save()

    def save(self) -> None:
        """Write the manifest (to a temporary file first, so a kill never leaves half of one)."""
        temporary = self.path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self.data, indent=2, default=str) + "\n")
        os.replace(temporary, self.path)

    def finish(self, status: str, games_played: int) -> None:
        """Record how this run ended."""
        self.run.update(finished=utc_now(), status=status, games_played=games_played)
        self.save()

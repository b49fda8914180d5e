"""Seeds derived from one master seed, so a run's games do not depend on order or concurrency."""

from __future__ import annotations

import hashlib
import secrets


def derive_seed(master: int, *parts: object) -> int:
    """A 63-bit seed for ``parts`` (e.g. a game id) under ``master``; stable across runs and machines."""
    text = ":".join(str(part) for part in (master, *parts))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def fresh_seed() -> int:
    """A new random master seed, for runs that did not ask for one (it is printed and recorded)."""
    return secrets.randbelow(2**31)

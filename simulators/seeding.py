"""Deterministic random streams: one per plant and one per sensor, derived
from the simulation seed and a stable name with SHA-256, so the same seed
gives the same readings in every process (Python's hash() is salted)."""

from __future__ import annotations

import hashlib
import random


def seeded_rng(seed: int | str, *names: str) -> random.Random:
    """A random stream determined by `seed` and `names` alone."""
    key = "\x1f".join([str(seed), *names]).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))

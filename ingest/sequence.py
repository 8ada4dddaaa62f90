"""Per-gateway `seq` tracking: gaps (messages lost before they reached us)
and replays (messages delivered again).

Workers on a shared subscription each see only part of a gateway's stream,
so one worker alone would see gaps everywhere. The ledger is therefore one
SQLite file that every worker on the machine writes to: a replay is a seq
already recorded; the gap count is what is missing between the lowest and
highest seq recorded in the window.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

WINDOW_S = 24 * 3600


def shared_db(path: Path) -> sqlite3.Connection:
    """A SQLite file the workers on the machine write to at once (WAL);
    autocommit, so transactions are explicit (BEGIN IMMEDIATE)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class SequenceLedger:
    def __init__(self, path: Path, window_s: float = WINDOW_S):
        self.window_s = window_s
        self._db = shared_db(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen (gateway TEXT NOT NULL, seq INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (gateway, seq))"
        )
        self._last_prune = 0.0

    def record(self, messages: Iterable[tuple[str, int]]) -> dict[str, int]:
        """Record (gateway, seq) pairs; returns the replays per gateway."""
        now = time.time()
        replays: dict[str, int] = {}
        db = self._db
        unique: dict[tuple[str, int], None] = {}
        for pair in messages:
            if pair in unique:  # delivered twice within one batch
                replays[pair[0]] = replays.get(pair[0], 0) + 1
            unique[pair] = None
        rows = [(gateway, seq, now) for gateway, seq in unique]
        if not rows:
            return replays
        db.execute("BEGIN IMMEDIATE")
        try:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", rows)
            if db.total_changes - before < len(rows):
                # Some were seen before: find which (rare, so row by row is fine).
                for gateway, seq, at in rows:
                    if db.execute("SELECT at FROM seen WHERE gateway = ? AND seq = ?", (gateway, seq)).fetchone()[0] != at:
                        replays[gateway] = replays.get(gateway, 0) + 1
            if now - self._last_prune > 60:
                db.execute("DELETE FROM seen WHERE at < ?", (now - self.window_s,))
                self._last_prune = now
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return replays

    def gaps(self) -> dict[str, int]:
        """Messages missing per gateway within the window."""
        rows = self._db.execute("SELECT gateway, MAX(seq) - MIN(seq) + 1 - COUNT(*) FROM seen GROUP BY gateway").fetchall()
        return {gateway: int(missing) for gateway, missing in rows}

    def close(self) -> None:
        self._db.close()

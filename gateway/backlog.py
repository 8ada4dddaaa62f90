"""The gateway's store and forward: every readings message is written here
before it is sent, and leaves only when the broker has acknowledged it.

One SQLite file in WAL mode (stdlib sqlite3), with the next `seq` and the
count of dropped messages kept in the same transactions as the messages, so
that a crash at any point neither reuses a seq nor forgets a drop. The
backlog is bounded by messages and bytes; when it is full the OLDEST
messages are dropped and counted, never silently.

One process owns a backlog at a time (an exclusive lock on a side file):
two gateways on one state directory would hand out the same seqs.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('next_seq', 1), ('dropped', 0);
"""


class BacklogLocked(RuntimeError):
    """Another process (or another Backlog in this one) holds the backlog."""


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    seq: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class Appended:
    """What `Backlog.append` did: the seq it assigned and how many of the
    oldest messages it dropped to make room."""

    seq: int
    dropped: int


class Backlog:
    """A persistent FIFO of encoded messages keyed by their seq."""

    def __init__(self, path: Path, max_messages: int, max_bytes: int):
        if max_messages < 1 or max_bytes < 1:
            raise ValueError("the backlog bounds must be positive")
        self.path = path
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(path.with_name(path.name + ".lock"), "a+b")  # noqa: SIM115 (held while open)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise BacklogLocked(f"{path} is in use by another gateway process") from None
        self._mutex = threading.Lock()
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed message survives a power cut, not only a crash.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        count, size = self._db.execute("SELECT count(*), coalesce(sum(length(payload)), 0) FROM messages").fetchone()
        self._count: int = count
        self._bytes: int = size
        self._next_seq = self._meta("next_seq")
        self._dropped = self._meta("dropped")
        self._closed = False

    def _meta(self, key: str) -> int:
        value: int = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]
        return value

    # ------------------------------------------------------------------
    # Counters (safe to read from any thread)

    def __len__(self) -> int:
        return self._count

    @property
    def size_bytes(self) -> int:
        """Payload bytes waiting."""
        return self._bytes

    @property
    def dropped(self) -> int:
        """Messages dropped because the backlog was full, since it was created."""
        return self._dropped

    @property
    def last_seq(self) -> int:
        """The last seq assigned (0 before the first message)."""
        return self._next_seq - 1

    # ------------------------------------------------------------------

    def append(self, encode: Callable[[int], bytes]) -> Appended:
        """Assign the next seq, store `encode(seq)` and drop the oldest
        messages while the backlog is over its bounds, in one transaction."""
        with self._mutex:
            seq = self._next_seq
            payload = encode(seq)
            count, size, dropped = self._count + 1, self._bytes + len(payload), 0
            with self._transaction() as db:
                db.execute("INSERT INTO messages (seq, payload) VALUES (?, ?)", (seq, payload))
                db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (seq + 1,))
                # Oldest first; the new message itself goes only if it alone
                # is over max_bytes (then it is counted like any other).
                while count > self.max_messages or size > self.max_bytes:
                    oldest = db.execute("SELECT seq, length(payload) FROM messages ORDER BY seq LIMIT 64").fetchall()
                    for old_seq, old_size in oldest:
                        if count <= self.max_messages and size <= self.max_bytes:
                            break
                        db.execute("DELETE FROM messages WHERE seq = ?", (old_seq,))
                        count, size, dropped = count - 1, size - old_size, dropped + 1
                if dropped:
                    db.execute("UPDATE meta SET value = value + ? WHERE key = 'dropped'", (dropped,))
            self._next_seq, self._count, self._bytes = seq + 1, count, size
            self._dropped += dropped
            return Appended(seq=seq, dropped=dropped)

    def oldest(self, limit: int, skip: Collection[int] = ()) -> list[QueuedMessage]:
        """Up to `limit` messages from the head, in seq order, leaving out the
        seqs in `skip` (those already in flight)."""
        if limit <= 0:
            return []
        with self._mutex:
            rows = self._db.execute("SELECT seq FROM messages ORDER BY seq LIMIT ?", (limit + len(skip),)).fetchall()
            wanted = [seq for (seq,) in rows if seq not in skip][:limit]
            if not wanted:
                return []
            marks = ",".join("?" * len(wanted))
            found = self._db.execute(f"SELECT seq, payload FROM messages WHERE seq IN ({marks}) ORDER BY seq", wanted)
            return [QueuedMessage(seq, bytes(payload)) for seq, payload in found]

    def remove(self, seqs: Iterable[int]) -> int:
        """Remove acknowledged messages (those already dropped are ignored);
        return how many were removed."""
        seqs = list(seqs)
        if not seqs:
            return 0
        with self._mutex:
            marks = ",".join("?" * len(seqs))
            with self._transaction() as db:
                count, size = db.execute(
                    f"SELECT count(*), coalesce(sum(length(payload)), 0) FROM messages WHERE seq IN ({marks})", seqs).fetchone()
                db.execute(f"DELETE FROM messages WHERE seq IN ({marks})", seqs)
            self._count -= count
            self._bytes -= size
            return int(count)

    def close(self) -> None:
        """Close the database and release the lock (idempotent)."""
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            self._db.close()
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()

    def __enter__(self) -> Backlog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")

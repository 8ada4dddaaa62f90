"""The disk backlog (store and forward), without a broker."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.backlog import Backlog, BacklogLocked


def open_backlog(path: Path, max_messages: int = 1000, max_bytes: int = 10**9) -> Backlog:
    return Backlog(path / "queue.db", max_messages, max_bytes)


def payload(tag: str) -> Callable[[int], bytes]:
    return lambda seq: f"{tag}:{seq}".encode()


def test_backlog_is_first_in_first_out(tmp_path: Path) -> None:
    with open_backlog(tmp_path) as backlog:
        for tag in "abc":
            backlog.append(payload(tag))
        assert [m.payload for m in backlog.oldest(10)] == [b"a:1", b"b:2", b"c:3"]
        assert backlog.remove([1]) == 1
        assert [m.seq for m in backlog.oldest(10)] == [2, 3]
        assert len(backlog) == 2 and backlog.size_bytes == len(b"b:2") + len(b"c:3")


def test_backlog_uses_sqlite_in_wal_mode(tmp_path: Path) -> None:
    with open_backlog(tmp_path):
        mode = sqlite3.connect(tmp_path / "queue.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_backlog_survives_reopen(tmp_path: Path) -> None:
    with open_backlog(tmp_path) as backlog:
        for tag in "abcd":
            backlog.append(payload(tag))
        backlog.remove([2])
    with open_backlog(tmp_path) as backlog:
        assert [m.payload for m in backlog.oldest(10)] == [b"a:1", b"c:3", b"d:4"]
        assert len(backlog) == 3 and backlog.size_bytes == 9


def test_seq_is_persisted_and_strictly_increasing_across_reopen(tmp_path: Path) -> None:
    seqs = []
    for _ in range(3):
        with open_backlog(tmp_path) as backlog:
            seqs += [backlog.append(payload("x")).seq for _ in range(2)]
            # Even an emptied backlog never hands a seq out again.
            backlog.remove(m.seq for m in backlog.oldest(10))
            assert backlog.last_seq == seqs[-1]
    assert seqs == [1, 2, 3, 4, 5, 6]


def test_encoded_message_carries_the_seq_it_was_given(tmp_path: Path) -> None:
    with open_backlog(tmp_path) as backlog:
        appended = backlog.append(lambda seq: f'{{"seq": {seq}}}'.encode())
        assert backlog.oldest(1)[0].payload == f'{{"seq": {appended.seq}}}'.encode()


def test_full_backlog_drops_the_oldest_and_persists_the_count(tmp_path: Path) -> None:
    with open_backlog(tmp_path, max_messages=3) as backlog:
        results = [backlog.append(payload(tag)) for tag in "abcde"]
        assert [r.dropped for r in results] == [0, 0, 0, 1, 1]
        assert [m.payload for m in backlog.oldest(10)] == [b"c:3", b"d:4", b"e:5"]
        assert backlog.dropped == 2
    with open_backlog(tmp_path, max_messages=3) as backlog:
        assert backlog.dropped == 2
        backlog.append(payload("f"))
        assert backlog.dropped == 3
        assert [m.seq for m in backlog.oldest(10)] == [4, 5, 6]


def test_backlog_bounded_by_bytes_drops_as_many_oldest_as_needed(tmp_path: Path) -> None:
    with open_backlog(tmp_path, max_bytes=100) as backlog:
        for _ in range(4):
            backlog.append(lambda seq: b"x" * 30)
        assert len(backlog) == 3 and backlog.dropped == 1
        result = backlog.append(lambda seq: b"y" * 70)
        assert result.dropped == 2
        assert [m.payload[:1] for m in backlog.oldest(10)] == [b"x", b"y"]
        assert backlog.size_bytes == 100


def test_a_message_alone_over_the_byte_bound_is_dropped_and_counted(tmp_path: Path) -> None:
    with open_backlog(tmp_path, max_bytes=10) as backlog:
        result = backlog.append(lambda seq: b"z" * 11)
        assert result.dropped == 1 and len(backlog) == 0 and backlog.dropped == 1


def test_oldest_skips_messages_already_in_flight(tmp_path: Path) -> None:
    with open_backlog(tmp_path) as backlog:
        for tag in "abcdef":
            backlog.append(payload(tag))
        assert [m.seq for m in backlog.oldest(2, skip={1, 3})] == [2, 4]
        assert backlog.oldest(0) == []


def test_acknowledging_a_message_dropped_meanwhile_is_harmless(tmp_path: Path) -> None:
    with open_backlog(tmp_path, max_messages=1) as backlog:
        backlog.append(payload("a"))
        backlog.append(payload("b"))  # drops seq 1
        assert backlog.remove([1]) == 0
        assert len(backlog) == 1 and backlog.size_bytes == 3


def test_only_one_owner_at_a_time(tmp_path: Path) -> None:
    with open_backlog(tmp_path), pytest.raises(BacklogLocked):
        open_backlog(tmp_path)
    open_backlog(tmp_path).close()  # released on close

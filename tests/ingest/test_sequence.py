from __future__ import annotations

from pathlib import Path

from ingest.sequence import SequenceLedger


def test_gaps_and_replays_are_counted_across_workers_sharing_the_ledger(tmp_path: Path) -> None:
    one, two = SequenceLedger(tmp_path / "seq.db"), SequenceLedger(tmp_path / "seq.db")
    assert one.record([("gw-a", 1), ("gw-a", 2), ("gw-a", 5)]) == {}
    assert two.record([("gw-a", 3), ("gw-b", 10)]) == {}  # another worker saw seq 3
    assert one.gaps() == {"gw-a": 1, "gw-b": 0}  # only seq 4 is missing
    assert two.record([("gw-a", 2), ("gw-a", 6), ("gw-a", 6)]) == {"gw-a": 2}  # 2 again, and 6 twice in one batch
    assert one.gaps() == {"gw-a": 1, "gw-b": 0}

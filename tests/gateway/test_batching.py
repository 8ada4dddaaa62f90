"""The batcher and the token bucket: pure, driven by a fake clock."""

from __future__ import annotations

import pytest

from gateway.batcher import Batcher, TokenBucket
from gateway.gateway import split_to_fit
from vigil.contract import MAX_PAYLOAD_BYTES, Reading, encode_readings

TS = 1_795_392_000_000_000_000


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def readings(n: int, start: int = 0) -> list[Reading]:
    return [Reading("vac-fridge-1-temp", "temperature", float(i), TS + i * 1_000_000) for i in range(start, start + n)]


def test_batch_closes_when_it_reaches_the_reading_count() -> None:
    batcher = Batcher(max_readings=3, max_age_s=60, clock=FakeClock())
    full = batcher.add(readings(7))
    assert [[r.value for r in b] for b in full] == [[0, 1, 2], [3, 4, 5]]
    assert len(batcher) == 1  # reading 6 waits for more


def test_batch_closes_when_its_first_reading_is_old_enough() -> None:
    clock = FakeClock()
    batcher = Batcher(max_readings=500, max_age_s=1.0, clock=clock)
    batcher.add(readings(2))
    clock.now += 0.6
    batcher.add(readings(1, start=2))  # later readings do not restart the age
    assert batcher.take_due() is None
    clock.now += 0.4
    due = batcher.take_due()
    assert due is not None and [r.value for r in due] == [0, 1, 2]
    assert batcher.take_due() is None and len(batcher) == 0


def test_age_counts_from_the_first_reading_of_the_next_batch() -> None:
    clock = FakeClock()
    batcher = Batcher(max_readings=2, max_age_s=1.0, clock=clock)
    batcher.add(readings(2))  # closes by count
    clock.now += 5
    batcher.add(readings(1, start=2))
    assert batcher.take_due() is None  # fresh batch, fresh age
    clock.now += 1
    assert batcher.take_due() is not None


def test_empty_batcher_never_comes_due() -> None:
    clock = FakeClock()
    batcher = Batcher(max_readings=10, max_age_s=0.5, clock=clock)
    clock.now += 100
    assert batcher.take_due() is None
    assert batcher.flush() == []


def test_flush_hands_over_the_open_batch_at_shutdown() -> None:
    batcher = Batcher(max_readings=10, max_age_s=60, clock=FakeClock())
    batcher.add(readings(4))
    assert [r.value for r in batcher.flush()] == [0, 1, 2, 3]
    assert len(batcher) == 0


def test_batcher_refuses_meaningless_bounds() -> None:
    with pytest.raises(ValueError):
        Batcher(max_readings=0, max_age_s=1)
    with pytest.raises(ValueError):
        Batcher(max_readings=1, max_age_s=0)


def test_token_bucket_bounds_the_rate_and_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, clock=clock)  # burst: one second's worth
    assert bucket.available() == 10
    assert all(bucket.take() for _ in range(10))
    assert not bucket.take()
    clock.now += 0.35
    assert bucket.available() == 3
    clock.now += 60  # idle time does not bank more than the burst
    assert bucket.available() == 10


def test_slow_token_bucket_still_allows_one_message() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, clock=clock)
    assert bucket.take()
    assert not bucket.take()
    clock.now += 2
    assert bucket.take()


def test_batch_too_big_for_one_payload_is_split_in_order() -> None:
    long_id = "s" * 64
    batch = [Reading(long_id, "temperature", 1.0 + i / 7, TS + i) for i in range(5000)]
    parts = split_to_fit("gw-a", TS, batch)
    assert len(parts) > 1
    assert [r for part in parts for r in part] == batch
    assert all(len(encode_readings("gw-a", 2**63 - 1, TS, part)) <= MAX_PAYLOAD_BYTES for part in parts)


def test_batch_within_the_payload_limit_is_not_split() -> None:
    batch = readings(500)
    assert split_to_fit("gw-a", TS, batch) == [batch]

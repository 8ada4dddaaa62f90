"""SimulatedSource: the gateway's reading source. Simulation time runs at
`speed` times the clock; each poll returns what came due since the last,
once, in time order, the same readings the Simulation gives."""

from __future__ import annotations

from itertools import pairwise

import pytest

from simulators import SimulatedSource, Simulation
from tests.simulators.simkit import START_NS
from vigil.registry import Registry


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_speed_scales_simulation_time(small_facility: Registry) -> None:
    clock = FakeClock()
    source = SimulatedSource(small_facility, "gw-a", seed=1, speed=60.0, start_ns=START_NS, clock=clock)
    assert source.now_ns() == START_NS
    clock.now += 60.0  # a minute of wall time is an hour simulated
    assert source.now_ns() == START_NS + 3600 * 10**9
    readings = source.poll()
    fridge = [r for r in readings if r.sensor == "bb-fridge-1-temp" and r.metric == "temperature"]
    assert len(fridge) == 61  # every minute of the simulated hour, both ends included
    assert source.poll_interval_s == 1.0  # 60 s sensors at 60x


def test_poll_returns_each_reading_once_in_time_order(small_facility: Registry) -> None:
    clock = FakeClock()
    source = SimulatedSource(small_facility, "gw-b", seed=1, start_ns=START_NS, clock=clock)
    seen = []
    for step in (0.0, 5.0, 0.0, 12.5, 30.0, 3600.0):
        clock.now += step
        polled = source.poll()
        assert all(r.ts_ns <= source.now_ns() for r in polled)
        seen += polled
    assert len({(r.sensor, r.metric, r.ts_ns) for r in seen}) == len(seen)
    assert all(a.ts_ns <= b.ts_ns for a, b in pairwise(seen))
    expected = list(
        Simulation(small_facility, seed=1, start_ns=START_NS, gateways=["gw-b"]).readings_between(START_NS, source.now_ns() + 1)
    )
    assert seen == expected


def test_source_starts_at_the_clock_by_default(small_facility: Registry) -> None:
    clock = FakeClock(1_750_000_000.0)
    source = SimulatedSource(small_facility, "gw-a", clock=clock)
    assert source.start_ns == 1_750_000_000 * 10**9
    assert {r.ts_ns for r in source.poll()} == {source.start_ns}


def test_inject_forwards_to_the_simulation_at_simulation_time(small_facility: Registry) -> None:
    clock = FakeClock()
    source = SimulatedSource(small_facility, "gw-b", seed=1, speed=10.0, start_ns=START_NS, clock=clock)
    clock.now += 60.0
    source.poll()
    injection = source.inject("water-burst")
    assert injection.at_ns == source.now_ns() and injection.asset == "water-main"
    clock.now += 60.0
    flows = [r.value for r in source.poll() if r.metric == "flow"]
    assert min(float(v) for v in flows[1:]) > 60
    source.clear("water-burst")
    clock.now += 60.0
    assert max(float(r.value) for r in source.poll()[5:] if r.metric == "flow") < 60


def test_source_refuses_unknown_gateways_and_bad_speeds(small_facility: Registry) -> None:
    with pytest.raises(ValueError, match="unknown gateway 'gw-x'"):
        SimulatedSource(small_facility, "gw-x")
    with pytest.raises(ValueError, match="speed"):
        SimulatedSource(small_facility, "gw-a", speed=0)


def test_a_clock_that_steps_back_yields_nothing_until_it_catches_up(small_facility: Registry) -> None:
    clock = FakeClock()
    source = SimulatedSource(small_facility, "gw-a", seed=1, start_ns=START_NS, clock=clock)
    clock.now += 120.0
    assert source.poll()
    clock.now -= 60.0
    assert source.poll() == []


def test_accelerated_run_starts_in_the_past_and_never_runs_ahead_of_the_clock(small_facility: Registry) -> None:
    clock = FakeClock()
    source = SimulatedSource(small_facility, "gw-a", seed=1, speed=60.0, clock=clock, catch_up_s=600)
    wall_ns = int(clock.now * 1e9)
    assert source.now_ns() == wall_ns - 59 * 600 * 10**9  # 59 ten-minutes behind: caught up after ten wall minutes
    clock.now += 300
    assert source.now_ns() < int(clock.now * 1e9)
    clock.now += 600  # past the catch-up: real time from here on
    assert source.now_ns() == int(clock.now * 1e9)
    assert all(r.ts_ns <= int(clock.now * 1e9) for r in source.poll())

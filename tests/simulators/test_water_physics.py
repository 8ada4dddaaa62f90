"""Water: volume only moves forward, flow follows the day, normal nights have
hours of zero flow, and a leak keeps the night flow above zero."""

from __future__ import annotations

from simulators import Simulation
from tests.simulators.simkit import CLOCK, DAY_NS, START_NS, SimulatedWeek, is_non_decreasing, series, zero_flow_hours
from vigil.registry import Registry

METER = "water-main-m"


def test_volume_never_decreases_and_integrates_the_flow(small_week: SimulatedWeek) -> None:
    volume = series(small_week.readings, METER, "volume")
    flow = series(small_week.readings, METER, "flow")
    assert is_non_decreasing(volume)
    integrated = sum(float(v) for _, v in flow[:-1]) / 60
    assert abs((volume[-1][1] - volume[0][1]) - integrated) < 0.01 * integrated


def test_normal_nights_have_several_hours_of_zero_flow(small_week: SimulatedWeek) -> None:
    zero = zero_flow_hours(series(small_week.readings, METER, "flow"))
    days = {CLOCK.local_day(START_NS + d * DAY_NS) for d in range(7)}
    for day in days:
        assert len({h for d, h in zero if d == day}) >= 3, f"day {day} has too few zero-flow hours"
    assert all(h < 6 for _, h in zero)  # and the day always has flow


def test_flow_peaks_in_the_day(small_week: SimulatedWeek) -> None:
    flow = series(small_week.readings, METER, "flow")
    day = [float(v) for t, v in flow if 9 <= CLOCK.hour(t) < 11]
    assert min(day) > 0 and sum(day) / len(day) > 10


def test_night_leak_keeps_night_flow_above_zero(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=3, start_ns=START_NS)
    sim.inject("water-night-leak", asset="water-main", at_ns=START_NS)
    flow = series(sim.readings_between(START_NS, START_NS + 3 * DAY_NS), METER, "flow")
    assert zero_flow_hours(flow) == set()
    assert min(float(v) for _, v in flow[1:]) > 0.3  # the sample at the injection instant is still before it


def test_burst_flows_far_above_the_day_peak(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=3, start_ns=START_NS)
    normal = max(float(v) for _, v in series(sim.readings_between(START_NS, START_NS + DAY_NS), METER, "flow"))
    sim.inject("water-burst", asset="water-main", at_ns=START_NS + DAY_NS)
    burst = series(sim.readings_between(START_NS + DAY_NS, START_NS + DAY_NS + 3600 * 10**9), METER, "flow")
    assert min(float(v) for _, v in burst[1:]) > max(60.0, 2 * normal)

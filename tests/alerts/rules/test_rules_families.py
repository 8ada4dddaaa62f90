"""Family-specific rules on hand-made readings: UV lamps (warm-up gate,
predicted crossing), water night flow, gas sudden drop, stuck probes and
stalled meters."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from alerts.model import AlertState, RuleKind
from tests.alerts.rules.rules_kit import DAY, HOUR, MIN, START_NS, S, engine_for, feed, readings, states, transitions
from vigil.contract import Reading
from vigil.registry import Registry

UV = "uv-or-1-s"
UV_LOW = f"{UV}/intensity/threshold"
UV_PLAN = f"{UV}/intensity/predicted_crossing"
WATER = "water-main-m"
NIGHT = f"{WATER}/flow/night_flow"
O2 = "o2-b1-p"  # nominal 400 kPa, alarm below 320 kPa


def lamp_cycle(start_ns: int, minutes: int, intensity: Callable[[int], float], burn_hours: float) -> list[Reading]:
    """A disinfection cycle as a UV sensor reports it, a minute apart: the
    lamp off, then on for `minutes` (intensity, lamp state, burn hours), then off."""
    out = [Reading(UV, "lamp_on", False, start_ns - MIN)]
    for m in range(minutes):
        ts = start_ns + m * MIN
        out += [
            Reading(UV, "intensity", intensity(m), ts),
            Reading(UV, "lamp_on", True, ts),
            Reading(UV, "burn_hours", round(burn_hours + m / 60, 2), ts),
        ]
    out.append(Reading(UV, "lamp_on", False, start_ns + minutes * MIN))
    return out


def test_uv_intensity_is_not_judged_while_warming_up_or_off(small: Registry) -> None:
    engine = engine_for(small)
    warming = lamp_cycle(START_NS + HOUR, 40, lambda m: 20.0 + 16 * m if m < 5 else 100.0, 500.0)
    off = [Reading(UV, "intensity", 0.0, START_NS + 2 * HOUR + m * MIN) for m in range(30)]  # dark room, lamp off
    assert feed(engine, warming + off) == []


def test_uv_lamp_weak_after_warm_up_orders_a_replacement(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, lamp_cycle(START_NS + HOUR, 30, lambda m: 60.0, 9000.0))
    assert states(said, UV_LOW) == [AlertState.PENDING, AlertState.FIRING]
    pending, fired = transitions(said, UV_LOW)
    assert pending.at_ns == START_NS + HOUR + 5 * MIN  # the first reading after the 5 min warm-up
    assert fired.at_ns == START_NS + HOUR + 10 * MIN and fired.work_order == "replace_uv_lamp"
    assert fired.limit == "< 70.0 μW/cm² for 5 min"
    # The lamp goes off: the alarm stays (no verdict without light) until a cycle shows a good lamp.
    nothing = feed(engine, [Reading(UV, "lamp_on", False, START_NS + HOUR + m * MIN) for m in range(31, 300)])
    assert nothing == []
    said = feed(engine, lamp_cycle(START_NS + 6 * HOUR, 30, lambda m: 100.0, 0.0))
    assert states(said, UV_LOW) == [AlertState.RESOLVED]


def declining_lamp(days: int, per_day: float, start: float = 78.0, seed: int = 1) -> list[Reading]:
    """One 60-minute cycle a day, intensity falling `per_day` with a little noise."""
    rng = random.Random(seed)
    out: list[Reading] = []
    for day in range(days):
        noisy = [start - per_day * day + rng.gauss(0.0, 0.3) for _ in range(60)]
        out += lamp_cycle(START_NS + day * DAY + 6 * HOUR, 60, noisy.__getitem__, 2000.0 + day)
    return out


def test_predicted_crossing_plans_a_replacement_thirty_days_ahead(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, declining_lamp(20, per_day=0.2))  # 78 μW/cm² falling 0.2 a day: 70 on day 40
    (planned,) = transitions(said, UV_PLAN)
    assert planned.state is AlertState.FIRING and planned.work_order == "planned_uv_lamp_replacement"
    assert planned.rule_kind is RuleKind.PREDICTED_CROSSING
    assert 10 * DAY <= planned.at_ns - START_NS <= 12 * DAY  # as soon as there are 10 cycles of trend
    crossing = planned.details["predicted_crossing_ns"]
    assert abs(crossing - (START_NS + 40 * DAY)) < 2 * DAY
    assert 28 <= planned.details["days_left"] <= 30
    assert "plan a lamp replacement" in planned.summary
    assert not transitions(said, UV_LOW)  # still above 70: nothing urgent


def test_a_steady_lamp_is_not_predicted_to_fail(small: Registry) -> None:
    said = feed(engine_for(small), declining_lamp(30, per_day=0.0, start=95.0))
    assert not transitions(said, UV_PLAN)


def test_a_new_lamp_clears_the_planned_replacement(small: Registry) -> None:
    engine = engine_for(small)
    feed(engine, declining_lamp(20, per_day=0.2))
    assert engine.active_alerts()[UV_PLAN] is AlertState.FIRING
    replaced = [
        *lamp_cycle(START_NS + 20 * DAY + 6 * HOUR, 60, lambda m: 104.0, 0.0),
        *lamp_cycle(START_NS + 21 * DAY + 6 * HOUR, 60, lambda m: 104.0, 1.0),
    ]
    assert states(feed(engine, replaced), UV_PLAN) == [AlertState.RESOLVED]


def night_flows(days: int, night_flow: Callable[[int], float]) -> list[Reading]:
    """Flow every 10 minutes: 12 m³/h by day, `night_flow(day)` from 00:00 to 05:00 site time."""
    out = []
    for m in range(0, days * 24 * 60, 10):
        day, minute = divmod(m, 24 * 60)
        flow = night_flow(day) if minute < 5 * 60 else 12.0
        out.append(Reading(WATER, "flow", flow, START_NS + m * MIN))
    return out


def test_water_night_flow_that_never_reaches_zero_fires_at_the_end_of_the_night(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, night_flows(3, lambda day: 0.0 if day == 0 else 0.8))  # a leak from day 1
    (leak,) = transitions(said, NIGHT)
    assert leak.state is AlertState.FIRING and leak.at_ns == START_NS + DAY + 5 * HOUR  # 05:00 site time
    assert leak.value == 0.8 and leak.limit == "no zero flow 00:00-05:00 local time"
    assert "a leak?" in leak.summary


def test_a_night_with_zero_flow_clears_the_night_flow_alarm(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, night_flows(3, lambda day: 0.0 if day == 2 else 0.8))
    assert states(said, NIGHT) == [AlertState.FIRING, AlertState.RESOLVED]
    assert transitions(said, NIGHT)[1].at_ns == START_NS + 2 * DAY + 5 * HOUR


def test_a_night_the_meter_mostly_missed_is_not_judged(small: Registry) -> None:
    engine = engine_for(small)
    # The meter was offline until 03:00 each night: two hours of a five-hour night prove nothing.
    after_three = [r for r in night_flows(2, lambda day: 0.8) if (r.ts_ns - START_NS) % DAY >= 3 * HOUR]
    assert not transitions(feed(engine, after_three), NIGHT)


def test_a_sudden_oxygen_drop_latches_until_the_line_is_back_in_range(small: Registry) -> None:
    engine = engine_for(small)
    every_10s = 10 * S
    steady = readings(O2, "pressure", [400.0] * 12, step_ns=every_10s)
    drop = readings(O2, "pressure", [300.0, 200.0, 150.0] + [150.0] * 60, start_ns=START_NS + 12 * every_10s, step_ns=every_10s)
    said = feed(engine, steady + drop)
    rate = f"{O2}/pressure/rate_of_change"
    assert states(said, rate) == [AlertState.FIRING]
    assert transitions(said, rate)[0].at_ns == START_NS + 12 * every_10s  # the first reading 100 kPa down
    recovery = readings(O2, "pressure", [160.0 + 20 * i for i in range(13)] + [400.0] * 60, start_ns=START_NS + 75 * every_10s,
                        step_ns=every_10s)  # fmt: skip
    back = transitions(feed(engine, recovery), rate)
    assert [t.state for t in back] == [AlertState.RESOLVED]
    assert back[0].at_ns >= START_NS + (75 + 5) * every_10s + 5 * MIN  # back above 320 kPa, then the hold


def test_a_probe_repeating_one_value_for_two_hours_is_stuck(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, readings("bb-fridge-1-temp", "temperature", [4.1, 4.3] + [4.12] * 130))
    (stuck,) = transitions(said, "bb-fridge-1-temp/temperature/stuck")
    assert stuck.state is AlertState.FIRING and stuck.at_ns == START_NS + (2 + 120) * MIN
    assert stuck.limit == "unchanged for 2 h" and "check the probe" in stuck.summary


@pytest.mark.parametrize(("metric", "value"), [("flow", 0.0), ("voltage", 0.0)])
def test_exactly_zero_for_hours_is_a_rest_state_not_a_stuck_sensor(small: Registry, metric: str, value: float) -> None:
    sensor = WATER if metric == "flow" else "elec-main-m"
    said = feed(engine_for(small), readings(sensor, metric, [value] * 600))
    assert not [t for t in said if getattr(t, "rule_kind", None) is RuleKind.STUCK]


def test_a_meter_register_that_stops_while_power_flows_is_stalled(small: Registry) -> None:
    engine = engine_for(small)
    meter = "elec-main-m"
    items = []
    for m in range(60):
        ts = START_NS + m * MIN
        items += [Reading(meter, "energy", 1000.0 + min(m, 10) * 5.0, ts), Reading(meter, "power", 300.0, ts)]
    (stalled,) = transitions(feed(engine, items), f"{meter}/energy/counter_stalled")
    assert stalled.at_ns == START_NS + 40 * MIN  # stuck at minute 10, 30 min later
    assert "while power is 300.0 kW" in stalled.summary


def test_a_register_that_stops_in_an_outage_is_not_stalled(small: Registry) -> None:
    meter = "elec-main-m"
    items = []
    for m in range(90):
        ts = START_NS + m * MIN
        items += [Reading(meter, "energy", 1000.0, ts), Reading(meter, "power", 0.0, ts)]
    assert not transitions(feed(engine_for(small), items), f"{meter}/energy/counter_stalled")


def test_rules_that_need_a_technician_name_the_work_order() -> None:
    from alerts.rules import build_rules
    from vigil.registry import load_registry

    book = build_rules(load_registry("tests/data/small-facility.yaml"))
    orders = {(r.sensor, r.metric, r.kind.value): r.work_order for r in book.rules}
    assert orders[("water-main-m", "flow", "night_flow")] == "inspect_leak"
    assert orders[("water-main-m", "flow", "threshold")] == "inspect_leak"
    assert orders[("bb-fridge-1-temp", "temperature", "threshold")] == "service_fridge"
    assert orders[("uv-or-1-s", "intensity", "threshold")] == "replace_uv_lamp"

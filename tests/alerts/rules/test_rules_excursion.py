"""Cold-chain excursion records: open, update, close; start, end, peak,
minutes out of range and mean kinetic temperature, checked by hand."""

from __future__ import annotations

import math

import pytest

from alerts.rules import mean_kinetic_temperature
from tests.alerts.rules.rules_kit import MIN, START_NS, engine_for, excursions, feed, readings
from vigil.registry import Registry

BLOOD = "bb-fridge-1-temp"  # alarm limits 2.5-5.5 °C


def mkt_by_hand(celsius: list[float]) -> float:
    """USP <1160>, written out: ΔH = 83.144 kJ/mol, R = 8.3144 J/(mol·K)."""
    delta_h, r = 83_144.0, 8.3144
    mean = sum(math.exp(-delta_h / (r * (t + 273.15))) for t in celsius) / len(celsius)
    return (delta_h / r) / -math.log(mean) - 273.15


def test_mean_kinetic_temperature_matches_a_hand_computation() -> None:
    assert mean_kinetic_temperature([5.0, 5.0, 5.0]) == pytest.approx(5.0, abs=1e-9)
    assert mean_kinetic_temperature([20.0, 30.0]) == pytest.approx(mkt_by_hand([20.0, 30.0]), abs=1e-9)
    # MKT weighs warm hours more than the arithmetic mean does: 26.26 °C, not 25.0
    # (ln of the mean weight is -33.399, and 10 000 K / 33.399 = 299.41 K).
    assert mean_kinetic_temperature([20.0, 30.0]) == pytest.approx(26.26, abs=0.01)
    assert mean_kinetic_temperature([]) is None


def test_excursion_record_opens_and_closes_with_peak_minutes_and_mkt(small: Registry) -> None:
    engine = engine_for(small)
    temps = [4.0, 6.0, 7.0, 8.0, 6.5] + [4.0] * 10  # out of 2.5-5.5 °C from minute 1 to minute 5
    events = excursions(feed(engine, readings(BLOOD, "temperature", temps)))
    opened, closed = events
    assert (opened.sensor, opened.asset, opened.product) == (BLOOD, "bb-fridge-1", "red_cells")
    assert (opened.started_ns, opened.ended_ns, opened.peak, opened.minutes_out_of_range) == (START_NS + MIN, None, 6.0, 0.0)
    assert (opened.low, opened.high) == (2.5, 5.5)
    assert closed.started_ns == opened.started_ns
    assert closed.ended_ns == START_NS + 5 * MIN  # the return inside, not the end of the 5 min hold
    assert closed.peak == 8.0
    assert closed.minutes_out_of_range == pytest.approx(4.0)
    assert closed.mean_kinetic_temperature == pytest.approx(mkt_by_hand([6.0, 7.0, 8.0, 6.5]), abs=1e-9)


def test_a_long_excursion_is_updated_every_fifteen_minutes(small: Registry) -> None:
    engine = engine_for(small)
    events = excursions(feed(engine, readings(BLOOD, "temperature", [4.0] + [6.0 + 0.1 * i for i in range(40)] + [4.0] * 6)))
    assert [e.ended_ns is None for e in events] == [True, True, True, False]
    assert [round(e.minutes_out_of_range) for e in events] == [0, 15, 30, 40]
    assert events[-1].peak == pytest.approx(9.9)
    assert events[-1].mean_kinetic_temperature == pytest.approx(mkt_by_hand([6.0 + 0.1 * i for i in range(40)]), abs=1e-9)


def test_a_brief_return_inside_does_not_split_an_excursion(small: Registry) -> None:
    engine = engine_for(small)
    temps = [4.0] + [6.0] * 5 + [5.0] * 3 + [6.5] * 5 + [4.0] * 6
    events = excursions(feed(engine, readings(BLOOD, "temperature", temps)))
    assert [e.started_ns for e in events] == [START_NS + MIN] * 2
    closed = events[-1]
    assert closed.ended_ns == START_NS + 14 * MIN
    assert closed.minutes_out_of_range == pytest.approx(10.0)  # the 3 minutes inside do not count
    assert closed.peak == 6.5
    # The MKT covers the whole excursion, the 3 readings back inside included.
    assert closed.mean_kinetic_temperature == pytest.approx(mkt_by_hand([6.0] * 5 + [5.0] * 3 + [6.5] * 5), abs=1e-9)


def test_an_excursion_below_the_range_peaks_at_its_coldest(small: Registry) -> None:
    engine = engine_for(small)
    events = excursions(feed(engine, readings(BLOOD, "temperature", [4.0, 2.0, 1.2, 1.8, 3.0] + [3.0] * 6)))
    assert events[-1].peak == 1.2 and events[-1].minutes_out_of_range == pytest.approx(3.0)

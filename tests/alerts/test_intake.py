"""What the rules engine may judge of a message: the fast path for the usual
reading against the definition (decode_reading, then canonical_reading)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.intake import Intake
from tests.support.edge_readings import NOW, WINDOW, edge_readings
from vigil.contract import ContractError, Envelope, Reading, Reason, decode_envelope
from vigil.registry import Registry

MS = 1_000_000


@pytest.fixture
def intake(small_registry: Registry) -> Intake:
    return Intake(small_registry, WINDOW)


def message(gateway: str, raws: list[object]) -> Envelope:
    return decode_envelope(json.dumps({"gateway": gateway, "seq": 1, "sent_at": NOW // MS, "readings": raws}, allow_nan=True))


def test_usual_readings_come_out_in_order_in_canonical_units(intake: Intake) -> None:
    t = NOW // MS - 1000
    readings, refused = intake.judge(message("gw-a", [
        {"sensor": "vac-fridge-1-temp", "metric": "temperature", "value": 4, "ts": t},
        {"sensor": "vac-fridge-1-temp", "metric": "temperature", "value": 41.0, "unit": "degF", "ts": t + 1},
        {"sensor": "vac-fridge-1-temp", "metric": "temperature", "value": -0.0, "ts": t + 2},
    ]), "gw-a", NOW)
    assert refused == []
    assert [(r.sensor, r.ts_ns) for r in readings] == [("vac-fridge-1-temp", (t + k) * MS) for k in range(3)]
    assert readings[0].value == 4.0 and type(readings[0].value) is float
    assert math.isclose(float(readings[1].value), 5.0)
    assert math.copysign(1.0, float(readings[2].value)) == 1.0  # -0.0 becomes 0.0, as the unit conversion makes it


def test_unusable_readings_are_refused_with_their_reasons_and_their_neighbours_kept(intake: Intake) -> None:
    t = NOW // MS - 1000
    readings, refused = intake.judge(message("gw-a", [
        {"sensor": "nope", "metric": "temperature", "value": 4.0, "ts": t},
        {"sensor": "vac-fridge-1-temp", "metric": "temperature", "value": 4.0, "ts": t},
        {"sensor": "vac-fridge-1-temp", "metric": "temperature", "value": 1e9, "ts": t + 1},
        {"sensor": "vac-fridge-1-temp", "metric": "temperature", "value": 4.0, "ts": t + 10_000_000},
    ]), "gw-a", NOW)
    assert [r.value for r in readings] == [4.0]
    assert refused == [Reason.UNKNOWN_SENSOR, Reason.IMPOSSIBLE_VALUE, Reason.FUTURE_TIME]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), gateway=st.sampled_from(["gw-a", "gw-b"]))
def test_fast_path_judges_exactly_what_the_full_path_judges(intake: Intake, small_registry: Registry,
                                                           data: st.DataObject, gateway: str) -> None:
    msg = message(gateway, data.draw(st.lists(edge_readings(small_registry, gateway), min_size=1, max_size=6)))
    readings, refused = intake.judge(msg, gateway, NOW)

    expected: list[Reading] = []
    reasons: list[Reason] = []
    for raw in msg.readings:
        try:
            expected.append(intake.judge_raw(raw, gateway, NOW))
        except ContractError as exc:
            reasons.append(exc.reason)
    assert [(r.sensor, r.metric, repr(r.value), r.ts_ns) for r in readings] == \
        [(r.sensor, r.metric, repr(r.value), r.ts_ns) for r in expected]
    assert refused == reasons

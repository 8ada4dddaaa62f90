"""The rule book: every rule of a facility, derived from the asset profiles
(with per-asset overrides) and the documented defaults, shown to people."""

from __future__ import annotations

import json
from datetime import timedelta

from alerts.model import RuleKind
from alerts.rules import CumulativeParams, RateOfChangeParams, RuleSpec, ThresholdParams, build_rules
from alerts.rules.defaults import RESOLVE_HOLD
from vigil.profiles import Severity
from vigil.registry import Registry


def kinds_of(book_rules: list[RuleSpec], sensor: str) -> set[tuple[str | None, RuleKind]]:
    return {(r.metric, r.kind) for r in book_rules if r.sensor == sensor}


def test_every_sensor_has_a_no_data_rule_and_every_gateway_an_offline_rule(every_profile: Registry) -> None:
    book = build_rules(every_profile)
    assert {r.sensor for r in book if r.kind is RuleKind.NO_DATA} == set(every_profile.sensors)
    assert {r.sensor for r in book if r.kind is RuleKind.GATEWAY_OFFLINE} == set(every_profile.gateways)
    offline = book.get("gw-oxygen_line/-/gateway_offline")
    assert offline is not None and offline.asset == "-" and offline.metric is None


def test_rule_ids_are_unique_and_name_sensor_metric_and_kind(small: Registry) -> None:
    book = build_rules(small)
    ids = [r.id for r in book]
    assert len(ids) == len(set(ids))
    for rule in book:
        sensor, metric, kind, *variant = rule.id.split("/")
        assert (sensor, kind) == (rule.sensor, rule.kind.value)
        assert metric == (rule.metric or "-")
        assert variant == ([rule.variant] if rule.variant else [])
    assert [r.id for r in build_rules(small)] == ids  # stable: the same registry gives the same ids


def test_vaccine_fridge_carries_the_who_indicator_set(small: Registry) -> None:
    book = build_rules(small)
    who = {r.variant: r for r in book.for_sensor("vac-fridge-1-temp") if r.variant and r.variant.startswith("who-")}
    assert set(who) == {"who-10c-20h", "who-30c-10h", "who-45c-1h", "who-freeze-1h"}
    ten = who["who-10c-20h"].params
    assert isinstance(ten, CumulativeParams) and (ten.high, ten.inclusive, ten.budget) == (10.0, True, timedelta(hours=20))
    thirty = who["who-30c-10h"].params
    assert isinstance(thirty, CumulativeParams) and (thirty.high, thirty.budget) == (30.0, timedelta(hours=10))
    freeze = who["who-freeze-1h"].params
    assert isinstance(freeze, ThresholdParams)
    assert (freeze.low, freeze.inclusive, freeze.delay) == (-0.5, True, timedelta(hours=1))
    hot = who["who-45c-1h"].params
    assert isinstance(hot, ThresholdParams) and (hot.high, hot.delay) == (45.0, timedelta(hours=1))
    assert all(r.severity is Severity.CRITICAL and "WHO PQS E006" in (r.source or "") for r in who.values())


def test_blood_products_count_time_outside_their_storage_range(every_profile: Registry) -> None:
    book = build_rules(every_profile)
    expected = {
        "blood_bank_fridge-1-s": (2.0, 6.0),
        "plasma_freezer-1-s": (None, -25.0),
        "platelet_incubator-1-s": (20.0, 24.0),
    }
    for sensor, bounds in expected.items():
        (rule,) = [r for r in book.for_sensor(sensor) if r.kind is RuleKind.CUMULATIVE]
        assert isinstance(rule.params, CumulativeParams)
        assert (rule.params.low, rule.params.high) == bounds
        assert rule.params.window == timedelta(hours=24)
    assert not [r for r in book.for_sensor("pharmacy_fridge-1-s") if r.kind is RuleKind.CUMULATIVE]


def test_each_family_gets_its_rules(every_profile: Registry) -> None:
    rules = list(build_rules(every_profile))
    assert kinds_of(rules, "vaccine_fridge-1-s") >= {
        ("temperature", RuleKind.THRESHOLD), ("door_open", RuleKind.THRESHOLD), ("temperature", RuleKind.CUMULATIVE),
        ("temperature", RuleKind.COMBINATION), ("temperature", RuleKind.STUCK), (None, RuleKind.NO_DATA),
    }  # fmt: skip
    assert kinds_of(rules, "oxygen_line-1-s") == {
        ("pressure", RuleKind.THRESHOLD), ("pressure", RuleKind.RATE_OF_CHANGE), ("pressure", RuleKind.STUCK), (None, RuleKind.NO_DATA),
    }  # fmt: skip
    assert kinds_of(rules, "water_main-1-s") == {
        ("flow", RuleKind.THRESHOLD), ("flow", RuleKind.NIGHT_FLOW), ("volume", RuleKind.COUNTER_STALLED),
        ("flow", RuleKind.STUCK), (None, RuleKind.NO_DATA),
    }  # fmt: skip
    assert kinds_of(rules, "electricity_submeter-1-s") == {
        ("voltage", RuleKind.THRESHOLD), ("energy", RuleKind.COUNTER_STALLED), ("voltage", RuleKind.STUCK),
        ("current", RuleKind.STUCK), (None, RuleKind.NO_DATA),
    }  # fmt: skip
    assert kinds_of(rules, "uv_lamp-1-s") == {
        ("intensity", RuleKind.THRESHOLD), ("intensity", RuleKind.PREDICTED_CROSSING), ("intensity", RuleKind.STUCK),
        (None, RuleKind.NO_DATA),
    }  # fmt: skip


def test_oxygen_sudden_drop_is_a_fifth_of_nominal_per_minute(small: Registry) -> None:
    rule = build_rules(small).get("o2-b1-p/pressure/rate_of_change")
    assert rule is not None and isinstance(rule.params, RateOfChangeParams)
    assert rule.params.drop_per_minute == 80.0  # the asset overrides nominal to 400 kPa
    assert rule.params.recovered_at == 320.0  # latched until back at the -20% area alarm limit


def test_uv_intensity_rules_order_the_right_work(small: Registry) -> None:
    book = build_rules(small)
    threshold, predicted = book.get("uv-or-1-s/intensity/threshold"), book.get("uv-or-1-s/intensity/predicted_crossing")
    assert threshold is not None and threshold.work_order == "replace_uv_lamp"
    assert isinstance(threshold.params, ThresholdParams) and threshold.params.gate is not None
    assert threshold.params.gate.warm_up == timedelta(minutes=5) and threshold.params.gate.lamp_metric == "lamp_on"
    assert predicted is not None and predicted.work_order == "planned_uv_lamp_replacement"


def test_asset_overrides_reach_the_rules(small: Registry) -> None:
    book = build_rules(small)
    threshold = book.get("vac-fridge-1-temp/temperature/threshold")
    assert threshold is not None and isinstance(threshold.params, ThresholdParams)
    assert (threshold.params.low, threshold.params.high) == (2.0, 7.5)  # the asset says 7.5 °C, the profile 8
    assert threshold.description == "below 2.0 °C or above 7.5 °C for 15 min, clears 0.3 °C inside"
    (excursion,) = [e for e in book.excursions if e.sensor == "vac-fridge-1-temp"]
    assert (excursion.low, excursion.high, excursion.product) == (2.0, 7.5, "vaccine")


def test_the_door_on_its_own_sensor_still_joins_the_temperature_combination(small: Registry) -> None:
    rule = build_rules(small).get("vac-fridge-1-temp/temperature/combination/door-open")
    assert rule is not None
    assert getattr(rule.params, "door_sensor", None) == "vac-fridge-1-door"


def test_threshold_resolve_hold_is_at_least_the_alarm_delay(small: Registry) -> None:
    book = build_rules(small)
    for rule in book:
        if isinstance(rule.params, ThresholdParams):
            assert rule.resolve_hold == max(RESOLVE_HOLD, rule.params.delay)
    fridge = book.get("vac-fridge-1-temp/temperature/threshold")
    assert fridge is not None and fridge.resolve_hold == timedelta(minutes=15)


def test_rule_book_describes_itself_as_json(small: Registry) -> None:
    described = build_rules(small).describe()
    text = json.dumps(described)
    first = described["rules"][0]
    assert first["id"] == "bb-fridge-1-temp/temperature/threshold"
    assert first["params"]["delay"] == 300.0 and first["source"]
    assert "excursions" in described and "who-10c-20h" in text

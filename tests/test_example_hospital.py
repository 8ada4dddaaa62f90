"""The example facility that `make run` and the demo load: it must stay valid,
cover every sensor family and asset profile, and keep the per-asset threshold
overrides an engineer would set."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from vigil.kinds import METRICS, SensorKind
from vigil.profiles import PROFILES
from vigil.registry import Registry, load_registry

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "hospital.yaml"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(EXAMPLE)


def test_example_hospital_is_one_site_in_shanghai_time(registry: Registry) -> None:
    assert len(registry.config.sites) == 1
    site = registry.config.sites[0]
    assert site.id == "central"
    assert site.timezone == "Asia/Shanghai"


def test_example_hospital_has_at_least_60_sensors(registry: Registry) -> None:
    assert len(registry.sensors) >= 60


def test_example_hospital_has_every_sensor_kind(registry: Registry) -> None:
    kinds = Counter(s.kind for s in registry.sensors.values())
    assert set(kinds) == set(SensorKind)


def test_example_hospital_covers_every_asset_profile(registry: Registry) -> None:
    used = {s.profile for s in registry.sensors.values()}
    assert used == set(PROFILES)


def test_example_hospital_every_gateway_has_a_sensor(registry: Registry) -> None:
    idle = [gw for gw in registry.gateways if not registry.sensors_of_gateway(gw)]
    assert idle == []
    assert 8 <= len(registry.gateways) <= 12


def test_example_hospital_has_at_least_three_buildings(registry: Registry) -> None:
    buildings = {s.building for s in registry.sensors.values()}
    assert len(buildings) >= 3
    assert len(registry.config.sites[0].buildings) >= 3


def test_example_hospital_every_building_has_an_electricity_and_a_water_main(registry: Registry) -> None:
    for profile in ("electricity_main", "water_main"):
        buildings = {s.building for s in registry.sensors.values() if s.profile == profile}
        # The energy centre's mains are the campus incomers.
        assert buildings == {"inpatient", "medtech", "surgical", "energy"}, profile


def test_example_hospital_every_metric_with_a_profile_threshold_is_judged(registry: Registry) -> None:
    # A sensor that reports a metric its profile sets limits for gets those limits.
    for sensor in registry.sensors.values():
        profile = PROFILES[sensor.profile]
        for metric in sensor.metrics:
            if metric in profile.thresholds:
                assert metric in sensor.thresholds, (sensor.id, metric)


def test_example_hospital_gas_sensors_report_only_their_own_metric(registry: Registry) -> None:
    expected = {"vacuum_line": ("vacuum",), "lox_tank": ("tank_level",)}
    for sensor in registry.sensors.values():
        if sensor.kind is SensorKind.MEDICAL_GAS:
            assert sensor.metrics == expected.get(sensor.profile, ("pressure",)), sensor.id


def test_example_hospital_shows_both_cold_chain_sensor_styles(registry: Registry) -> None:
    cold = [s for s in registry.sensors.values() if s.kind is SensorKind.COLD_CHAIN]
    combined = [s for s in cold if set(s.metrics) == set(METRICS[SensorKind.COLD_CHAIN])]
    temp_only = [s for s in cold if s.metrics == ("temperature",)]
    door_only = [s for s in cold if s.metrics == ("door_open",)]
    assert combined and temp_only and door_only
    # A split asset has both halves.
    assert {s.asset for s in temp_only} == {s.asset for s in door_only}


def test_example_hospital_vaccine_fridge_has_a_tighter_high_limit(registry: Registry) -> None:
    limits = registry.sensors["fridge-mt-vax-2-temp"].thresholds["temperature"]
    assert limits.effective_high == 7.0
    assert limits.effective_low == 2  # the rest of the profile still applies
    assert "temperature" not in registry.sensors["fridge-mt-vax-2-door"].thresholds
    assert registry.sensors["fridge-mt-vax-1-probe"].thresholds["temperature"].effective_high == 8


def test_example_hospital_theatre_oxygen_zone_is_nominal_400_kpa(registry: Registry) -> None:
    limits = registry.sensors["o2-sg-or-pt"].thresholds["pressure"]
    assert limits.nominal == 400
    assert (limits.effective_low, limits.effective_high) == (320, 480)
    # Other zones keep the profile's nominal.
    assert registry.sensors["o2-sg-icu-pt"].thresholds["pressure"].nominal == 360


def test_example_hospital_oxygen_source_alarms_15_percent_below_rated(registry: Registry) -> None:
    limits = registry.sensors["o2-ec-source-pt"].thresholds["pressure"]
    assert limits.effective_low == pytest.approx(382.5)


def test_example_hospital_big_water_mains_have_a_higher_burst_flow(registry: Registry) -> None:
    assert registry.sensors["water-main-site-meter"].thresholds["flow"].effective_high == 150
    assert registry.sensors["water-main-ip-meter"].thresholds["flow"].effective_high == 90
    assert registry.sensors["water-main-mt-meter"].thresholds["flow"].effective_high == 60
    assert registry.sensors["water-ec-cooling-tower-meter"].thresholds["flow"].effective_high == 30


def test_example_hospital_plant_overrides(registry: Registry) -> None:
    assert registry.sensors["lox-tank-1-lt"].thresholds["tank_level"].effective_low == 30
    assert registry.sensors["vac-ec-plant-pt"].thresholds["vacuum"].effective_low == 48
    generator = registry.sensors["elec-ec-generator-meter"].thresholds["voltage"]
    assert generator.effective_low == 0
    assert generator.effective_high == pytest.approx(242)


def test_example_hospital_has_calibration_dates_and_asset_details(registry: Registry) -> None:
    due = [s.calibration_due for s in registry.sensors.values() if s.calibration_due is not None]
    assert len(due) >= 5
    assert all(2026 <= d.year <= 2027 for d in due)
    assets = [a for b in registry.config.sites[0].buildings for f in b.floors for r in f.rooms for a in r.assets]
    assert any(a.model and a.serial for a in assets)


def test_example_hospital_clinical_rooms_name_their_department(registry: Registry) -> None:
    clinical = {"vaccine_fridge", "blood_bank_fridge", "plasma_freezer", "platelet_incubator", "uv_lamp"}
    missing = [s.id for s in registry.sensors.values() if s.profile in clinical and not s.department]
    assert missing == []

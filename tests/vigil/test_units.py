from __future__ import annotations

import pytest

from vigil.kinds import METRICS
from vigil.units import CONVERSIONS, UnitError, to_canonical


@pytest.mark.parametrize(
    ("value", "unit", "canonical", "expected"),
    [
        (41.0, "degF", "degC", 5.0),
        (-13.0, "°F", "degC", -25.0),
        (278.15, "K", "degC", 5.0),
        (50.0, "psi", "kPa", 344.738),
        (3.6, "bar", "kPa", 360.0),
        (0.36, "MPa", "kPa", 360.0),
        (12.0, "inHg", "kPa", 40.637),
        (1500.0, "Wh", "kWh", 1.5),
        (2500.0, "W", "kW", 2.5),
        (1.0, "W/m2", "uW/cm2", 100.0),
        (90.0, "μW/cm²", "uW/cm2", 90.0),
        (250.0, "L", "m3", 0.25),
        (1.0, "L/s", "m3/h", 3.6),
        (7.0, None, "degC", 7.0),
    ],
)
def test_reported_units_convert_to_canonical(value: float, unit: str | None, canonical: str, expected: float) -> None:
    assert to_canonical(value, unit, canonical) == pytest.approx(expected, abs=1e-3)


def test_unknown_or_incompatible_unit_names_what_is_accepted() -> None:
    with pytest.raises(UnitError, match=r"accepted: .*degF"):
        to_canonical(4.0, "kPa", "degC")


def test_every_metric_canonical_unit_has_a_conversion_table() -> None:
    for metrics in METRICS.values():
        for spec in metrics.values():
            assert spec.unit in CONVERSIONS, spec.name

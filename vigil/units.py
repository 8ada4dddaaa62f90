"""Conversion of reported units into each metric's canonical unit.

Every supported conversion is linear, canonical = value * scale + offset, so
the table is data and the hot path is one multiply-add.
"""

from __future__ import annotations

from dataclasses import dataclass

_INHG_KPA = 3.386389
_PSI_KPA = 6.894757


@dataclass(frozen=True, slots=True)
class Conversion:
    scale: float
    offset: float = 0.0

    def apply(self, value: float) -> float:
        return value * self.scale + self.offset


IDENTITY = Conversion(1.0)

# canonical unit -> {accepted spelling: conversion into the canonical unit}
CONVERSIONS: dict[str, dict[str, Conversion]] = {
    "degC": {
        "degC": IDENTITY, "°C": IDENTITY, "C": IDENTITY, "celsius": IDENTITY,
        "degF": Conversion(5 / 9, -32 * 5 / 9), "°F": Conversion(5 / 9, -32 * 5 / 9),
        "F": Conversion(5 / 9, -32 * 5 / 9), "fahrenheit": Conversion(5 / 9, -32 * 5 / 9),
        "K": Conversion(1.0, -273.15),
    },
    "kPa": {
        "kPa": IDENTITY, "Pa": Conversion(0.001), "MPa": Conversion(1000.0),
        "bar": Conversion(100.0), "mbar": Conversion(0.1),
        "psi": Conversion(_PSI_KPA), "psig": Conversion(_PSI_KPA),
        "inHg": Conversion(_INHG_KPA), "mmHg": Conversion(0.133322),
    },
    "uW/cm2": {
        "uW/cm2": IDENTITY, "μW/cm²": IDENTITY, "µW/cm²": IDENTITY, "uW/cm²": IDENTITY,
        "μW/cm2": IDENTITY, "µW/cm2": IDENTITY,
        "mW/cm2": Conversion(1000.0), "mW/cm²": Conversion(1000.0), "W/m2": Conversion(100.0), "W/m²": Conversion(100.0),
    },
    "h": {"h": IDENTITY, "min": Conversion(1 / 60), "s": Conversion(1 / 3600)},
    "%": {"%": IDENTITY},
    "kWh": {"kWh": IDENTITY, "Wh": Conversion(0.001), "MWh": Conversion(1000.0)},
    "kW": {"kW": IDENTITY, "W": Conversion(0.001), "MW": Conversion(1000.0)},
    "V": {"V": IDENTITY, "kV": Conversion(1000.0)},
    "A": {"A": IDENTITY, "mA": Conversion(0.001), "kA": Conversion(1000.0)},
    "1": {"1": IDENTITY, "": IDENTITY},
    "m3": {"m3": IDENTITY, "m³": IDENTITY, "L": Conversion(0.001), "l": Conversion(0.001)},
    "m3/h": {
        "m3/h": IDENTITY, "m³/h": IDENTITY,
        "L/s": Conversion(3.6), "l/s": Conversion(3.6), "L/min": Conversion(0.06), "l/min": Conversion(0.06),
    },
    "": {"": IDENTITY},
}


class UnitError(ValueError):
    """A reported unit that cannot be converted into the metric's canonical unit."""


def conversion_for(unit: str | None, canonical: str) -> Conversion:
    """The conversion from `unit` (None means canonical) into `canonical`."""
    if unit is None or unit == canonical:
        return IDENTITY
    accepted = CONVERSIONS.get(canonical, {})
    try:
        return accepted[unit]
    except KeyError:
        known = ", ".join(sorted(u for u in accepted if u)) or "none"
        raise UnitError(f"unit {unit!r} cannot be converted to {canonical or 'a boolean'} (accepted: {known})") from None


def to_canonical(value: float, unit: str | None, canonical: str) -> float:
    """`value` in `unit` expressed in the canonical unit."""
    return conversion_for(unit, canonical).apply(value)

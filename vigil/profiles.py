"""Asset profiles: the kinds of plant a hospital has, with the default alarm
thresholds the standards ask for (see shared/domain.md). A facility config
names a profile per asset and may override any threshold per asset.

Thresholds are stated in canonical units (vigil.kinds).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vigil.kinds import SensorKind


class Severity(StrEnum):
    CRITICAL = "critical"  # patient safety or product at risk now: page on-call
    WARNING = "warning"  # needs attention within the working day
    INFO = "info"


NonNegativeSeconds = Annotated[timedelta, Field(ge=timedelta(0))]


class Limits(BaseModel):
    """The acceptable range of one metric and how an excursion is judged.

    Either `low`/`high` directly, or `nominal` with `band_pct` (medical gas
    area alarms are set at +-20% of normal line pressure). Boolean metrics use
    `alarm_when` (a door left open). `delay` is the alarm delay: the value must
    stay out of range that long before an alarm fires, so a door opening does
    not page anyone. `clear_band` is the hysteresis: the value must come back
    inside the range by this much before the alarm clears.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: float | None = None
    high: float | None = None
    nominal: float | None = None
    band_pct: float | None = Field(default=None, gt=0, lt=100)
    alarm_when: bool | None = None
    delay: NonNegativeSeconds = timedelta(0)
    clear_band: float = Field(default=0.0, ge=0)
    severity: Severity = Severity.CRITICAL
    source: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.band_pct is not None and self.nominal is None:
            raise ValueError("band_pct needs a nominal value")
        lo, hi = self.effective_low, self.effective_high
        if lo is not None and hi is not None and lo >= hi:
            raise ValueError(f"low ({lo}) must be below high ({hi})")
        return self

    @property
    def effective_low(self) -> float | None:
        if self.low is not None:
            return self.low
        if self.nominal is not None and self.band_pct is not None:
            return round(self.nominal * (1 - self.band_pct / 100), 6)
        return None

    @property
    def effective_high(self) -> float | None:
        if self.high is not None:
            return self.high
        if self.nominal is not None and self.band_pct is not None:
            return round(self.nominal * (1 + self.band_pct / 100), 6)
        return None

    def merged(self, override: LimitsOverride) -> Limits:
        """These limits with every field the override sets replaced."""
        data = self.model_dump()
        data.update(override.model_dump(exclude_unset=True))
        # A new nominal re-derives the band limits unless low/high are given too.
        if "nominal" in override.model_fields_set or "band_pct" in override.model_fields_set:
            for bound in ("low", "high"):
                if bound not in override.model_fields_set:
                    data[bound] = None
        return Limits.model_validate(data)

    def summary(self) -> dict[str, object]:
        """The resolved limits, as shown to people and in `registry sensors`."""
        out: dict[str, object] = {}
        if self.effective_low is not None:
            out["low"] = self.effective_low
        if self.effective_high is not None:
            out["high"] = self.effective_high
        if self.nominal is not None:
            out["nominal"] = self.nominal
        if self.alarm_when is not None:
            out["alarm_when"] = self.alarm_when
        out["delay_s"] = int(self.delay.total_seconds())
        if self.clear_band:
            out["clear_band"] = self.clear_band
        out["severity"] = self.severity.value
        if self.source:
            out["source"] = self.source
        return out


class LimitsOverride(BaseModel):
    """A per-asset override: only the fields given replace the profile's."""

    model_config = ConfigDict(extra="forbid")

    low: float | None = None
    high: float | None = None
    nominal: float | None = None
    band_pct: float | None = Field(default=None, gt=0, lt=100)
    alarm_when: bool | None = None
    delay: NonNegativeSeconds | None = None
    clear_band: float | None = Field(default=None, ge=0)
    severity: Severity | None = None


class AssetProfile(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    kind: SensorKind
    description: str
    product: str | None = None  # the stored product, for cold chain
    thresholds: dict[str, Limits] = {}
    # What a sensor of this profile reports when its config lists no metrics;
    # None means every metric of the kind. An oxygen line has no tank level.
    default_metrics: tuple[str, ...] | None = None


def _minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


_DOOR = Limits(alarm_when=True, delay=_minutes(10), severity=Severity.WARNING, source="door left open")
_O2_NOMINAL_KPA = 360.0  # 50-55 psig ~ 345-380 kPa (NFPA 99)

PROFILES: dict[str, AssetProfile] = {
    p.name: p
    for p in [
        AssetProfile(
            name="vaccine_fridge", kind=SensorKind.COLD_CHAIN, product="vaccine",
            description="Vaccine refrigerator, 2-8 °C",
            thresholds={
                "temperature": Limits(low=2, high=8, delay=_minutes(15), clear_band=0.3, source="CDC/VFC 2-8 °C"),
                "door_open": _DOOR,
            },
        ),
        AssetProfile(
            name="pharmacy_fridge", kind=SensorKind.COLD_CHAIN, product="pharmacy",
            description="Pharmacy controlled-cold refrigerator, 2-8 °C",
            thresholds={
                "temperature": Limits(low=2, high=8, delay=_minutes(15), clear_band=0.3, source="USP controlled cold 2-8 °C"),
                "door_open": _DOOR,
            },
        ),
        AssetProfile(
            name="blood_bank_fridge", kind=SensorKind.COLD_CHAIN, product="red_cells",
            description="Blood-bank refrigerator for red cells and whole blood, 2-6 °C",
            thresholds={
                # Alarm set points 0.5 °C inside the 2-6 °C storage range (AABB).
                "temperature": Limits(low=2.5, high=5.5, delay=_minutes(5), clear_band=0.2, source="AABB 2-6 °C, alarms 0.5 °C inside"),
                "door_open": _DOOR,
            },
        ),
        AssetProfile(
            name="plasma_freezer", kind=SensorKind.COLD_CHAIN, product="plasma",
            description="Plasma (FFP) and cryoprecipitate freezer, at or below -25 °C",
            thresholds={
                "temperature": Limits(high=-25, delay=_minutes(15), clear_band=1.0, source="AU/UK plasma <= -25 °C"),
                "door_open": _DOOR,
            },
        ),
        AssetProfile(
            name="platelet_incubator", kind=SensorKind.COLD_CHAIN, product="platelets",
            description="Platelet incubator with agitator, 20-24 °C",
            thresholds={
                "temperature": Limits(low=20, high=24, delay=_minutes(15), clear_band=0.3, source="platelets 20-24 °C"),
                "door_open": _DOOR,
            },
        ),
        AssetProfile(
            name="uv_lamp", kind=SensorKind.UV_LAMP,
            description="UV-C germicidal lamp (30 W), intensity at 1 m",
            thresholds={
                # Judged only while the lamp is on and warmed up (rules, issue 5).
                "intensity": Limits(low=70, delay=_minutes(5), severity=Severity.WARNING, source="WS/T 367-2012: in use >= 70 μW/cm²"),
            },
        ),
        AssetProfile(
            name="oxygen_line", kind=SensorKind.MEDICAL_GAS, default_metrics=("pressure",),
            description="Oxygen pipeline zone",
            thresholds={
                "pressure": Limits(nominal=_O2_NOMINAL_KPA, band_pct=20, delay=timedelta(seconds=30), source="NFPA 99 area alarm ±20%"),
            },
        ),
        AssetProfile(
            name="medical_air_line", kind=SensorKind.MEDICAL_GAS, default_metrics=("pressure",),
            description="Medical air pipeline zone",
            thresholds={
                "pressure": Limits(nominal=_O2_NOMINAL_KPA, band_pct=20, delay=timedelta(seconds=30), source="NFPA 99 area alarm ±20%"),
            },
        ),
        AssetProfile(
            name="nitrous_oxide_line", kind=SensorKind.MEDICAL_GAS, default_metrics=("pressure",),
            description="Nitrous oxide pipeline zone",
            thresholds={
                "pressure": Limits(nominal=_O2_NOMINAL_KPA, band_pct=20, delay=timedelta(seconds=30), source="NFPA 99 area alarm ±20%"),
            },
        ),
        AssetProfile(
            name="vacuum_line", kind=SensorKind.MEDICAL_GAS, default_metrics=("vacuum",),
            description="Medical vacuum pipeline zone",
            thresholds={
                # 12 inHg below atmosphere; there is no high-vacuum alarm.
                "vacuum": Limits(low=40.6, delay=timedelta(seconds=30), source="NFPA 99 low vacuum 12 inHg"),
            },
        ),
        AssetProfile(
            name="lox_tank", kind=SensorKind.MEDICAL_GAS, default_metrics=("tank_level",),
            description="Bulk liquid oxygen tank",
            thresholds={
                "tank_level": Limits(low=20, delay=_minutes(5), severity=Severity.WARNING, source="bulk tank low (reorder) level"),
            },
        ),
        AssetProfile(
            name="electricity_main", kind=SensorKind.ELECTRICITY_METER,
            description="Building incoming electricity supply meter",
            thresholds={
                # A voltage collapse is an outage; the generator must restore it within 10 s (NFPA 110).
                "voltage": Limits(nominal=220, band_pct=10, delay=timedelta(seconds=10), source="supply voltage ±10%; NFPA 110 10 s"),
                "power_factor": Limits(low=0.85, delay=_minutes(15), severity=Severity.WARNING, source="utility power-factor target"),
            },
        ),
        AssetProfile(
            name="electricity_submeter", kind=SensorKind.ELECTRICITY_METER,
            description="Department or plant sub-meter",
            thresholds={
                "voltage": Limits(nominal=220, band_pct=10, delay=timedelta(seconds=10), source="supply voltage ±10%"),
            },
        ),
        AssetProfile(
            name="water_main", kind=SensorKind.WATER_METER,
            description="Building incoming water main",
            thresholds={
                "flow": Limits(high=60, delay=_minutes(5), source="burst: flow far above the day peak"),
            },
        ),
        AssetProfile(
            name="water_submeter", kind=SensorKind.WATER_METER,
            description="Department or plant water sub-meter",
            thresholds={
                "flow": Limits(high=15, delay=_minutes(5), source="burst: flow far above the day peak"),
            },
        ),
    ]
}

"""A simulated facility: one plant per asset (per sensor kind), one sensor
model per sensor, sampled on each sensor's interval in time order.

Everything random is drawn from streams seeded by (seed, asset) for the
physics and (seed, sensor) for the instruments, so a seed fixes the
readings, and two simulations of different gateways of one facility see the
same physics for an asset they share.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from simulators.cold_chain import Refrigerator
from simulators.electricity import ElectricitySupply
from simulators.medical_gas import GasPipeline, LiquidOxygenTank, VacuumLine
from simulators.model import SensorModel
from simulators.plant import FaultParams, Plant
from simulators.scenarios import SCENARIOS, Scenario
from simulators.seeding import seeded_rng
from simulators.site_time import NS_PER_S, SiteClock
from simulators.uv_lamp import UvLamp
from simulators.water import WaterSupply
from vigil.contract import Reading
from vigil.kinds import SensorKind
from vigil.profiles import Limits
from vigil.registry import Registry, Sensor


def build_plant(
    kind: SensorKind, profile: str, limits: Mapping[str, Limits], rng: random.Random, start_ns: int, clock: SiteClock
) -> Plant:
    """The plant model for an asset of `profile` measured by sensors of `kind`
    (a sensor of another kind than its profile's gets that kind's generic plant)."""
    if kind is SensorKind.COLD_CHAIN:
        return Refrigerator(rng, start_ns, clock, limits)
    if kind is SensorKind.UV_LAMP:
        return UvLamp(rng, start_ns, clock, limits)
    if kind is SensorKind.MEDICAL_GAS:
        if profile == "vacuum_line":
            return VacuumLine(rng, start_ns, clock, limits)
        if profile == "lox_tank":
            return LiquidOxygenTank(rng, start_ns, clock, limits)
        return GasPipeline(rng, start_ns, clock, limits)
    if kind is SensorKind.ELECTRICITY_METER:
        return ElectricitySupply(rng, start_ns, clock, limits, main=profile == "electricity_main")
    if kind is SensorKind.WATER_METER:
        return WaterSupply(rng, start_ns, clock, limits, main=profile == "water_main")
    raise ValueError(f"no simulator for sensor kind {kind!r}")


@dataclass(frozen=True, slots=True)
class Injection:
    """A scenario applied to one asset: which sensors carry it, from when, until when."""

    scenario: Scenario
    asset: str
    sensors: tuple[str, ...]
    at_ns: int
    until_ns: int | None


class Simulation:
    """The sensors of `registry` (only those of `gateways`, if given),
    simulated from `start_ns` with `seed`."""

    def __init__(self, registry: Registry, seed: int | str, start_ns: int, gateways: Iterable[str] | None = None) -> None:
        wanted = None if gateways is None else set(gateways)
        if wanted is not None and (unknown := wanted - registry.gateways.keys()):
            raise ValueError(f"unknown gateways {sorted(unknown)} (known: {', '.join(sorted(registry.gateways))})")
        self.registry = registry
        self.seed = seed
        self.start_ns = start_ns
        self.now_ns = start_ns  # the end of the time simulated so far
        timezones = {site.id: site.timezone for site in registry.config.sites}
        plants: dict[tuple[str, SensorKind], Plant] = {}
        self.models: dict[str, SensorModel] = {}
        for sensor in registry.sensors.values():
            if wanted is not None and sensor.gateway not in wanted:
                continue
            key = (sensor.asset, sensor.kind)
            if key not in plants:
                plants[key] = build_plant(
                    sensor.kind, sensor.profile, self._asset_limits(sensor), seeded_rng(seed, "plant", *key),
                    start_ns, SiteClock(timezones.get(sensor.site, "UTC")),
                )  # fmt: skip
            self.models[sensor.id] = SensorModel(sensor, plants[key], seeded_rng(seed, "sensor", sensor.id))
        self._due = {sid: start_ns for sid in self.models}
        self._interval_ns = {sid: int(m.interval_s * NS_PER_S) for sid, m in self.models.items()}

    def _asset_limits(self, sensor: Sensor) -> dict[str, Limits]:
        # From every sensor of the asset, not only the simulated ones, so each
        # gateway's simulation of a shared asset has the same set points.
        limits: dict[str, Limits] = {}
        for other in self.registry.sensors.values():
            if other.asset == sensor.asset and other.kind is sensor.kind:
                limits.update(other.thresholds)
        return limits

    def readings_between(self, t0_ns: int, t1_ns: int) -> Iterator[Reading]:
        """Every reading due in [t0_ns, t1_ns), in time order.

        Each sensor samples at start + k * interval. Samples already produced
        are not produced again; a window that skips ahead leaves a gap in the
        readings, not in the physics.
        """
        heap: list[tuple[int, int, str]] = []
        for order, sensor_id in enumerate(self.models):
            due, step = self._due[sensor_id], self._interval_ns[sensor_id]
            if due < t0_ns:
                due += -(-(t0_ns - due) // step) * step
            if due < t1_ns:
                heap.append((due, order, sensor_id))
        heapq.heapify(heap)
        models, intervals, dues = self.models, self._interval_ns, self._due
        while heap:
            t, order, sensor_id = heap[0]
            readings = models[sensor_id].sample(t)
            following = t + intervals[sensor_id]
            dues[sensor_id] = following
            if following < t1_ns:
                heapq.heapreplace(heap, (following, order, sensor_id))
            else:
                heapq.heappop(heap)
            self.now_ns = max(self.now_ns, t)
            yield from readings
        self.now_ns = max(self.now_ns, t1_ns)

    def inject(
        self, scenario: str | Scenario, asset: str | None = None, at_ns: int | None = None, **params: float | str
    ) -> Injection:
        """Apply `scenario` to `asset` (default: the first asset it fits) from
        `at_ns` (default: now); `params` override the scenario's. A scenario
        with a duration clears itself."""
        sc = _scenario(scenario)
        merged: FaultParams = {**sc.params, **params}
        targets = self._targets(sc, asset, merged)
        at = self.now_ns if at_ns is None else at_ns
        until = at + int(sc.duration.total_seconds() * NS_PER_S) if sc.duration is not None else None
        injected_plants: set[int] = set()
        for model in targets:
            if sc.fault in model.plant.faults_known:
                if id(model.plant) in injected_plants:
                    continue  # one plant, several sensors: inject the physics once
                injected_plants.add(id(model.plant))
            model.inject(sc.fault, at, **merged)
            if until is not None:
                model.clear(sc.fault, until)
        return Injection(sc, targets[0].sensor.asset, tuple(m.sensor.id for m in targets), at, until)

    def clear(self, scenario: str | Scenario, asset: str | None = None, at_ns: int | None = None) -> None:
        """End `scenario` on `asset` (default: the first asset it fits) at `at_ns` (default: now)."""
        sc = _scenario(scenario)
        at = self.now_ns if at_ns is None else at_ns
        for model in self._targets(sc, asset, sc.params):
            model.clear(sc.fault, at)

    def _targets(self, sc: Scenario, asset: str | None, params: FaultParams) -> list[SensorModel]:
        fitting = [m for m in self.models.values() if sc.applies_to(m.sensor) and m.accepts(sc.fault, params)]
        if asset is None:
            if not fitting:
                raise ValueError(f"no simulated asset fits scenario {sc.name!r} (profiles: {', '.join(sorted(sc.profiles))})")
            asset = fitting[0].sensor.asset
        chosen = [m for m in fitting if m.sensor.asset == asset]
        if not chosen:
            profiles = {m.sensor.profile for m in self.models.values() if m.sensor.asset == asset}
            if not profiles:
                raise ValueError(f"asset {asset!r} is not simulated here")
            raise ValueError(
                f"scenario {sc.name!r} does not fit asset {asset!r} (profile {', '.join(sorted(profiles))}; "
                f"it fits {', '.join(sorted(sc.profiles))})"
            )
        return chosen


def _scenario(scenario: str | Scenario) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    try:
        return SCENARIOS[scenario]
    except KeyError:
        raise ValueError(f"unknown scenario {scenario!r} (known: {', '.join(sorted(SCENARIOS))})") from None

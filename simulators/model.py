"""What one sensor reports of its plant: the plant's true value plus the
instrument's own noise and resolution, in canonical units, and the faults
that belong to the instrument rather than the plant (a stuck probe or
register, a dirty sensor window).

Several sensors of one asset share one plant, so a door contact and a
temperature probe on the same fridge see the same door openings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulators.plant import Fault, FaultParams, FaultSchedule, Plant, Value
from vigil.contract import Reading
from vigil.kinds import METRICS, MetricSpec, SensorKind, ValueType
from vigil.registry import Sensor

SENSOR_FAULTS = frozenset({"stuck", "dirty-sensor"})
METERS = frozenset({SensorKind.ELECTRICITY_METER, SensorKind.WATER_METER})


@dataclass(frozen=True, slots=True)
class Instrument:
    """How a metric is measured: noise (absolute and relative standard
    deviation) and the decimals it is reported with."""

    noise_abs: float = 0.0
    noise_rel: float = 0.0
    decimals: int = 3


# Counters carry no noise: a meter register only ever moves forward.
INSTRUMENTS: dict[str, Instrument] = {
    "temperature": Instrument(noise_abs=0.03, decimals=2),
    "intensity": Instrument(noise_abs=0.5, noise_rel=0.005, decimals=1),
    "burn_hours": Instrument(decimals=2),
    "pressure": Instrument(noise_abs=0.4, decimals=1),
    "vacuum": Instrument(noise_abs=0.15, decimals=1),
    "tank_level": Instrument(noise_abs=0.1, decimals=1),
    "energy": Instrument(decimals=3),
    "power": Instrument(noise_rel=0.005, decimals=2),
    "voltage": Instrument(noise_abs=0.3, decimals=1),
    "current": Instrument(noise_rel=0.005, decimals=1),
    "power_factor": Instrument(noise_abs=0.002, decimals=3),
    "volume": Instrument(decimals=4),
    "flow": Instrument(noise_rel=0.01, decimals=3),
}


class SensorModel:
    """The simulated sensor `sensor`, reading `plant` every `interval_s`.

    `sample(t_ns)` returns one reading per metric of the sensor that the plant
    has a value for at that moment (a UV sensor reports no intensity while
    its lamp is off). Calls must come in non-decreasing time.
    """

    def __init__(self, sensor: Sensor, plant: Plant, rng: random.Random, interval_s: float | None = None) -> None:
        self.sensor = sensor
        self.plant = plant
        self.rng = rng
        self.interval_s = plant.interval_s if interval_s is None else interval_s
        self.faults = FaultSchedule(SENSOR_FAULTS, f"sensor {sensor.id}")
        specs = METRICS[sensor.kind]
        self._metrics: list[tuple[str, MetricSpec, Instrument]] = [
            (m, specs[m], INSTRUMENTS.get(m, Instrument())) for m in sensor.metrics if m in plant.measures
        ]
        self._last: dict[str, Value] = {}
        self._held: dict[str, Value | None] = {}  # stuck metric -> the value it repeats
        self._dirty: dict[str, float] = {}  # metric -> transmission of the dirty window

    @property
    def faults_known(self) -> frozenset[str]:
        """Every fault this sensor accepts: its plant's and its own."""
        return self.plant.faults_known | SENSOR_FAULTS

    @property
    def reported_metrics(self) -> tuple[str, ...]:
        """The sensor's metrics that its plant has values for."""
        return tuple(m for m, _, _ in self._metrics)

    def default_fault_metric(self, fault: str) -> str | None:
        """The metric a sensor fault hits when none is named: a stuck meter
        freezes its counter, a stuck probe its measured value."""
        numeric = [m for m, spec, _ in self._metrics if spec.value_type is ValueType.NUMBER]
        if fault == "stuck":
            counters = [m for m, spec, _ in self._metrics if spec.counter]
            if counters and self.sensor.kind in METERS:
                return counters[0]
        plain = [m for m in numeric if not METRICS[self.sensor.kind][m].counter]
        return plain[0] if plain else (numeric[0] if numeric else None)

    def accepts(self, fault: str, params: FaultParams | None = None) -> bool:
        """Whether injecting `fault` with `params` means anything for this sensor."""
        if fault in self.plant.faults_known:
            return True
        if fault not in SENSOR_FAULTS:
            return False
        metric = (params or {}).get("metric") or self.default_fault_metric(fault)
        return metric in self.reported_metrics

    def inject(self, fault: str, at_ns: int, **params: float | str) -> None:
        """Inject `fault` from `at_ns`. Plant faults affect every sensor of the
        asset; `stuck` and `dirty-sensor` (params: metric, transmission) only
        this one."""
        if fault in self.plant.faults_known:
            self.plant.inject(fault, at_ns, params)
            return
        if fault not in SENSOR_FAULTS:
            raise ValueError(f"sensor {self.sensor.id} has no fault {fault!r} (known: {', '.join(sorted(self.faults_known))})")
        if not self.accepts(fault, params):
            metric = params.get("metric") or self.default_fault_metric(fault)
            raise ValueError(f"sensor {self.sensor.id} does not report {metric!r}, the metric of fault {fault!r}")
        self.faults.inject(fault, at_ns, params)

    def clear(self, fault: str, at_ns: int) -> None:
        """End `fault` at `at_ns`."""
        if fault in self.plant.faults_known:
            self.plant.clear(fault, at_ns)
        else:
            self.faults.clear(fault, at_ns)

    def _apply_sensor_faults(self, t_ns: int) -> None:
        self.faults.update(t_ns)
        active = self.faults.active
        stuck = active.get("stuck")
        stuck_metric = self._fault_metric(stuck) if stuck else None
        self._held = {m: v for m, v in self._held.items() if m == stuck_metric}
        if stuck_metric is not None and stuck_metric not in self._held:
            # It repeats what it last said before it stuck (or its next value, if none).
            self._held[stuck_metric] = self._last.get(stuck_metric)
        dirty = active.get("dirty-sensor")
        self._dirty = {}
        if dirty is not None:
            self._dirty[self._fault_metric(dirty)] = dirty.number("transmission", 0.6)

    def _fault_metric(self, fault: Fault) -> str:
        metric = fault.params.get("metric") or self.default_fault_metric(fault.name)
        return str(metric)

    def sample(self, t_ns: int) -> list[Reading]:
        """The readings this sensor reports at `t_ns`."""
        self.plant.advance(t_ns)
        if t_ns >= self.faults.next_change_ns or self.faults.active:
            self._apply_sensor_faults(t_ns)
        plant, rng, sensor_id = self.plant, self.rng, self.sensor.id
        dirty, held = self._dirty, self._held
        readings: list[Reading] = []
        for metric, spec, inst in self._metrics:
            true = plant.value(metric, t_ns)
            if true is None:
                continue
            value: Value
            if isinstance(true, bool):
                value = true
            else:
                x = true
                if inst.noise_abs:
                    x += rng.gauss(0.0, inst.noise_abs)
                if inst.noise_rel:
                    x *= 1.0 + rng.gauss(0.0, inst.noise_rel)
                if dirty and metric in dirty:
                    x *= dirty[metric]
                # Clamp to what is physically possible (spec bounds), as a real transmitter does.
                low, high = spec.minimum, spec.maximum
                if low is not None and x < low:
                    x = low
                elif high is not None and x > high:
                    x = high
                value = round(x, inst.decimals)
            if held and metric in held:
                repeated = held[metric]
                if repeated is None:
                    held[metric] = value
                else:
                    value = repeated
            self._last[metric] = value
            readings.append(Reading(sensor_id, metric, value, t_ns))
        return readings

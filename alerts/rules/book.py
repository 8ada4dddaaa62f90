"""The rule book of a facility: every rule on every sensor and gateway,
derived from the asset profiles as resolved per asset by the registry
(`Sensor.thresholds`, overrides included) and the defaults in
`alerts.rules.defaults`.

Per sensor kind:
- every sensor: a threshold rule per metric with limits, no data, and a
  stuck rule per analog metric listed in `STUCK_AFTER`;
- cold chain: product exposure rules (vaccine: the WHO PQS set; red cells,
  plasma, platelets: cumulative time outside their range), an excursion
  watch, and "door left open with the temperature out of range";
- medical gas pipelines: a sudden-drop (rate of change) rule on pressure;
- water: night flow and a stalled volume register (besides the burst limit);
- electricity: a stalled energy register (besides the voltage limits);
- UV lamps: the intensity threshold is judged only while the lamp is on and
  warmed up, and a predicted crossing plans the replacement;
- every gateway: offline.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from alerts.model import RuleKind
from alerts.rules import defaults as d
from alerts.rules.spec import (
    CounterStalledParams,
    CumulativeParams,
    DoorAndTemperatureParams,
    ExcursionSpec,
    GatewayOfflineParams,
    LampGate,
    NightFlowParams,
    NoDataParams,
    PredictedCrossingParams,
    RateOfChangeParams,
    RuleBook,
    RuleParams,
    RuleSpec,
    StuckParams,
    ThresholdParams,
)
from alerts.rules.wording import bounds_text, duration, metric_words, quantity, unit_of
from vigil.kinds import SensorKind
from vigil.profiles import PROFILES, Limits, Severity
from vigil.registry import Registry, Sensor

_NONE = timedelta(0)


def build_rules(registry: Registry) -> RuleBook:
    """Every rule of `registry`'s facility, in registry order (sensors, then gateways)."""
    timezones = {site.id: site.timezone for site in registry.config.sites}
    rules: list[RuleSpec] = []
    excursions: list[ExcursionSpec] = []
    for sensor in registry.sensors.values():
        rules.extend(_sensor_rules(registry, sensor, timezones.get(sensor.site, "UTC")))
        excursion = _excursion(sensor)
        if excursion is not None:
            excursions.append(excursion)
    for gateway in registry.gateways.values():
        carried = registry.sensors_of_gateway(gateway.id)
        severity = max((_watch_severity(s) for s in carried), key=d.SEVERITY_ORDER.__getitem__, default=Severity.WARNING)
        rules.append(
            RuleSpec(
                id=f"{gateway.id}/-/{RuleKind.GATEWAY_OFFLINE.value}", kind=RuleKind.GATEWAY_OFFLINE, sensor=gateway.id,
                asset="-", metric=None, severity=severity, description=f"offline for {duration(d.GATEWAY_OFFLINE_AFTER)}",
                source=d.GATEWAY_OFFLINE_SOURCE, params=GatewayOfflineParams(d.GATEWAY_OFFLINE_AFTER, len(carried)),
                resolve_hold=d.RESOLVE_HOLD, max_gap=d.GATEWAY_OFFLINE_AFTER,
            )
        )  # fmt: skip
    return RuleBook(tuple(rules), tuple(excursions))


def _watch_severity(sensor: Sensor) -> Severity:
    """A silent or stuck sensor is as serious as the worst thing it watches."""
    return max((lim.severity for lim in sensor.thresholds.values()), key=d.SEVERITY_ORDER.__getitem__, default=Severity.WARNING)


def _rule(
    sensor: Sensor, metric: str | None, kind: RuleKind, severity: Severity, description: str, source: str | None,
    params: RuleParams, *, variant: str | None = None, hold: timedelta = d.RESOLVE_HOLD, work_order: str | None = None,
) -> RuleSpec:  # fmt: skip
    rule_id = f"{sensor.id}/{metric or '-'}/{kind.value}" + (f"/{variant}" if variant else "")
    return RuleSpec(
        id=rule_id, kind=kind, sensor=sensor.id, asset=sensor.asset, metric=metric, severity=severity,
        description=description, source=source, params=params,
        resolve_hold=hold, max_gap=d.NO_DATA_AFTER[sensor.kind], work_order=work_order, variant=variant,
    )  # fmt: skip


def _threshold_description(p: ThresholdParams, metric: str, unit: str) -> str:
    held = f" for {duration(p.delay)}" if p.delay else ""
    if p.alarm_when is not None:
        return f"{metric_words(metric) if p.alarm_when else 'not ' + metric_words(metric)}{held}"
    text = f"{bounds_text(p.low, p.high, unit, p.inclusive)}{held}"
    if p.clear_band:
        text += f", clears {quantity(p.clear_band, unit)} inside"
    if p.gate is not None:
        text += f", judged while the lamp is on after {duration(p.gate.warm_up)} warm-up"
    return text


def _lamp_gate(registry: Registry, sensor: Sensor) -> LampGate:
    if "lamp_on" in sensor.metrics:
        return LampGate(sensor.id, "lamp_on", d.UV_WARM_UP)
    for other in registry.sensors.values():
        if other.asset == sensor.asset and other.kind is SensorKind.UV_LAMP and "lamp_on" in other.metrics:
            return LampGate(other.id, "lamp_on", d.UV_WARM_UP)
    return LampGate(sensor.id, None, d.UV_WARM_UP)


def _sensor_rules(registry: Registry, sensor: Sensor, timezone: str) -> list[RuleSpec]:
    rules: list[RuleSpec] = []
    kind = sensor.kind
    for metric, limits in sensor.thresholds.items():
        if metric not in sensor.metrics:
            continue
        if limits.alarm_when is None and limits.effective_low is None and limits.effective_high is None:
            continue  # an override that sets only a delay: nothing to judge
        gate, work_order, source = None, None, limits.source
        if kind is SensorKind.UV_LAMP and metric == "intensity":
            gate, work_order = _lamp_gate(registry, sensor), d.UV_REPLACE_WORK_ORDER
        elif kind is SensorKind.COLD_CHAIN and metric == "temperature":
            work_order = d.FRIDGE_SERVICE_WORK_ORDER  # out of its band: a technician looks at it
        elif kind is SensorKind.WATER_METER and metric == "flow":
            work_order = d.LEAK_WORK_ORDER  # a burst
        params = ThresholdParams(
            low=limits.effective_low, high=limits.effective_high, alarm_when=limits.alarm_when, delay=limits.delay,
            clear_band=limits.clear_band, gate=gate,
        )  # fmt: skip
        unit = unit_of(sensor, metric)
        rules.append(
            _rule(sensor, metric, RuleKind.THRESHOLD, limits.severity, _threshold_description(params, metric, unit), source,
                  params, work_order=work_order, hold=max(d.RESOLVE_HOLD, limits.delay))
        )  # fmt: skip
    if kind is SensorKind.COLD_CHAIN:
        rules.extend(_cold_chain_rules(registry, sensor))
    elif kind is SensorKind.MEDICAL_GAS:
        rules.extend(_gas_rules(sensor))
    elif kind is SensorKind.WATER_METER and "flow" in sensor.metrics:
        params_n = NightFlowParams(timezone, d.NIGHT_START_HOUR, d.NIGHT_END_HOUR, d.NIGHT_MIN_COVERAGE)
        rules.append(
            _rule(sensor, "flow", RuleKind.NIGHT_FLOW, Severity.WARNING,
                  f"flow never zero {d.NIGHT_START_HOUR:02d}:00-{d.NIGHT_END_HOUR:02d}:00 local time", d.NIGHT_FLOW_SOURCE,
                  params_n, hold=_NONE, work_order=d.LEAK_WORK_ORDER)
        )  # fmt: skip
    elif kind is SensorKind.UV_LAMP:
        rules.extend(_uv_rules(registry, sensor))
    if kind in d.COUNTER_RATE_OF:
        counter, rate = d.COUNTER_RATE_OF[kind]
        if counter in sensor.metrics and rate in sensor.metrics:
            rules.append(
                _rule(sensor, counter, RuleKind.COUNTER_STALLED, Severity.WARNING,
                      f"{metric_words(counter)} unchanged for {duration(d.COUNTER_STALLED_AFTER)} while {metric_words(rate)} > 0",
                      d.COUNTER_STALLED_SOURCE, CounterStalledParams(rate, d.COUNTER_STALLED_AFTER))
            )  # fmt: skip
    watch = _watch_severity(sensor)
    for metric in sensor.metrics:
        after = d.STUCK_AFTER.get((kind, metric))
        if after is not None:
            rules.append(
                _rule(sensor, metric, RuleKind.STUCK, watch,
                      f"the same value for {duration(after)} and at least {d.STUCK_MIN_READINGS} readings",
                      d.STUCK_SOURCE, StuckParams(after, d.STUCK_MIN_READINGS))
            )  # fmt: skip
    no_data = d.NO_DATA_AFTER[kind]
    rules.append(
        _rule(sensor, None, RuleKind.NO_DATA, watch, f"no reading for {duration(no_data)}",
              d.NO_DATA_SOURCE.get(kind, d.NO_DATA_DEFAULT_SOURCE), NoDataParams(no_data, sensor.gateway))
    )  # fmt: skip
    return rules


def _cold_chain_rules(registry: Registry, sensor: Sensor) -> list[RuleSpec]:
    rules: list[RuleSpec] = []
    temperature = sensor.thresholds.get("temperature")
    if temperature is None or "temperature" not in sensor.metrics:
        return rules
    unit = unit_of(sensor, "temperature")
    product = PROFILES[sensor.profile].product
    for budget in d.PRODUCT_BUDGETS.get(product or "", ()):
        bounds = bounds_text(budget.low, budget.high, unit, budget.inclusive)
        if budget.window is None:  # a single unbroken event: a threshold with that delay
            params: RuleParams = ThresholdParams(budget.low, budget.high, None, budget.budget, 0.0, inclusive=budget.inclusive)
            rules.append(
                _rule(sensor, "temperature", RuleKind.THRESHOLD, Severity.CRITICAL, f"{bounds} for {duration(budget.budget)}",
                      budget.source, params, variant=budget.variant, hold=max(d.RESOLVE_HOLD, budget.budget))
            )  # fmt: skip
        else:
            params = CumulativeParams(budget.low, budget.high, budget.inclusive, budget.budget, budget.window)
            rules.append(
                _rule(sensor, "temperature", RuleKind.CUMULATIVE, Severity.CRITICAL,
                      f"{bounds} for {duration(budget.budget)} in total within {duration(budget.window)}",
                      budget.source, params, variant=budget.variant)
            )  # fmt: skip
    door = _door_of(registry, sensor)
    if door is not None:
        door_sensor, door_limits = door
        params = DoorAndTemperatureParams(
            door_sensor.id, "door_open", door_limits.delay, temperature.effective_low, temperature.effective_high,
            temperature.clear_band,
        )  # fmt: skip
        rules.append(
            _rule(sensor, "temperature", RuleKind.COMBINATION, temperature.severity,
                  f"door open for {duration(door_limits.delay)} and temperature "
                  f"{bounds_text(temperature.effective_low, temperature.effective_high, unit)}",
                  d.DOOR_AND_TEMPERATURE_SOURCE, params, variant="door-open")
        )  # fmt: skip
    return rules


def _door_of(registry: Registry, sensor: Sensor) -> tuple[Sensor, Limits] | None:
    """The door contact of `sensor`'s unit: the sensor itself, or another of the asset."""
    candidates = [sensor] + [s for s in registry.sensors_of_asset(sensor.asset) if s.id != sensor.id]
    for candidate in candidates:
        limits = candidate.thresholds.get("door_open")
        if "door_open" in candidate.metrics and limits is not None and limits.alarm_when is True:
            return candidate, limits
    return None


def _excursion(sensor: Sensor) -> ExcursionSpec | None:
    limits = sensor.thresholds.get("temperature")
    if sensor.kind is not SensorKind.COLD_CHAIN or limits is None or "temperature" not in sensor.metrics:
        return None
    low, high = limits.effective_low, limits.effective_high
    if low is None and high is None:
        return None
    return ExcursionSpec(
        id=f"{sensor.id}/temperature/excursion", sensor=sensor.id, asset=sensor.asset, metric="temperature",
        product=PROFILES[sensor.profile].product, low=low, high=high, update_every=d.EXCURSION_UPDATE_EVERY,
        resolve_hold=d.RESOLVE_HOLD, max_gap=d.NO_DATA_AFTER[sensor.kind], source=limits.source,
    )  # fmt: skip


def _gas_rules(sensor: Sensor) -> list[RuleSpec]:
    limits = sensor.thresholds.get("pressure")
    if limits is None or "pressure" not in sensor.metrics:
        return []
    nominal = limits.nominal
    if nominal is None and limits.effective_low is not None and limits.effective_high is not None:
        nominal = (limits.effective_low + limits.effective_high) / 2
    if nominal is None:
        return []
    unit = unit_of(sensor, "pressure")
    drop = round(nominal * d.GAS_DROP_SHARE_PER_MINUTE, 3)
    params = RateOfChangeParams(drop, d.GAS_DROP_WINDOW, limits.effective_low)
    return [
        _rule(sensor, "pressure", RuleKind.RATE_OF_CHANGE, Severity.CRITICAL,
              f"falling faster than {quantity(drop, unit + '/min')} over {duration(d.GAS_DROP_WINDOW)}", d.GAS_DROP_SOURCE, params)
    ]  # fmt: skip


def _uv_rules(registry: Registry, sensor: Sensor) -> list[RuleSpec]:
    limits = sensor.thresholds.get("intensity")
    if limits is None or limits.effective_low is None or "intensity" not in sensor.metrics:
        return []
    unit = unit_of(sensor, "intensity")
    params = PredictedCrossingParams(
        limit=limits.effective_low, horizon=d.UV_PREDICT_HORIZON, clear_horizon=d.UV_PREDICT_CLEAR_HORIZON,
        fit_window=d.UV_FIT_WINDOW, min_points=d.UV_FIT_MIN_POINTS, min_span=d.UV_FIT_MIN_SPAN,
        age_metric="burn_hours" if "burn_hours" in sensor.metrics else None, gate=_lamp_gate(registry, sensor),
    )  # fmt: skip
    return [
        _rule(sensor, "intensity", RuleKind.PREDICTED_CROSSING, Severity.INFO,
              f"predicted below {quantity(limits.effective_low, unit)} within {duration(d.UV_PREDICT_HORIZON)}",
              d.UV_PREDICT_SOURCE, params, work_order=d.UV_PLANNED_WORK_ORDER, hold=_NONE)
    ]  # fmt: skip


def with_resolve_hold(book: RuleBook, hold: timedelta) -> RuleBook:
    """`book` with every rule's and excursion's resolve hold set to `hold`
    (except rules that have none, such as night flow)."""
    return RuleBook(
        tuple(r if r.resolve_hold == _NONE else replace(r, resolve_hold=hold) for r in book.rules),
        tuple(replace(e, resolve_hold=hold) for e in book.excursions),
    )

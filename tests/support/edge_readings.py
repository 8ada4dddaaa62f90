"""Readings built to sit on the edges of the fast paths that judge the usual
reading straight from decoded JSON (ingest.points, alerts.intake): window and
range bounds, ints, -0.0, huge ints, non-finite values, unit spellings,
missing fields. Each service's test holds its fast path to the definition
(`decode_reading`, then `canonical_reading`) on these."""

from __future__ import annotations

from typing import TypeVar

from hypothesis import strategies as st

from vigil.kinds import ValueType
from vigil.registry import Registry
from vigil.validation import TimeWindow

T = TypeVar("T")
NOW = 1_795_392_000 * 10**9
WINDOW = TimeWindow(max_future_s=300, max_past_s=86_400)  # the judge's window in these tests
WINDOW_MS = (NOW // 10**6 - 86_400_000, NOW // 10**6 + 300_000)
edge_times = st.one_of(st.sampled_from([WINDOW_MS[0] - 1, WINDOW_MS[0], WINDOW_MS[1], WINDOW_MS[1] + 1, NOW // 10**6]),
                       st.integers(WINDOW_MS[0] - 5, WINDOW_MS[1] + 5), st.just(True), st.text(max_size=4),
                       st.just("2026-11-23T08:00:00Z"), st.floats())
edge_values = st.one_of(st.sampled_from([0, -0.0, 0.0, -1, 1, -100, -100.0000001, 80, 80.0000001, 3000, 5000, 1e12, 10**400,
                                         -(10**400), 2**53 + 1, 1.0, 100.0, 101.325, 101.33]),
                        st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.booleans(), st.none(), st.text(max_size=3))
edge_units = st.one_of(st.none(), st.sampled_from(["degC", "°C", "degF", "kPa", "uW/cm2", "%", "h", "kWh", "1", "", "bogus"]),
                       st.integers())


def usual_or(draw: st.DrawFn, usual: st.SearchStrategy[T], edge: st.SearchStrategy[T]) -> T:
    """Mostly the usual case, so that the fast path is taken, sometimes an edge."""
    return draw(edge) if draw(st.integers(0, 4)) == 0 else draw(usual)


@st.composite
def edge_readings(draw: st.DrawFn, registry: Registry, gateway: str) -> object:
    if draw(st.integers(0, 20)) == 0:
        return draw(st.one_of(st.none(), st.text(max_size=3), st.lists(st.integers(), max_size=2)))
    sensor = usual_or(draw, st.sampled_from([s.id for s in registry.sensors_of_gateway(gateway)]), st.sampled_from([*registry.sensors, "nope"]))
    metrics = registry.sensors[sensor].metrics if sensor in registry.sensors else ["temperature"]
    metric = usual_or(draw, st.sampled_from(metrics), st.just("bogus"))
    spec = registry.sensors[sensor].metric_spec(metric) if sensor in registry.sensors else None
    if spec is None or spec.value_type is ValueType.BOOL:
        usual_value: st.SearchStrategy[object] = st.booleans()
    else:
        usual_value = st.one_of(st.floats(spec.minimum, spec.maximum), st.integers(int(spec.minimum or 0), int(spec.maximum or 10)))
    raw = {"sensor": sensor, "metric": metric, "value": usual_or(draw, usual_value, edge_values),
           "ts": usual_or(draw, st.integers(*WINDOW_MS), edge_times)}
    if draw(st.integers(0, 2)) == 0:
        raw["unit"] = usual_or(draw, st.just(spec.unit if spec else "degC"), edge_units)
    if draw(st.integers(0, 9)) == 0:
        del raw[draw(st.sampled_from(["sensor", "metric", "value", "ts"]))]
    return raw



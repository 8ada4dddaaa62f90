"""Whatever arrives on a readings topic, triage returns (never raises), and
every reading is either a line or a dead letter with a reason."""

from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.points import PointWriter
from ingest.triage import triage
from ingest.worker import IngestOptions, partition, topic_filters
from vigil.contract import Reason
from vigil.registry import Registry

NOW = time.time_ns()
TOPIC = "vigil/v1/north/gw-a/readings"

json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
json_value = st.recursive(json_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
sensor_ids = st.sampled_from(["bb-fridge-1-temp", "vac-fridge-1-temp", "o2-b1-p", "uv-or-1-s", "nope", ""])
metrics = st.sampled_from(["temperature", "door_open", "pressure", "intensity", "flow", "bogus"])
times = st.one_of(st.integers(min_value=-10**15, max_value=10**15), st.just(NOW // 10**6), st.text(max_size=30),
                  st.sampled_from(["2026-11-23T08:00:00+08:00", "2026-11-23T08:00:00", "now"]))
reading = st.fixed_dictionaries(
    {"sensor": st.one_of(sensor_ids, json_value), "metric": st.one_of(metrics, json_value),
     "value": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.integers(), json_value), "ts": times},
    optional={"unit": st.one_of(st.sampled_from(["degF", "psi", "kPa", "W/m2", "furlongs"]), json_value)},
)
message = st.fixed_dictionaries(
    {"gateway": st.one_of(st.just("gw-a"), st.just("gw-b"), json_value), "seq": st.one_of(st.integers(min_value=-5, max_value=10**12), json_value),
     "sent_at": times, "readings": st.one_of(st.lists(st.one_of(reading, json_value), max_size=8), json_value)},
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=message)
def test_fuzzed_messages_never_crash_and_every_reading_is_accounted_for(small_registry: Registry, body: dict) -> None:  # type: ignore[type-arg]
    payload = json.dumps(body, allow_nan=True).encode()
    result = triage(TOPIC, payload, PointWriter(small_registry), NOW)
    assert all(isinstance(dead.reason, Reason) and dead.detail for dead in result.dead)
    whole_message_rejected = len(result.dead) == 1 and result.dead[0].index is None and not result.lines
    assert whole_message_rejected or len(result.lines) + len(result.dead) == result.readings
    for dead in result.dead:
        assert dead.line(NOW).startswith("rejected,reason=")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(max_size=300), topic=st.one_of(st.just(TOPIC), st.text(max_size=40)))
def test_arbitrary_bytes_on_any_topic_are_dead_lettered(small_registry: Registry, payload: bytes, topic: str) -> None:
    result = triage(topic, payload, PointWriter(small_registry), NOW)
    assert result.lines or result.dead or result.readings == 0
    for dead in result.dead:
        dead.line(NOW)  # renders, whatever the payload holds


def test_partition_balances_gateways_by_sensor_count(small_registry: Registry) -> None:
    owner = partition(small_registry, 2)
    assert sorted(owner.values()) == [0, 1]
    assert partition(small_registry, 2) == owner  # deterministic


def test_partitioned_workers_together_cover_every_gateway_once(small_registry: Registry) -> None:
    opts = IngestOptions(workers=3)
    filters = [f for i in range(3) for f in topic_filters(small_registry, i, opts)]
    assert sorted(filters) == sorted(gw.readings_topic for gw in small_registry.gateways.values())
    assert topic_filters(small_registry, 0, IngestOptions(subscription="shared")) == ["$share/vigil-ingest/vigil/v1/+/+/readings"]

"""The streaming rules engine: readings and gateway statuses in, alert
transitions and excursion records out. Pure: no I/O, no threads, no clock
except the one handed in (used only to know since when it has been
watching, for no-data).

Time. Durations of reading rules (alarm delays, cumulative time, resolve
holds, excursions, stuck runs, night flow) are measured in event time, the
readings' own timestamps: a backfill after a gateway outage is judged as if
it had arrived live, and tests replay a week in a second. What can only be
seen by absence (no data, a gateway offline for longer than its delay) is
judged on the wall clock by `tick(now_ns)`.

Order. Each (sensor, metric) series is judged in timestamp order. A reading
no newer than the newest already judged for its series (a duplicate from
at-least-once delivery, or a reading that overtook an older one) is counted
in `stats()` and otherwise ignored by every rule: the time it belongs to was
already accounted for by holding the previous reading's value. It still
counts as a sign of life for no-data. Readings of unknown sensors, metrics
without rules and non-finite values are counted and ignored.

Restart. `snapshot()` is the whole state as JSON-ready data;
`take_changes()` is the part of it that changed since its previous call
(everything the first time), whole groups at a time (`state_group`: a sensor
with its rules, a gateway with its rule), so a checkpoint of 100,000 sensors
costs what changed, not the whole engine, and can be stored a row per group.
A checkpoint can also be written in slices while readings keep coming
(`take_changed` names the changed groups, `state_of` gives their state when
each slice is written): groups that one reading can change together (a door
sensor and the fridge rule that reads it) are always named, and so saved,
together, so every saved group is a consistent cut even when the slices are
taken at different moments. `RulesEngine.restore(registry, snapshot)`
continues from any of these laid over the last: a pending delay
fires after the rest of its delay, open alerts and excursions are not
emitted again, and nothing is called stale during a grace period after the
restart. Rules that no longer exist are listed in `dropped_on_restore`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from alerts.model import AlertState, Transition
from alerts.rules.base import Evaluator, Output, RuleEvaluator, Voice
from alerts.rules.book import build_rules
from alerts.rules.cold_chain import DoorAndTemperatureRule, ExcursionWatch
from alerts.rules.cumulative import CumulativeRule
from alerts.rules.damping import FIRING, PENDING
from alerts.rules.defaults import RESTART_GRACE
from alerts.rules.liveness import GatewayRule, NoDataRule, SensorLiveness
from alerts.rules.meters import CounterStalledRule
from alerts.rules.rate import RateOfChangeRule
from alerts.rules.spec import (
    CounterStalledParams,
    CumulativeParams,
    DoorAndTemperatureParams,
    GatewayOfflineParams,
    LampGate,
    NightFlowParams,
    NoDataParams,
    PredictedCrossingParams,
    RateOfChangeParams,
    RuleBook,
    StuckParams,
    ThresholdParams,
)
from alerts.rules.stuck import StuckRule
from alerts.rules.threshold import ThresholdRule
from alerts.rules.uv import LampWatch, PredictedCrossing
from alerts.rules.water import NightFlowRule
from alerts.rules.wording import Place, ns, unit_of
from vigil.contract import Reading
from vigil.registry import Registry

SNAPSHOT_FORMAT = "vigil.alerts.rules/1"
_FINITE = 1e300  # |value| above this (or NaN) is not a measurement


def state_group(key: str) -> str:
    """The group a sensor's or evaluator's state is saved with: the id before
    the first '/' of an evaluator's key (rule ids begin with their sensor's or
    gateway's id), a sensor's own id."""
    return key.split("/", 1)[0]


class _Series:
    """One (sensor, metric) stream: the newest timestamp judged, who listens,
    and the state groups a reading of it changes."""

    __slots__ = ("evaluators", "groups", "last_ts")

    def __init__(self) -> None:
        self.last_ts = 0
        self.evaluators: tuple[Evaluator, ...] = ()
        self.groups: tuple[str, ...] = ()


class _Sensor:
    """A sensor's sign of life and series, and the linked sets (`RulesEngine._link`)
    a newer reading of it marks: its own, and its gateway's."""

    __slots__ = ("gateway_root", "liveness", "root", "series")

    def __init__(self, liveness: SensorLiveness) -> None:
        self.liveness = liveness
        self.series: dict[str, _Series] = {}
        self.root = ""
        self.gateway_root = ""


class RulesEngine:
    """Judges readings against `rules` (default: `build_rules(registry)`).

    `observe()` returns transitions and excursion events in one list, in the
    order they happened; tell them apart by type (`Transition`,
    `ExcursionEvent`). An excursion event with a new (sensor, started_ns)
    opens a record, the same key again updates it, `ended_ns` set closes it.
    """

    def __init__(self, registry: Registry, rules: RuleBook | None = None, clock: Callable[[], int] = time.time_ns) -> None:
        self.registry = registry
        self.rules = rules if rules is not None else build_rules(registry)
        self.clock = clock
        self.watching_since = clock()
        self.grace = ns(RESTART_GRACE)
        self.dropped_on_restore: list[str] = []
        self._stats = {"observed": 0, "late": 0, "unknown_sensor": 0, "unwatched_metric": 0, "not_finite": 0, "statuses": 0}
        self._places: dict[str, Place] = {}
        self._evaluators: dict[str, Evaluator] = {}
        self._no_data: list[NoDataRule] = []
        self._gateways: dict[str, GatewayRule] = {}
        self._sensors: dict[str, _Sensor] = {}
        self._cumulative: dict[str, list[CumulativeRule]] = {}
        self._groups: dict[str, list[Evaluator]] = {}
        # State groups one reading can change together, saved together: each
        # group's first linked group names the set (`_linked`).
        self._root: dict[str, str] = {}
        self._linked: dict[str, tuple[str, ...]] = {}
        # The linked sets (by first group) changed since the last take: None means everything.
        self._changed: set[str] | None = None
        self._build()

    # ------------------------------------------------------------ building

    def _place(self, sensor_id: str) -> Place:
        place = self._places.get(sensor_id)
        if place is None:
            place = Place.of_sensor(self.registry, self.registry.sensors[sensor_id])
            self._places[sensor_id] = place
        return place

    def _build(self) -> None:
        registry = self.registry
        for spec in self.rules:
            if isinstance(spec.params, GatewayOfflineParams):
                if spec.sensor not in registry.gateways:
                    raise ValueError(f"rule {spec.id!r} is for gateway {spec.sensor!r}, which the registry does not have")
                rule = GatewayRule(spec, Voice(spec, Place.of_gateway(registry, spec.sensor), ""))
                self._gateways[spec.sensor] = rule
                self._evaluators[rule.key] = rule
        for sensor in registry.sensors.values():
            self._sensors[sensor.id] = _Sensor(SensorLiveness(self._gateways.get(sensor.gateway)))
        listeners: dict[tuple[str, str], list[Evaluator]] = {}
        gates: dict[tuple[str, str], list[Evaluator]] = {}  # fed first: the rules they gate read them

        def listen(ev: Evaluator, *series: tuple[str, str | None]) -> None:
            for sensor_id, metric in series:
                if sensor_id not in self._sensors or metric is None:
                    raise ValueError(f"rule {ev.key!r} listens to {sensor_id}/{metric}, which the registry does not have")
                listeners.setdefault((sensor_id, metric), []).append(ev)

        lamp_watches: dict[LampGate, LampWatch] = {}

        def lamp_watch(gate: LampGate, metric: str) -> LampWatch:
            watch = lamp_watches.get(gate)
            if watch is None:
                watched = gate.lamp_metric or metric
                watch = LampWatch(f"{gate.lamp_sensor}/{watched}/lamp-gate", gate)
                lamp_watches[gate] = watch
                gates.setdefault((gate.lamp_sensor, watched), []).append(watch)
                self._evaluators[watch.key] = watch
            return watch

        for spec in self.rules:
            if isinstance(spec.params, GatewayOfflineParams):
                continue
            if spec.sensor not in registry.sensors:
                raise ValueError(f"rule {spec.id!r} is for sensor {spec.sensor!r}, which the registry does not have")
            sensor = registry.sensors[spec.sensor]
            voice = Voice(spec, self._place(spec.sensor), unit_of(sensor, spec.metric))
            p = spec.params
            here = (spec.sensor, spec.metric)
            ev: RuleEvaluator
            if isinstance(p, ThresholdParams):
                ev = ThresholdRule(spec, voice, lamp_watch(p.gate, spec.metric or "") if p.gate else None)
                listen(ev, here)
            elif isinstance(p, CumulativeParams):
                ev = CumulativeRule(spec, voice)
                self._cumulative.setdefault(spec.sensor, []).append(ev)
                listen(ev, here)
            elif isinstance(p, RateOfChangeParams):
                ev = RateOfChangeRule(spec, voice)
                listen(ev, here)
            elif isinstance(p, StuckParams):
                ev = StuckRule(spec, voice)
                listen(ev, here)
            elif isinstance(p, NightFlowParams):
                ev = NightFlowRule(spec, voice)
                listen(ev, here)
            elif isinstance(p, CounterStalledParams):
                ev = CounterStalledRule(spec, voice, unit_of(sensor, p.rate_metric))
                listen(ev, here, (spec.sensor, p.rate_metric))
            elif isinstance(p, PredictedCrossingParams):
                ev = PredictedCrossing(spec, voice, lamp_watch(p.gate, spec.metric or ""))
                listen(ev, here, *([(spec.sensor, p.age_metric)] if p.age_metric else []))
            elif isinstance(p, DoorAndTemperatureParams):
                ev = DoorAndTemperatureRule(spec, voice)
                listen(ev, here, (p.door_sensor, p.door_metric))
            elif isinstance(p, NoDataParams):
                ev = NoDataRule(spec, voice, self._sensors[spec.sensor].liveness)
                self._no_data.append(ev)
            else:  # pragma: no cover - every params type is handled above
                raise TypeError(f"rule {spec.id!r}: unknown parameters {type(p).__name__}")
            self._evaluators[ev.key] = ev
        for excursion in self.rules.excursions:
            if excursion.sensor not in registry.sensors:
                raise ValueError(f"excursion watch {excursion.id!r} is for an unknown sensor")
            watch = ExcursionWatch(excursion)
            self._evaluators[watch.key] = watch
            listen(watch, (excursion.sensor, excursion.metric))
        for key, evaluator in self._evaluators.items():
            self._groups.setdefault(state_group(key), []).append(evaluator)
        every_series = {**dict.fromkeys(gates), **dict.fromkeys(listeners)}
        touched: dict[tuple[str, str], list[str]] = {}
        for sensor_id, metric in every_series:
            series = self._sensors[sensor_id].series.setdefault(metric, _Series())
            series.evaluators = (*gates.get((sensor_id, metric), ()), *listeners.get((sensor_id, metric), ()))
            touched[sensor_id, metric] = list(dict.fromkeys([sensor_id, *(state_group(ev.key) for ev in series.evaluators)]))
        self._link([*self._sensors, *self._groups], touched.values())
        for (sensor_id, metric), groups in touched.items():
            self._sensors[sensor_id].series[metric].groups = tuple(dict.fromkeys(self._root[g] for g in groups))
        for sensor_id, watched in self._sensors.items():
            watched.root = self._root[sensor_id]
            if watched.liveness.gateway is not None:
                watched.gateway_root = self._root[state_group(watched.liveness.gateway.key)]

    def _link(self, groups: Iterable[str], together: Iterable[list[str]]) -> None:
        """Join the groups each reading changes together into linked sets
        (union-find). A gateway's last-reading time is left out: it only
        ever grows to the newest reading, so it needs no partner."""
        parent = {g: g for g in groups}

        def find(g: str) -> str:
            while parent[g] != g:
                parent[g] = parent[parent[g]]
                g = parent[g]
            return g

        for members in together:
            first = find(members[0])
            for other in members[1:]:
                parent[find(other)] = first
        linked: dict[str, list[str]] = {}
        for g in parent:
            linked.setdefault(find(g), []).append(g)
        for members in linked.values():
            self._linked[members[0]] = tuple(members)
            for g in members:
                self._root[g] = members[0]

    # ------------------------------------------------------------ readings

    def observe(self, reading: Reading) -> list[Output]:
        """Judge one reading (canonical units). Returns the transitions and
        excursion events it caused, usually none."""
        out: list[Output] = []
        self._observe(reading, out)
        return out

    def observe_many(self, readings: Iterable[Reading]) -> list[Output]:
        """Judge readings in the order given (a whole contract message)."""
        out: list[Output] = []
        observe = self._observe
        for reading in readings:
            observe(reading, out)
        return out

    def _observe(self, r: Reading, out: list[Output]) -> None:
        stats = self._stats
        stats["observed"] += 1
        sensor = self._sensors.get(r.sensor)
        if sensor is None:
            stats["unknown_sensor"] += 1
            return
        ts = r.ts_ns
        liveness = sensor.liveness
        changed = self._changed
        if ts > liveness.last_ts:
            liveness.last_ts = ts
            if changed is not None:
                changed.add(sensor.root)
            gateway = liveness.gateway
            if gateway is not None and ts > gateway.last_reading_ts:
                gateway.last_reading_ts = ts
                if changed is not None:
                    changed.add(sensor.gateway_root)
        series = sensor.series.get(r.metric)
        if series is None:
            stats["unwatched_metric"] += 1
            return
        if ts <= series.last_ts:
            stats["late"] += 1
            return
        value = r.value
        if not -_FINITE < value < _FINITE:
            stats["not_finite"] += 1
            return
        series.last_ts = ts
        if changed is not None:
            changed.update(series.groups)
        metric = r.metric
        for evaluator in series.evaluators:
            evaluator.feed(metric, value, ts, out)

    # ------------------------------------------------------------ wall clock

    def observe_status(self, gateway: str, online: bool, ts_ns: int) -> list[Transition]:
        """A gateway status message (`online` or `offline`, retained, also the
        last will). Unknown gateways are ignored."""
        out: list[Output] = []
        self._stats["statuses"] += 1
        rule = self._gateways.get(gateway)
        if rule is not None:
            rule.status(online, ts_ns, out)
            self._mark(rule)
        return [t for t in out if isinstance(t, Transition)]

    def tick(self, now_ns: int | None = None) -> list[Transition]:
        """Judge what only the wall clock can show: sensors with no data,
        gateways offline for longer than their delay, and their recoveries.
        Call it every few seconds; `now_ns` defaults to the engine's clock."""
        now = self.clock() if now_ns is None else now_ns
        out: list[Output] = []
        since, grace = self.watching_since, self.grace
        # A rule's check steps its alarm only while stale, offline or
        # active, and stepping an idle alarm makes it active: idle before
        # and after means nothing changed.
        for rule in self._no_data:
            was = rule.alarm.phase
            rule.check(now, since, grace, out)
            if was or rule.alarm.phase:
                self._mark(rule)
        for gateway in self._gateways.values():
            was = gateway.alarm.phase
            gateway.check(now, out)
            if was or gateway.alarm.phase:
                self._mark(gateway)
        return [t for t in out if isinstance(t, Transition)]

    # ------------------------------------------------------------ people

    def reset_product(self, sensor: str, at_ns: int) -> list[Transition]:
        """Start the cumulative exposure rules of `sensor` from zero, e.g. when
        the stock was replaced after a disposition; resolves them if firing."""
        out: list[Output] = []
        for rule in self._cumulative.get(sensor, []):
            rule.reset(at_ns, out)
            self._mark(rule)
        return [t for t in out if isinstance(t, Transition)]

    def _mark(self, evaluator: Evaluator) -> None:
        if self._changed is not None:
            self._changed.add(self._root[state_group(evaluator.key)])

    # ------------------------------------------------------------ inspection

    def active_alerts(self) -> dict[str, AlertState]:
        """Rule id -> PENDING or FIRING, for every alert the engine holds open
        (what the alert store should have open after a restart)."""
        phases = {PENDING: AlertState.PENDING, FIRING: AlertState.FIRING}
        return {
            key: phases[ev.alarm.phase]
            for key, ev in self._evaluators.items()
            if isinstance(ev, RuleEvaluator) and ev.alarm.phase in phases
        }

    def stats(self) -> dict[str, int]:
        """Counters: readings observed, late or duplicate, of unknown sensors,
        of metrics without rules, not finite; statuses observed."""
        return dict(self._stats)

    # ------------------------------------------------------------ restart

    def snapshot(self) -> dict[str, Any]:
        """The engine's whole state as JSON-serialisable data."""
        return self._state(self._sensors, self._evaluators.values(), complete=True)

    def take_changes(self) -> dict[str, Any]:
        """The part of the snapshot that changed since the previous call, in
        the snapshot's format, with `complete` true the first time (then it
        is the whole snapshot). It holds whole state groups: for each group
        in it, the sensor's state and every evaluator's of that group, so
        laid over the previous snapshot group by group it gives the current one."""
        linked, complete = self.take_changed()
        if complete:
            return self._state(self._sensors, self._evaluators.values(), complete=True)
        return self.state_of(g for groups in linked for g in groups)

    def take_changed(self) -> tuple[list[tuple[str, ...]], bool]:
        """The state groups changed since the previous take, as linked sets
        (each to be saved in one go), and whether that is every group (the
        first time). `state_of` gives their state when it is time to save them."""
        changed, self._changed = self._changed, set()
        if changed is None:
            return list(self._linked.values()), True
        linked = self._linked
        return [linked[root] for root in changed], False

    def state_of(self, groups: Iterable[str]) -> dict[str, Any]:
        """The current state of `groups` (whole linked sets, from
        `take_changed`) in the snapshot's format, `complete` false."""
        groups = list(groups)
        evaluators = self._groups
        return self._state([g for g in groups if g in self._sensors], [ev for g in groups for ev in evaluators.get(g, ())],
                           complete=False)

    def groups(self) -> set[str]:
        """Every state group's name: what a complete save keeps."""
        return set(self._root)

    def _state(self, sensors: Iterable[str], evaluators: Iterable[Evaluator], complete: bool) -> dict[str, Any]:
        every = self._sensors
        return {
            "format": SNAPSHOT_FORMAT,
            "taken_ns": self.clock(),
            "complete": complete,
            "sensors": {
                sid: {"last_ts": s.liveness.last_ts, "series": {m: series.last_ts for m, series in s.series.items()}}
                for sid, s in ((sid, every[sid]) for sid in sensors)
            },
            "evaluators": {ev.key: ev.state() for ev in evaluators},
            "stats": dict(self._stats),
        }

    @classmethod
    def restore(
        cls, registry: Registry, snapshot: dict[str, Any], rules: RuleBook | None = None, clock: Callable[[], int] = time.time_ns
    ) -> RulesEngine:
        """An engine for `registry` (possibly changed since) continuing from
        `snapshot`. State of rules that no longer exist is dropped and listed
        in `dropped_on_restore`; a state that cannot be read starts afresh
        and is listed too. Raises ValueError for a snapshot of another format."""
        if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT:
            found = snapshot.get("format") if isinstance(snapshot, dict) else type(snapshot).__name__
            raise ValueError(f"not a rules engine snapshot of format {SNAPSHOT_FORMAT!r} (found {found!r})")
        engine = cls(registry, rules, clock)
        for sid, saved in snapshot.get("sensors", {}).items():
            sensor = engine._sensors.get(sid)
            if sensor is None:
                continue
            sensor.liveness.last_ts = int(saved.get("last_ts", 0))
            for metric, last_ts in saved.get("series", {}).items():
                series = sensor.series.get(metric)
                if series is not None:
                    series.last_ts = int(last_ts)
        for key, state in snapshot.get("evaluators", {}).items():
            evaluator = engine._evaluators.get(key)
            if evaluator is None:
                engine.dropped_on_restore.append(key)
                continue
            fresh = evaluator.state()
            try:
                evaluator.load(state)
            except (KeyError, TypeError, ValueError, IndexError):
                engine.dropped_on_restore.append(key)
                evaluator.load(fresh)  # a state that failed halfway: start afresh
        for name, count in snapshot.get("stats", {}).items():
            if name in engine._stats:
                engine._stats[name] = int(count)
        return engine

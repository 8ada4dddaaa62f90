"""What can only be seen by absence: a sensor that stopped reporting, a
gateway that went offline. Judged on the wall clock by `RulesEngine.tick`.

No data: a sensor is stale when its newest reading (event time) is older
than the rule's `after`. A sensor never heard from is stale `after` from
when the engine began watching. After a (re)start nothing is called stale
for a grace period, so the broker's backlog can drain first. Resolved once
fresh again for the resolve hold (a flaky radio does not flap).

Gateway offline: from the gateway's retained status (`online`/`offline`, the
offline one also its MQTT last will). A last will carries the time it was
set, at connect, so an offline gateway is dated from the last sign of life
instead: the newest of the offline status, the last online status and the
newest reading of its sensors. PENDING at once, FIRING once offline for
`after` (checked by `tick`), RESOLVED once online for the resolve hold.
"""

from __future__ import annotations

from typing import Any

from alerts.model import AlertState
from alerts.rules.base import Output, RuleEvaluator, Value, Voice
from alerts.rules.damping import IDLE
from alerts.rules.spec import GatewayOfflineParams, NoDataParams, RuleSpec
from alerts.rules.wording import duration, ns

_FOREVER = 1 << 62


class SensorLiveness:
    """When a sensor was last heard from (event time), kept by the engine."""

    __slots__ = ("gateway", "last_ts")

    def __init__(self, gateway: GatewayRule | None) -> None:
        self.last_ts = 0  # 0: never, since the engine began watching
        self.gateway = gateway


class NoDataRule(RuleEvaluator):
    """A `NoDataParams` rule for one sensor."""

    __slots__ = ("after", "liveness")

    def __init__(self, spec: RuleSpec, voice: Voice, liveness: SensorLiveness) -> None:
        super().__init__(spec, voice)
        p = spec.params
        assert isinstance(p, NoDataParams)
        self.after = ns(p.after)
        self.liveness = liveness

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        raise TypeError("no-data rules are judged by tick(), not by readings")

    def check(self, now: int, watching_since: int, grace: int, out: list[Output]) -> None:
        """Judge staleness at wall-clock `now`."""
        last = self.liveness.last_ts
        # Never heard from: stale `after` from when watching began. Heard
        # from: stale `after` from its newest reading, but not during the grace.
        never = now - watching_since > self.after
        stale = (now - last > self.after and now - watching_since >= grace) if last else never
        if not stale and self.alarm.phase == IDLE:
            return
        emit = self.alarm.step(stale, now, 0, self.hold, _FOREVER)
        if emit is not None:
            out.append(self._transition(emit, now, last or watching_since))

    def _transition(self, state: AlertState, now: int, last: int) -> Output:
        limit = f"no reading for {duration(self.after)}"
        if state is AlertState.RESOLVED:
            what = "reporting again"
        elif self.liveness.last_ts:
            what = f"sensor {self.spec.sensor} silent for {duration(now - last)}: no data"
        else:
            what = f"sensor {self.spec.sensor} has not reported since monitoring began: no data"
        details = {"last_reading_ns": self.liveness.last_ts or None}
        return self.voice.say(state, now, what, limit=limit, since_ns=last, details=details)


class GatewayRule(RuleEvaluator):
    """A `GatewayOfflineParams` rule for one gateway."""

    __slots__ = ("after", "last_online_ts", "last_reading_ts", "offline_since", "online", "sensors", "status_ts")

    def __init__(self, spec: RuleSpec, voice: Voice) -> None:
        super().__init__(spec, voice)
        p = spec.params
        assert isinstance(p, GatewayOfflineParams)
        self.after = ns(p.after)
        self.sensors = p.sensors
        self.online: bool | None = None  # unknown until a status arrives
        self.status_ts = 0
        self.last_online_ts = 0
        self.last_reading_ts = 0  # kept up to date by the engine
        self.offline_since = 0

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        raise TypeError("gateway rules are judged by observe_status() and tick(), not by readings")

    def status(self, online: bool, ts: int, out: list[Output]) -> None:
        """A status message (retained, so it may come again after a restart)."""
        if ts < self.status_ts:
            return  # an older status than one already seen
        self.status_ts = ts
        self.online = online
        if online:
            self.last_online_ts = max(self.last_online_ts, ts)
            emit = self.alarm.step(False, ts, self.after, self.hold, _FOREVER) if self.alarm.phase != IDLE else None
        else:
            self.offline_since = max(ts, self.last_online_ts, self.last_reading_ts)
            emit = self.alarm.step(True, self.offline_since, self.after, self.hold, _FOREVER)
        if emit is not None:
            out.append(self._transition(emit, ts))

    def check(self, now: int, out: list[Output]) -> None:
        """Judge at wall-clock `now`: the offline delay, the resolve hold."""
        if self.online is None or (self.online and self.alarm.phase == IDLE):
            return
        emit = self.alarm.step(not self.online, now, self.after, self.hold, _FOREVER)
        if emit is not None:
            out.append(self._transition(emit, now))

    def _transition(self, state: AlertState, at: int) -> Output:
        limit = f"offline for {duration(self.after)}"
        if state is AlertState.RESOLVED:
            what = "online again"
        elif state is AlertState.PENDING:
            what = f"offline: {self.sensors} sensors not reporting, alarm after {duration(self.after)}"
        else:
            what = f"offline for {duration(max(0, at - self.offline_since))}: {self.sensors} sensors not reporting"
        details = {"last_sign_of_life_ns": self.offline_since or None, "sensors": self.sensors}
        return self.voice.say(
            state, at, what, value=self.online, limit=limit, since_ns=self.offline_since or None, details=details
        )

    def state(self) -> dict[str, Any]:
        s = self.base_state()
        s["gateway"] = [self.online, self.status_ts, self.last_online_ts, self.last_reading_ts, self.offline_since]
        return s

    def load(self, state: dict[str, Any]) -> None:
        self.load_base(state)
        online, status_ts, last_online_ts, last_reading_ts, offline_since = state["gateway"]
        self.online = None if online is None else bool(online)
        self.status_ts, self.last_online_ts = int(status_ts), int(last_online_ts)
        self.last_reading_ts, self.offline_since = int(last_reading_ts), int(offline_since)

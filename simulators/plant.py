"""The physical side of a simulated asset: a `Plant` (a fridge, a lamp, a gas
line, a supply) integrates its physics on a fixed time grid and exposes the
true value of each quantity its sensors measure.

The grid is anchored at the simulation start and the plant's random stream is
drawn only while stepping, so its trajectory does not depend on how often it
is sampled: sampling every 10 s or every hour sees the same physics. Faults
are scheduled records (start, optional end, parameters) the physics consults
each step.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from simulators.site_time import NS_PER_HOUR, NS_PER_S, SiteClock
from vigil.kinds import SensorKind
from vigil.profiles import Limits

FaultParams = Mapping[str, float | str]
Value = float | bool
_NEVER = 2**63 - 1


@dataclass(slots=True)
class Fault:
    """One injected fault: active from `start_ns` until `end_ns` (None: until cleared)."""

    name: str
    start_ns: int
    params: FaultParams = field(default_factory=dict)
    end_ns: int | None = None

    def covers(self, t_ns: int) -> bool:
        """Whether the fault is active at `t_ns`."""
        return self.start_ns <= t_ns and (self.end_ns is None or t_ns < self.end_ns)

    def number(self, key: str, default: float) -> float:
        """A numeric parameter, or `default` when it was not given."""
        value = self.params.get(key, default)
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"fault {self.name!r}: parameter {key!r} must be a number, got {value!r}") from None

    def hours_active(self, t_ns: int) -> float:
        """Hours since the fault began (0 before it)."""
        return max(0, t_ns - self.start_ns) / NS_PER_HOUR


class FaultSchedule:
    """The faults injected into one plant or sensor, at most one per name."""

    def __init__(self, known: Iterable[str], owner: str) -> None:
        self.known = frozenset(known)
        self.owner = owner
        self.active: dict[str, Fault] = {}
        self.next_change_ns = _NEVER
        self._faults: dict[str, Fault] = {}

    def inject(self, name: str, at_ns: int, params: FaultParams) -> Fault:
        """Schedule fault `name` from `at_ns`; injecting it again replaces it."""
        if name not in self.known:
            raise ValueError(f"{self.owner} has no fault {name!r} (known: {', '.join(sorted(self.known)) or 'none'})")
        fault = Fault(name, at_ns, dict(params))
        self._faults[name] = fault
        self.next_change_ns = min(self.next_change_ns, at_ns)
        return fault

    def clear(self, name: str, at_ns: int) -> None:
        """End fault `name` at `at_ns`; a fault never injected is ignored."""
        if name not in self.known:
            raise ValueError(f"{self.owner} has no fault {name!r} (known: {', '.join(sorted(self.known)) or 'none'})")
        fault = self._faults.get(name)
        if fault is not None and (fault.end_ns is None or at_ns < fault.end_ns):
            fault.end_ns = max(at_ns, fault.start_ns)
            self.next_change_ns = min(self.next_change_ns, fault.end_ns)

    def covering(self, name: str, t_ns: int) -> Fault | None:
        """Fault `name` if it is active at exactly `t_ns` (between grid steps too)."""
        fault = self._faults.get(name)
        return fault if fault is not None and fault.covers(t_ns) else None

    def update(self, t_ns: int) -> list[Fault]:
        """Bring `active` to time `t_ns`; return the faults that started."""
        started = [f for f in self._faults.values() if f.covers(t_ns) and self.active.get(f.name) is not f]
        self.active = {f.name: f for f in self._faults.values() if f.covers(t_ns)}
        # Ended faults are history: forget them so the schedule stays small.
        self._faults = {n: f for n, f in self._faults.items() if f.end_ns is None or f.end_ns > t_ns}
        changes = [f.start_ns for f in self._faults.values() if f.start_ns > t_ns]
        changes += [f.end_ns for f in self._faults.values() if f.end_ns is not None and f.end_ns > t_ns]
        self.next_change_ns = min(changes, default=_NEVER)
        return started


class Plant(ABC):
    """The physics of one asset, stepped on a fixed grid from `start_ns`.

    Subclasses set the class attributes and implement `_step` (advance the
    state by `dt_s` from time `t_ns`) and `value` (the true value of a metric
    now, or None when there is nothing to measure).
    """

    kind: ClassVar[SensorKind]
    step_s: ClassVar[float]  # integration step
    interval_s: ClassVar[float]  # how often a sensor of this plant reports
    measures: ClassVar[frozenset[str]]  # metrics this plant has a value for
    faults_known: ClassVar[frozenset[str]]

    def __init__(self, rng: random.Random, start_ns: int, clock: SiteClock, limits: Mapping[str, Limits]) -> None:
        self.rng = rng
        self.clock = clock
        self.limits = dict(limits)
        self.faults = FaultSchedule(self.faults_known, type(self).__name__)
        self._t_ns = start_ns
        self._step_ns = int(self.step_s * NS_PER_S)

    @property
    def time_ns(self) -> int:
        """The grid time the state describes."""
        return self._t_ns

    def advance(self, t_ns: int) -> None:
        """Integrate the physics up to the last grid point at or before `t_ns`."""
        step_ns, dt = self._step_ns, self.step_s
        t = self._t_ns
        while t + step_ns <= t_ns:
            if t >= self.faults.next_change_ns:
                for fault in self.faults.update(t):
                    self._fault_started(fault, t)
            self._step(t, dt)
            t += step_ns
            self._t_ns = t

    def inject(self, fault: str, at_ns: int, params: FaultParams | None = None) -> None:
        """Inject `fault` from `at_ns` (the past cannot change: earlier means now)."""
        self.faults.inject(fault, max(at_ns, self._t_ns), params or {})

    def clear(self, fault: str, at_ns: int) -> None:
        """End `fault` at `at_ns` (or now, if that is already past)."""
        self.faults.clear(fault, max(at_ns, self._t_ns))

    def _fault_started(self, fault: Fault, t_ns: int) -> None:
        """Hook for faults with a one-off effect when they begin; most have none."""
        return None

    @abstractmethod
    def _step(self, t_ns: int, dt_s: float) -> None: ...

    @abstractmethod
    def value(self, metric: str, t_ns: int) -> Value | None:
        """The true value of `metric` at `t_ns` (state of the last grid point), or None."""


def limit_bounds(limits: Mapping[str, Limits], metric: str) -> tuple[float | None, float | None]:
    """The effective (low, high) alarm bounds of `metric`, None where unset."""
    lim = limits.get(metric)
    return (lim.effective_low, lim.effective_high) if lim is not None else (None, None)


def ar1(previous: float, rng: random.Random, keep: float, sd: float) -> float:
    """One step of a first-order autoregressive wander around zero."""
    return keep * previous + rng.gauss(0.0, sd)

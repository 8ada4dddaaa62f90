"""On-call schedules, escalation policies and routing: who is paged for an
alert, and who next when nobody acknowledges.

The `oncall:` section of a YAML file (see `load_oncall_config`):

```yaml
oncall:
  contact_points:            # name -> apprise URL; a secret (may carry passwords, tokens)
    wang-mail: "mailto://vigil:PASSWORD@smtp.hospital.example:587?from=vigil@hospital.example&to=wang@hospital.example"
    wang-sms: "twilio://SID:TOKEN@+8610000000/+8613800000001"
    zhang-mail: "mailto://vigil:PASSWORD@smtp.hospital.example:587?from=vigil@hospital.example&to=zhang@hospital.example"
    chen-mail: "mailto://vigil:PASSWORD@smtp.hospital.example:587?from=vigil@hospital.example&to=chen@hospital.example"
    facilities-wecom: "wecombot://BOTKEY"
    ops-webhook: "jsons://hooks.hospital.example/vigil"
  people:
    wang: {name: Wang Li, contact_points: [wang-mail, wang-sms]}
    zhang: {name: Zhang Wei, contact_points: [zhang-mail]}
    chen: {name: Chen Jing (facilities lead), contact_points: [chen-mail]}
  schedules:
    facilities:
      timezone: Asia/Shanghai
      handover: "08:00"      # local time the shift changes
      shift_days: 1          # 1 = daily rotation, 7 = weekly
      start: 2026-01-05      # rotation[0] is on call from this date's hand-over
      rotation: [wang, zhang]
      overrides:             # holidays, swaps
        - {person: chen, start: "2026-02-10T08:00:00+08:00", end: "2026-02-17T08:00:00+08:00"}
  escalation_policies:
    critical:
      tiers:
        - notify: [{schedule: facilities}, {contact_point: facilities-wecom}]
          escalate_after_minutes: 15     # half the 30-minute emergency response window
        - notify: [{person: chen}]
          escalate_after_minutes: 15
      repeat: 2              # passes through all tiers after the first one
    standard:
      tiers:
        - notify: [{schedule: facilities}]
          escalate_after_minutes: 60     # half the 2-hour on-site window
        - notify: [{person: chen}]
          escalate_after_minutes: 60
      repeat: 0
  routes:                    # first match wins
    - match: {severity: [critical]}
      policy: critical
  default_policy: standard
  work_orders:
    notify: [{schedule: facilities}]
    escalate_to: [{person: chen}]
```
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

import yaml
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from vigil.profiles import Severity
from vigil.registry import ConfigError, ConfigProblem, known_timezone, line_of


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Model):
    """Whom a tier notifies: whoever is on call in a schedule, a person, or a
    shared contact point (a team's WeCom group, a webhook)."""

    schedule: str | None = None
    person: str | None = None
    contact_point: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if sum(x is not None for x in (self.schedule, self.person, self.contact_point)) != 1:
            raise ValueError("a target names exactly one of: schedule, person, contact_point")
        return self

    def describe(self) -> str:
        """Who this target is, for people."""
        if self.schedule is not None:
            return f"on call in {self.schedule}"
        return self.person if self.person is not None else f"contact point {self.contact_point}"


class Person(_Model):
    name: str
    contact_points: list[str] = Field(min_length=1)


class Override(_Model):
    """`person` is on call instead of the rotation between `start` and `end`."""

    person: str
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")
        return self


class Schedule(_Model):
    """A rotation of people handing over at a fixed local time."""

    timezone: Annotated[str, AfterValidator(known_timezone)] = "UTC"
    handover: time = time(8, 0)
    shift_days: int = Field(default=1, ge=1)
    start: date
    rotation: list[str] = Field(min_length=1)
    overrides: list[Override] = []

    def on_call(self, at: datetime) -> str:
        """The person on call at `at` (an aware datetime)."""
        for override in self.overrides:
            if override.start <= at < override.end:
                return override.person
        local = at.astimezone(ZoneInfo(self.timezone))
        # Count local calendar days, so a DST change does not move the hand-over.
        days = (local.date() - self.start).days
        if local.time() < self.handover:
            days -= 1
        return self.rotation[(days // self.shift_days) % len(self.rotation)]


class Tier(_Model):
    notify: list[Target] = Field(min_length=1)
    escalate_after_minutes: float = Field(default=15, gt=0)

    @property
    def escalate_after(self) -> timedelta:
        """How long to wait for an acknowledgement before the next tier."""
        return timedelta(minutes=self.escalate_after_minutes)


class EscalationPolicy(_Model):
    """Tier 1 first; if nobody acknowledges within its `escalate_after_minutes`,
    the next tier; after the last tier, the whole policy again `repeat` times."""

    tiers: list[Tier] = Field(min_length=1)
    repeat: int = Field(default=1, ge=0)


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What routing looks at."""

    severity: Severity
    family: str | None
    building: str | None
    rule_kind: str


class RouteMatch(_Model):
    """Every given field must match; an empty match matches everything."""

    severity: list[Severity] | None = None
    family: list[str] | None = None
    building: list[str] | None = None
    rule_kind: list[str] | None = None

    def matches(self, facts: RoutingFacts) -> bool:
        """Whether an alert with these facts takes this route."""
        return all([
            self.severity is None or facts.severity in self.severity,
            self.family is None or facts.family in self.family,
            self.building is None or facts.building in self.building,
            self.rule_kind is None or facts.rule_kind in self.rule_kind,
        ])


class Route(_Model):
    match: RouteMatch = RouteMatch()
    policy: str


class WorkOrderRouting(_Model):
    """Who hears of new maintenance work orders, and who when one is not
    responded to within half its window."""

    notify: list[Target] = []
    escalate_to: list[Target] = []


@dataclass(frozen=True, slots=True)
class Recipient:
    contact_point: str
    person: str | None  # None for a shared contact point


class OnCallConfig(_Model):
    """The `oncall:` section: contact points, people, schedules, escalation
    policies and routes. Every reference is checked when it loads."""

    contact_points: dict[str, SecretStr] = {}
    people: dict[str, Person] = {}
    schedules: dict[str, Schedule] = {}
    escalation_policies: dict[str, EscalationPolicy] = {}
    routes: list[Route] = []
    default_policy: str | None = None
    work_orders: WorkOrderRouting = WorkOrderRouting()

    @model_validator(mode="after")
    def _references(self) -> Self:
        problems = list(self.reference_problems())
        if problems:
            raise ValueError("; ".join(f"{path}: {msg}" for path, msg in problems))
        return self

    def reference_problems(self) -> Iterable[tuple[str, str]]:
        """(path, message) for every name that points nowhere."""

        def known(names: Iterable[str]) -> str:
            return ", ".join(sorted(names)) or "none defined"

        for pid, person in self.people.items():
            for i, cp in enumerate(person.contact_points):
                if cp not in self.contact_points:
                    yield f"people.{pid}.contact_points[{i}]", f"unknown contact point {cp!r} (known: {known(self.contact_points)})"
        for sid, schedule in self.schedules.items():
            for i, pid in enumerate(schedule.rotation):
                if pid not in self.people:
                    yield f"schedules.{sid}.rotation[{i}]", f"unknown person {pid!r} (known: {known(self.people)})"
            for i, override in enumerate(schedule.overrides):
                if override.person not in self.people:
                    yield f"schedules.{sid}.overrides[{i}].person", f"unknown person {override.person!r}"

        def targets(path: str, items: Sequence[Target]) -> Iterable[tuple[str, str]]:
            for i, t in enumerate(items):
                if t.schedule is not None and t.schedule not in self.schedules:
                    yield f"{path}[{i}]", f"unknown schedule {t.schedule!r} (known: {known(self.schedules)})"
                if t.person is not None and t.person not in self.people:
                    yield f"{path}[{i}]", f"unknown person {t.person!r} (known: {known(self.people)})"
                if t.contact_point is not None and t.contact_point not in self.contact_points:
                    yield f"{path}[{i}]", f"unknown contact point {t.contact_point!r} (known: {known(self.contact_points)})"

        for name, policy in self.escalation_policies.items():
            for ti, tier in enumerate(policy.tiers):
                yield from targets(f"escalation_policies.{name}.tiers[{ti}].notify", tier.notify)
        for i, route in enumerate(self.routes):
            if route.policy not in self.escalation_policies:
                yield f"routes[{i}].policy", f"unknown escalation policy {route.policy!r} (known: {known(self.escalation_policies)})"
        if self.default_policy is not None and self.default_policy not in self.escalation_policies:
            yield "default_policy", f"unknown escalation policy {self.default_policy!r} (known: {known(self.escalation_policies)})"
        yield from targets("work_orders.notify", self.work_orders.notify)
        yield from targets("work_orders.escalate_to", self.work_orders.escalate_to)

    def policy_for(self, facts: RoutingFacts) -> str | None:
        """The name of the escalation policy for an alert: the first matching
        route's, else the default (None: nobody is paged)."""
        for route in self.routes:
            if route.match.matches(facts):
                return route.policy
        return self.default_policy

    def recipients(self, targets: Sequence[Target], at: datetime, exclude: Iterable[str] = ()) -> list[Recipient]:
        """The contact points `targets` resolve to at `at`, each once, in order."""
        skip = set(exclude)
        out: dict[str, Recipient] = {}
        for target in targets:
            if target.contact_point is not None:
                found = [Recipient(target.contact_point, None)]
            else:
                pid = self.schedules[target.schedule].on_call(at) if target.schedule is not None else target.person
                assert pid is not None  # the validator saw to that
                found = [Recipient(cp, pid) for cp in self.people[pid].contact_points]
            for r in found:
                if r.contact_point not in skip:
                    out.setdefault(r.contact_point, r)
        return list(out.values())


def parse_oncall_config(data: Any, file: str = "<oncall>", node: yaml.Node | None = None) -> OnCallConfig:
    """Validate an `oncall:` mapping; raise ConfigError naming every problem."""
    try:
        return OnCallConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-after["))]
            path = ".".join(str(p) for p in loc)
            message = "unknown field (check the spelling)" if err["type"] == "extra_forbidden" else str(err["msg"])
            problems.append(ConfigProblem(file, path, message.removeprefix("Value error, "), line_of(node, loc)))
        raise ConfigError(problems) from None


def load_oncall_config(path: Path | str, section: str = "oncall") -> OnCallConfig:
    """The on-call config in YAML file `path`: its `section` mapping when the
    file has one (a settings file), else the whole file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(path), "", f"cannot read the file: {exc.strerror}")]) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError([ConfigProblem(str(path), "", f"not valid YAML: {exc.problem}", line)]) from None
    node = root
    if isinstance(data, dict) and section in data:
        data = data[section]
        if isinstance(root, yaml.MappingNode):
            node = next((v for k, v in root.value if k.value == section), root)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(str(path), section, "expected a mapping")])
    return parse_oncall_config(data, str(path), node)


__all__ = [
    "EscalationPolicy", "OnCallConfig", "Override", "Person", "Recipient", "Route", "RouteMatch", "RoutingFacts",
    "Schedule", "Target", "Tier", "WorkOrderRouting", "load_oncall_config", "parse_oncall_config",
]

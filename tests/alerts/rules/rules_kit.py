"""The rules-engine test kit: facilities, time, synthetic readings and ways
to pick transitions out of what the engine says."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from alerts.model import AlertState, ExcursionEvent, RuleKind, Transition
from alerts.rules import RulesEngine
from vigil.contract import Reading
from vigil.profiles import PROFILES
from vigil.registry import Registry, load_registry, parse_registry

SMALL_FACILITY = Path(__file__).parents[2] / "data" / "small-facility.yaml"
TIMEZONE = "Asia/Shanghai"
S = 1_000_000_000
MIN = 60 * S
HOUR = 60 * MIN
DAY = 24 * HOUR
WEEK = 7 * DAY
# Monday 2025-03-03 00:00 in Shanghai: a weekday, a site with a time zone.
START_NS = int(datetime(2025, 3, 3, tzinfo=ZoneInfo(TIMEZONE)).timestamp()) * S

Said = Transition | ExcursionEvent


def small_facility() -> Registry:
    return load_registry(SMALL_FACILITY)


def every_profile_facility() -> Registry:
    """One asset of every profile, each alone on its own gateway."""
    gateways = "\n".join(f"      - id: gw-{p}" for p in PROFILES)
    assets = "\n".join(
        f"                  - {{id: {p}-1, name: {p} 1, profile: {p}, sensors: [{{id: {p}-1-s, gateway: gw-{p}}}]}}"
        for p in PROFILES
    )
    return parse_registry(
        f"""
sites:
  - id: test
    name: Test site
    timezone: {TIMEZONE}
    gateways:
{gateways}
    buildings:
      - id: b
        name: Building
        floors:
          - id: f
            name: Floor
            rooms:
              - id: r
                name: Room
                assets:
{assets}
""",
        "every-profile.yaml",
    )


def engine_for(registry: Registry, now_ns: int = START_NS) -> RulesEngine:
    """An engine whose wall clock reads `now_ns` (tests tick explicitly)."""
    return RulesEngine(registry, clock=lambda: now_ns)


def readings(
    sensor: str, metric: str, values: Sequence[float | bool], start_ns: int = START_NS, step_ns: int = MIN
) -> list[Reading]:
    """One reading per value, `step_ns` apart from `start_ns`."""
    return [Reading(sensor, metric, v, start_ns + i * step_ns) for i, v in enumerate(values)]


def feed(engine: RulesEngine, items: Iterable[Reading]) -> list[Said]:
    """Everything the engine says about `items`, in order."""
    out: list[Said] = []
    for reading in items:
        out.extend(engine.observe(reading))
    return out


def transitions(said: Iterable[Said], rule_id: str | None = None, state: AlertState | None = None) -> list[Transition]:
    return [
        t for t in said
        if isinstance(t, Transition) and (rule_id is None or t.rule_id == rule_id) and (state is None or t.state is state)
    ]  # fmt: skip


def firing(said: Iterable[Said], kind: RuleKind | None = None) -> list[Transition]:
    return [t for t in transitions(said, state=AlertState.FIRING) if kind is None or t.rule_kind is kind]


def excursions(said: Iterable[Said]) -> list[ExcursionEvent]:
    return [e for e in said if isinstance(e, ExcursionEvent)]


def states(said: Iterable[Said], rule_id: str) -> list[AlertState]:
    return [t.state for t in transitions(said, rule_id)]

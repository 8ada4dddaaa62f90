"""On-call schedules and the oncall: config section: rotations hand over at
local time, overrides win, and every broken reference is reported with its
path and line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alerts.oncall import OnCallConfig, RoutingFacts, Schedule, Target, load_oncall_config
from alerts.oncall import __doc__ as ONCALL_DOC
from vigil.profiles import Severity
from vigil.registry import ConfigError


def _shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_daily_rotation_hands_over_at_the_local_handover_time() -> None:
    schedule = Schedule.model_validate({"timezone": "Asia/Shanghai", "handover": "08:00", "start": "2026-11-23",
                                        "rotation": ["wang", "zhang", "li"]})
    assert schedule.on_call(_shanghai(23, 8)) == "wang"
    assert schedule.on_call(_shanghai(24, 7, 59)) == "wang"  # the night belongs to the previous day's shift
    assert schedule.on_call(_shanghai(24, 8)) == "zhang"
    assert schedule.on_call(_shanghai(26, 9)) == "wang"  # round again


def test_a_weekly_rotation_and_an_override() -> None:
    schedule = Schedule.model_validate({
        "timezone": "Asia/Shanghai", "handover": "09:00", "shift_days": 7, "start": "2026-11-23",
        "rotation": ["wang", "zhang"],
        "overrides": [{"person": "chen", "start": "2026-12-01T09:00:00+08:00", "end": "2026-12-02T09:00:00+08:00"}],
    })
    assert schedule.on_call(_shanghai(29, 10)) == "wang"
    assert schedule.on_call(_shanghai(30, 10)) == "zhang"
    assert schedule.on_call(datetime(2026, 12, 1, 3, 0, tzinfo=UTC)) == "chen"  # 11:00 in Shanghai, the override


def test_the_documented_example_is_a_valid_config(tmp_path: Path) -> None:
    example = ONCALL_DOC.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "vigil.yaml"
    path.write_text(example, encoding="utf-8")
    config = load_oncall_config(path)
    assert config.policy_for(RoutingFacts(Severity.CRITICAL, "cold_chain", "main", "threshold")) == "critical"
    assert config.policy_for(RoutingFacts(Severity.WARNING, "uv_lamp", "main", "threshold")) == "standard"
    assert "PASSWORD" not in repr(config)  # contact point URLs are secrets


def test_every_broken_reference_is_reported_with_its_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "oncall.yaml"
    path.write_text(
        "oncall:\n"
        "  contact_points: {wang-mail: 'mailto://localhost?to=wang@h.test'}\n"
        "  people:\n"
        "    wang: {name: Wang, contact_points: [wang-mail, wang-sms]}\n"
        "  schedules:\n"
        "    day: {start: 2026-11-23, rotation: [wang, ghost]}\n"
        "  escalation_policies:\n"
        "    critical:\n"
        "      tiers: [{notify: [{schedule: night}]}]\n"
        "  default_policy: urgent\n",
        encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_oncall_config(path)
    text = str(caught.value)
    for expected in ("unknown contact point 'wang-sms'", "unknown person 'ghost'", "unknown schedule 'night'",
                     "unknown escalation policy 'urgent'"):
        assert expected in text
    assert f"{path}:" in text


def test_a_target_names_exactly_one_thing() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        OnCallConfig.model_validate({"work_orders": {"notify": [{"person": "a", "schedule": "b"}]}})


def test_recipients_resolve_each_contact_point_once() -> None:
    config = OnCallConfig.model_validate({
        "contact_points": {"a-mail": "mailto://h?to=a@h.test", "team": "json://h/hook"},
        "people": {"a": {"name": "A", "contact_points": ["a-mail", "team"]}},
        "schedules": {"s": {"start": "2026-11-23", "rotation": ["a"]}},
    })
    found = config.recipients([Target(schedule="s"), Target(person="a"), Target(contact_point="team")],
                              datetime(2026, 11, 23, 12, tzinfo=UTC), exclude=["a-mail"])
    assert [(r.contact_point, r.person) for r in found] == [("team", "a")]

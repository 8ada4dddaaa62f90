"""The rules engine's snapshot in the store, in parts: one row for the
engine, one per state group (a sensor with its rules, a gateway with its
rule; `alerts.rules.state_group`). A checkpoint upserts the groups that
changed (`RulesEngine.take_changes` hands over whole groups); a complete
snapshot replaces every row, which also drops the groups of sensors and
rules no longer configured. Loading lays the rows back into one snapshot for
`RulesEngine.restore`. A complete snapshot written in slices (the alerts
service's checkpoint rounds) is upserted slice by slice and then `prune`d of
the groups the engine no longer has.

A store from before the parts kept the snapshot whole in `key_values`; the
rows are laid over it until a complete save replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from alerts.rules import state_group
from alerts.store.schema import EngineStateRow, KeyValueRow

LEGACY_KEY = "rules_engine"  # the whole snapshot's key in key_values
ENGINE = "engine"
_GROUP = "group/"
_CHUNK = 5000  # rows per executemany: bounded statement memory on a complete save


def parts_of(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Row name -> JSON value: the `engine` row with everything but the
    sensors and evaluators, and a row per state group with those."""
    head = {k: v for k, v in snapshot.items() if k not in ("sensors", "evaluators", "complete")}
    groups: dict[str, dict[str, Any]] = {}
    for sid, state in snapshot.get("sensors", {}).items():
        groups.setdefault(_GROUP + sid, {})["sensor"] = state
    for key, state in snapshot.get("evaluators", {}).items():
        groups.setdefault(_GROUP + state_group(key), {}).setdefault("evaluators", {})[key] = state
    return {ENGINE: head, **groups}


def snapshot_of(parts: Iterable[tuple[str, Any]]) -> dict[str, Any] | None:
    """The snapshot the rows make up, a later row of a group replacing an
    earlier one whole; None without an `engine` row."""
    head: dict[str, Any] | None = None
    groups: dict[str, Any] = {}
    for name, value in parts:
        if name == ENGINE:
            head = dict(value)
        elif name.startswith(_GROUP):
            groups[name] = value
    sensors: dict[str, Any] = {}
    evaluators: dict[str, Any] = {}
    for name, value in groups.items():
        if "sensor" in value:
            sensors[name[len(_GROUP):]] = value["sensor"]
        evaluators.update(value.get("evaluators", {}))
    return None if head is None else {**head, "sensors": sensors, "evaluators": evaluators}


def rows_of(snapshot: dict[str, Any]) -> list[dict[str, str]]:
    """The rows to write, encoded: done before the store is taken, so alert
    transitions wait behind the writing only."""
    # Encoded here, not by a JSON column: at 100,000 sensors the json module
    # was a fifth of the alerts service's CPU.
    return [{"part": name, "value": orjson.dumps(value).decode()} for name, value in parts_of(snapshot).items()]


def write(s: Session, rows: list[dict[str, str]], complete: bool) -> None:
    """Upsert `rows` (from `rows_of`); if they are a complete snapshot, first
    delete every row (groups of retired sensors and rules with them)."""
    table = EngineStateRow.__table__
    if complete:
        s.execute(delete(EngineStateRow))
        s.execute(delete(KeyValueRow).where(KeyValueRow.key == LEGACY_KEY))
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table)
    upsert = insert.on_conflict_do_update(index_elements=[table.c.part], set_={"value": insert.excluded.value})
    for i in range(0, len(rows), _CHUNK):
        s.execute(upsert, rows[i:i + _CHUNK])


def prune(s: Session, keep: set[str]) -> None:
    """Delete the rows of groups not in `keep`, and the legacy snapshot: the
    end of a complete snapshot written in slices."""
    retired = [part for part in s.scalars(select(EngineStateRow.part))
               if part.startswith(_GROUP) and part[len(_GROUP):] not in keep]
    for i in range(0, len(retired), _CHUNK):
        s.execute(delete(EngineStateRow).where(EngineStateRow.part.in_(retired[i:i + _CHUNK])))
    s.execute(delete(KeyValueRow).where(KeyValueRow.key == LEGACY_KEY))


def load(s: Session) -> dict[str, Any] | None:
    """The saved snapshot: the legacy whole one if any, with the rows laid
    over it group by group; None if there is neither."""
    legacy = s.get(KeyValueRow, LEGACY_KEY)
    parts: list[tuple[str, Any]] = list(parts_of(dict(legacy.value)).items()) if legacy is not None else []
    parts += [(row.part, orjson.loads(row.value)) for row in s.scalars(select(EngineStateRow))]
    return snapshot_of(parts)

"""The rules engine's snapshot in the store, in parts: one row for the
engine, one per sensor, one per evaluator. A checkpoint upserts the parts
that changed (`RulesEngine.take_changes`); a complete snapshot replaces them
all, which also drops the parts of sensors and rules no longer configured.
Loading lays every part back into one snapshot for `RulesEngine.restore`.

A store from before the parts kept the snapshot whole in `key_values`;
it is read until the first complete save replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from alerts.store.schema import EngineStateRow, KeyValueRow

LEGACY_KEY = "rules_engine"  # the whole snapshot's key in key_values
ENGINE = "engine"
_SENSOR, _RULE = "sensor/", "rule/"
_SECTIONS = {"sensors": _SENSOR, "evaluators": _RULE}
_CHUNK = 5000  # rows per executemany: bounded statement memory on a complete save


def parts_of(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Part name -> JSON value; everything but the per-sensor and
    per-evaluator sections goes into the one `engine` part."""
    parts: dict[str, Any] = {ENGINE: {k: v for k, v in snapshot.items() if k not in _SECTIONS and k != "complete"}}
    for section, prefix in _SECTIONS.items():
        for name, value in snapshot.get(section, {}).items():
            parts[prefix + name] = value
    return parts


def snapshot_of(parts: Iterable[tuple[str, Any]]) -> dict[str, Any] | None:
    """The snapshot the parts make up; None without an `engine` part."""
    head: dict[str, Any] | None = None
    sections: dict[str, dict[str, Any]] = {section: {} for section in _SECTIONS}
    for name, value in parts:
        if name == ENGINE:
            head = dict(value)
            continue
        for section, prefix in _SECTIONS.items():
            if name.startswith(prefix):
                sections[section][name[len(prefix):]] = value
                break
    return None if head is None else {**head, **sections}


def save(s: Session, snapshot: dict[str, Any]) -> None:
    """Upsert the snapshot's parts; replace all parts if it is complete
    (`complete` true or absent)."""
    rows = [{"part": name, "value": value} for name, value in parts_of(snapshot).items()]
    table = EngineStateRow.__table__
    if snapshot.get("complete", True):
        s.execute(delete(EngineStateRow))
        s.execute(delete(KeyValueRow).where(KeyValueRow.key == LEGACY_KEY))
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table)
    upsert = insert.on_conflict_do_update(index_elements=[table.c.part], set_={"value": insert.excluded.value})
    for i in range(0, len(rows), _CHUNK):
        s.execute(upsert, rows[i:i + _CHUNK])


def load(s: Session) -> dict[str, Any] | None:
    """The saved snapshot (from the parts, else the legacy whole one), or None."""
    found = snapshot_of((row.part, row.value) for row in s.scalars(select(EngineStateRow)))
    if found is not None:
        return found
    legacy = s.get(KeyValueRow, LEGACY_KEY)
    return dict(legacy.value) if legacy is not None else None

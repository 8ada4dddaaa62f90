"""Roll-ups for readings that arrive late.

The downsampling tasks (vigil/infra/downsampling.py) roll up only the last 5
minutes (minute task) and the last 2 hours (hour task). Readings a gateway
delivers from its backlog after an outage are older than that, and without a
catch-up their minutes and hours would stay empty in the two-year buckets:
after 30 days, the history of an outage, the stretch an incident review asks
about, would be gone.

So ingest notes the (gateway, minute) of every reading it writes more than
`LATE_AFTER_S` old (`LateLedger`, a SQLite table shared by the workers on the
machine), and `catch_up` re-runs the roll-ups over those minutes, and over
the hours that hold them, for those gateways only: a run costs per series
(Flux), and one gateway's series are a small part of a hospital group's.
Rewriting a window writes the same points again, which InfluxDB overwrites.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from influxdb_client import InfluxDBClient

from ingest.sequence import shared_db
from vigil.infra.downsampling import hour_flux, minute_flux
from vigil.settings import InfluxEndpoint

log = logging.getLogger("vigil.ingest.catchup")

MINUTE_S = 60
HOUR_MINUTES = 60
# Minutes the regular minute task may still cover are left to it.
SETTLE_MINUTES = 6
MAX_MINUTES_PER_RUN = 6 * HOUR_MINUTES  # bounds one run's work; the rest waits for the next


class LateLedger:
    """(gateway, epoch minute) pairs whose roll-ups must be redone."""

    def __init__(self, path: Path):
        self._db = shared_db(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS late (gateway TEXT NOT NULL, minute INTEGER NOT NULL, PRIMARY KEY (gateway, minute))")

    def record(self, pairs: Iterable[tuple[str, int]]) -> None:
        rows = list(pairs)
        if rows:
            self._db.executemany("INSERT OR IGNORE INTO late VALUES (?, ?)", rows)

    def pending(self) -> list[tuple[str, int]]:
        return [(g, int(m)) for g, m in self._db.execute("SELECT gateway, minute FROM late ORDER BY gateway, minute")]

    def take(self, before_minute: int, limit: int = MAX_MINUTES_PER_RUN) -> list[tuple[str, int]]:
        """Remove and return up to `limit` pairs older than `before_minute`."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = [(g, int(m)) for g, m in db.execute(
                "SELECT gateway, minute FROM late WHERE minute < ? ORDER BY gateway, minute LIMIT ?", (before_minute, limit))]
            db.executemany("DELETE FROM late WHERE gateway = ? AND minute = ?", rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return rows

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True, slots=True)
class Span:
    """[start, stop) in epoch minutes, for one gateway."""

    gateway: str
    start: int
    stop: int


def spans(pairs: Iterable[tuple[str, int]]) -> list[Span]:
    """Consecutive minutes of a gateway merged into spans."""
    out: list[Span] = []
    for gateway, minute in sorted(set(pairs)):
        last = out[-1] if out else None
        if last is not None and last.gateway == gateway and last.stop == minute:
            out[-1] = Span(gateway, last.start, minute + 1)
        else:
            out.append(Span(gateway, minute, minute + 1))
    return out


def hours(minute_spans: Iterable[Span], before_minute: int) -> list[Span]:
    """The whole hours that hold these minutes, as spans of minutes, merged
    per gateway; only hours that have ended by `before_minute` (the hour
    task rolls up the others itself)."""
    pairs = []
    for span in minute_spans:
        for hour in range(span.start // HOUR_MINUTES, (span.stop - 1) // HOUR_MINUTES + 1):
            if (hour + 1) * HOUR_MINUTES <= before_minute:
                pairs += [(span.gateway, m) for m in range(hour * HOUR_MINUTES, (hour + 1) * HOUR_MINUTES)]
    return spans(pairs)


def _time(minute: int) -> str:
    return datetime.fromtimestamp(minute * MINUTE_S, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gateway_filter(gateway: str) -> str:
    # Gateway ids are restricted (vigil.registry.ID_PATTERN): no quoting needed.
    return f'r.gateway == "{gateway}"'


def catch_up(influx: InfluxEndpoint, ledger: LateLedger, now_s: float | None = None) -> list[Span]:
    """Redo the roll-ups of late minutes that have settled (the regular task
    no longer covers them), then of the ended hours that hold them. Returns
    the minute spans done. A failed run puts its minutes back."""
    now_minute = int((time.time() if now_s is None else now_s) // MINUTE_S)
    before = now_minute - SETTLE_MINUTES
    taken = ledger.take(before)
    if not taken:
        return []
    done = spans(taken)
    try:
        with InfluxDBClient(url=influx.url, token=influx.token.get_secret_value(), org=influx.org, timeout=300_000) as client:
            query = client.query_api()
            for span in done:
                query.query(minute_flux(_time(span.start), _time(span.stop), where=_gateway_filter(span.gateway)))
            for span in hours(done, before):
                query.query(hour_flux(_time(span.start), _time(span.stop), where=_gateway_filter(span.gateway)))
    except Exception:
        ledger.record(taken)
        raise
    log.info("rolled up %d late minute(s) of %d gateway(s) again", len(taken), len({s.gateway for s in done}))
    return done

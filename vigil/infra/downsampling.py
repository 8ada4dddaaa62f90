"""Downsampling of raw readings into the two-year buckets, by InfluxDB tasks.

`readings` (raw, 30 days) -> `readings_1m` every minute -> `readings_1h` every
hour. A downsampled point keeps the measurement and tags of its series; its
fields are the metrics, with one more tag, `stat`: `min`, `mean` and `max`
for gauges and booleans (as 0/1: `door_open` with `stat=mean` is the
fraction of samples the door was open), and `increase` for counters (energy,
volume, burn hours: the sum of the counter's rises, a reset not counted). A point's time is the *end*
of its window, as `aggregateWindow` stamps it.

The minute task runs every 5 minutes over the last 5, the hour task hourly
over the last 2 hours. Readings delivered later than that (a gateway's
backlog after an outage) are rolled up by ingest's catch-up
(ingest/catchup.py), which reruns these same queries over their minutes and
hours for their gateway only (rewriting a window writes the same points
again, which InfluxDB overwrites). The roll-ups are
read only for history older than the raw bucket's 30 days, so they need not
be fresh, but a run must be cheap. Flux pays per series (a table each) and
holds a run's windows in memory; at 100,000 series on 2 cores a run over 1
minute cost 26 CPU-s, over 5 minutes 47 CPU-s and 3.9 GB, over 10 minutes 86
CPU-s and 7.9 GB, and over 60 minutes it outgrew 23 GB: every minute over 5
minutes (before) piled up, every 5 over 5 is 16% of a core. Larger groups
of sensors would need the tasks split by site.
"""

from __future__ import annotations

from dataclasses import dataclass

from influxdb_client import InfluxDBClient
from influxdb_client.domain.task_create_request import TaskCreateRequest
from influxdb_client.domain.task_update_request import TaskUpdateRequest

from vigil.kinds import METRICS, ValueType

RAW, MINUTE, HOUR = "readings", "readings_1m", "readings_1h"
COUNTERS = tuple(sorted({m.name for metrics in METRICS.values() for m in metrics.values() if m.counter}))
BOOLEANS = tuple(sorted({m.name for metrics in METRICS.values() for m in metrics.values() if m.value_type is ValueType.BOOL}))
# How far back the previous counter reading is looked for: longer than the slowest sensor's interval.
COUNTER_LOOKBACK = "15m"


TAGS = ("site", "building", "floor", "room", "asset", "sensor", "gateway")


def _write(stream: str, stat: str, bucket: str) -> str:
    # Separate pipelines, not a union: union of differently shaped tables is
    # slow in Flux. One table (group()) before set() and to(): their cost is
    # per table, and there is one per series (3x faster at 100,000 series).
    tags = ", ".join(f'"{t}"' for t in (*TAGS, "stat"))
    return (f'{stream}\n  |> group()\n  |> set(key: "stat", value: "{stat}")\n  |> to(bucket: "{bucket}", tagColumns: [{tags}])\n'
            f'  |> count()\n  |> yield(name: "{stream.split()[0].removesuffix("()")}_{stat}")\n')


def _only(where: str) -> str:
    """A filter on tags right after range(), which InfluxDB pushes down to storage."""
    return f"\n  |> filter(fn: (r) => {where})" if where else ""


def minute_flux(start: str, stop: str, raw: str = RAW, into: str = MINUTE, where: str = "") -> str:
    """Flux that downsamples raw readings in [start, stop) into 1-minute windows
    (written to the organisation the query or task runs in); `where`, a Flux
    predicate on tags, narrows it to some series (ingest/catchup.py)."""
    counters, booleans = "|".join(COUNTERS), "|".join(BOOLEANS)
    only = _only(where)
    # `numbers` is a function so that each aggregateWindow directly follows
    # from/range/filter: then InfluxDB aggregates in storage (a shared stream
    # is read into Flux and aggregated there: 3x the CPU at 100,000 series).
    # Booleans become 0/1 first; counters need the reading before the window.
    head = f'''import "date"
start = {start}
stop = {stop}
numbers = () => from(bucket: "{raw}")
  |> range(start: start, stop: stop){only}
  |> filter(fn: (r) => r._field !~ /^({counters}|{booleans})$/)
flags = from(bucket: "{raw}")
  |> range(start: start, stop: stop){only}
  |> filter(fn: (r) => r._field =~ /^({booleans})$/)
  |> toFloat()
counters = from(bucket: "{raw}")
  |> range(start: date.sub(d: {COUNTER_LOOKBACK}, from: start), stop: stop){only}
  |> filter(fn: (r) => r._field =~ /^({counters})$/)
  |> difference(nonNegative: true)
  |> filter(fn: (r) => r._time >= start)
'''
    streams = [(f"{src} |> aggregateWindow(every: 1m, fn: {fn}, createEmpty: false)", fn)
               for src in ("numbers()", "flags") for fn in ("min", "mean", "max")]
    streams.append(("counters |> aggregateWindow(every: 1m, fn: sum, createEmpty: false)", "increase"))
    return head + "".join(_write(stream, stat, into) for stream, stat in streams)


def hour_flux(start: str, stop: str, minute: str = MINUTE, into: str = HOUR, where: str = "") -> str:
    """Flux that rolls the 1-minute points of [start, stop) up into 1-hour windows."""
    # A 1-minute point is stamped at its window's end, so the hour [h, h+1h)
    # is described by the points stamped in (h, h+1h]: windows offset by a
    # minute, shifted back after aggregating. Offsetting the window rather
    # than shifting each point first keeps the aggregation in storage.
    head = f'''import "date"
start = {start}
stop = {stop}
minutes = () => from(bucket: "{minute}")
  |> range(start: date.add(d: 1m, to: start), stop: date.add(d: 1m, to: stop)){_only(where)}
'''
    rollups = (("min", "min"), ("mean", "mean"), ("max", "max"), ("increase", "sum"))
    return head + "".join(_write(f'minutes() |> filter(fn: (r) => r.stat == "{stat}") '
                                 f"|> aggregateWindow(every: 1h, offset: 1m, fn: {fn}, createEmpty: false) "
                                 f"|> timeShift(duration: -1m)", stat, into)
                          for stat, fn in rollups)


@dataclass(frozen=True)
class DownsamplingTask:
    name: str
    every: str
    offset: str
    recompute: str  # how many windows back each run rewrites
    unit: str
    description: str

    def flux(self) -> str:
        stop = f"date.truncate(t: now(), unit: {self.unit})"
        start = f"date.sub(d: {self.recompute}, from: {stop})"
        body = (minute_flux if self.unit == "1m" else hour_flux)(start, stop)
        imports, _, rest = body.partition("\n" + "start = ")
        # Flux wants the imports first, then the task options.
        return f'{imports}\n\noption task = {{name: "{self.name}", every: {self.every}, offset: {self.offset}}}\n\nstart = {rest}'


TASKS = (
    DownsamplingTask("vigil-downsample-1m", "5m", "1m", "5m", "1m", f"{RAW} -> {MINUTE}: 1-minute min/mean/max, counter increases"),
    # After the minute task's run that closes the hour (at :01).
    DownsamplingTask("vigil-downsample-1h", "1h", "5m", "2h", "1h", f"{MINUTE} -> {HOUR}: 1-hour min/mean/max, counter increases"),
)


def ensure_downsampling_tasks(url: str, operator_token: str, org: str) -> list[str]:
    """Create or update (by task name) the downsampling tasks in `org`.

    Idempotent. Returns one line per task: its name and whether it was
    created, updated or unchanged."""
    report: list[str] = []
    with InfluxDBClient(url=url, token=operator_token, org=org, timeout=30_000) as client:
        org_id = next(o.id for o in client.organizations_api().find_organizations(org=org))
        tasks_api = client.tasks_api()
        for spec in TASKS:
            flux = spec.flux()
            existing = [t for t in tasks_api.find_tasks(name=spec.name, org_id=org_id) if t.name == spec.name]
            if not existing:
                tasks_api.create_task(task_create_request=TaskCreateRequest(  # type: ignore[no-untyped-call]
                    org_id=org_id, flux=flux, status="active", description=spec.description))
                report.append(f"{spec.name}: created")
                continue
            task = existing[0]
            if task.flux == flux and task.status == "active" and (task.description or "") == spec.description:
                report.append(f"{spec.name}: unchanged")
                continue
            tasks_api.update_task_request(task.id, TaskUpdateRequest(  # type: ignore[no-untyped-call]
                flux=flux, status="active", description=spec.description))
            report.append(f"{spec.name}: updated")
    return report

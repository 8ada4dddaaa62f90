"""Vigil's Grafana dashboards, as code. Every query is Flux against the
InfluxDB data model of docs/contract.md; panels over a month or more read the
downsampled buckets (`readings_1h`), everything shorter reads raw `readings`.

Facility constants (bands, mains, time zone) come from `FacilityFacts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dashboards.facts import FacilityFacts
from dashboards.model import Dashboard, FluxQuery, Panel, Step, Variable
from vigil.profiles import PROFILES

FACILITIES_FOLDER = "Vigil facilities"
PLATFORM_FOLDER = "Vigil platform"

SCOPE = "|> filter(fn: (r) => r.site =~ /^${site:regex}$/ and r.building =~ /^${building:regex}$/)"
SITE_SCOPE = "|> filter(fn: (r) => r.site =~ /^${site:regex}$/)"
STALE_AFTER_S = 900.0  # the slowest sensors report every minute; 15 silent minutes is not jitter
# The services write telemetry to `platform` every 10 s; a snapshot older than this is not "now".
SNAPSHOT_MAX_AGE = "5m"


def flux(text: str, **subs: str) -> str:
    """`text` with each @NAME@ replaced; Grafana's own ${var} syntax is left alone."""
    for name, value in subs.items():
        text = text.replace(f"@{name}@", value)
    if "@" in text:
        raise ValueError(f"unreplaced placeholder in {text!r}")
    return text.strip() + "\n"


def flux_dict(name: str, values: Mapping[str, float]) -> str:
    # dict.fromList needs one pair to infer its type; "" is never an asset/metric key.
    pairs = [f'{{key: "{k}", value: {float(v)!r}}}' for k, v in sorted(values.items())] or ['{key: "", value: 0.0}']
    return f"{name} = dict.fromList(pairs: [{', '.join(pairs)}])"


def flux_int_dict(name: str, values: Mapping[str, int]) -> str:
    pairs = [f'{{key: "{k}", value: {int(v)}}}' for k, v in sorted(values.items())] or ['{key: "", value: 0}']
    return f"{name} = dict.fromList(pairs: [{', '.join(pairs)}])"


def any_of(values: Iterable[str]) -> str:
    """A Flux regex literal matching exactly one of `values` (nothing, if none)."""
    vals = sorted(values)
    return "/^(" + "|".join(v.replace(".", "\\.") for v in vals) + ")$/" if vals else "/^$/"


def bands(facts: FacilityFacts, metric: str | None = None) -> str:
    """The band dictionaries ("asset/metric" -> limit), only `metric`'s if given, to keep queries short."""
    def only(values: Mapping[str, float]) -> dict[str, float]:
        return {k: v for k, v in values.items() if metric is None or k.endswith("/" + metric)}
    return "\n".join([flux_dict("lows", only(facts.lows)), flux_dict("highs", only(facts.highs)),
                      flux_dict("nominals", only(facts.nominals))])


def tag_values(tag: str, predicate: str) -> str:
    return flux('''
import "influxdata/influxdb/schema"
schema.tagValues(bucket: "readings", tag: "@TAG@", predicate: (r) => @PRED@, start: -30d)
''', TAG=tag, PRED=predicate)


SITE = Variable("site", "Site", tag_values("site", "true"))
BUILDING = Variable("building", "Building", tag_values("building", "r.site =~ /^${site:regex}$/"))


def asset_variable(name: str, label: str, predicate: str) -> Variable:
    return Variable(name, label, tag_values(
        "asset", f"{predicate} and r.site =~ /^${{site:regex}}$/ and r.building =~ /^${{building:regex}}$/"))


def band_lines(data: str, metric: str, names: Iterable[tuple[str, str]]) -> str:
    """Flux streams that draw each asset's band next to `data`: one series per (field, dict) pair."""
    out = []
    for field, table in names:
        out.append(f'''{field}_line = {data}
  |> set(key: "_field", value: "{field}")
  |> map(fn: (r) => ({{r with _value: dict.get(dict: {table}, key: r.asset + "/{metric}", default: 1000000000000000.0)}}))
  |> filter(fn: (r) => r._value < 1000000000000000.0)''')
    return "\n".join(out)


def newest_snapshot(measurement: str, field: str, scope: str) -> str:
    """Flux for the `field` points of the alerts service's newest snapshot of
    `measurement` (alerts.telemetry): every point of a snapshot has the same
    time, and the untagged `open_total` is written on every round, so a
    snapshot with nothing open is still the newest one. Defines `snapshot`
    (the points) and `fresh` (whether there is a snapshot at all); imports what `counted_by` needs."""
    return flux('''
import "array"
import "date"
stop = v.timeRangeStop
snapshots = from(bucket: "platform")
  |> range(start: date.sub(d: @AGE@, from: stop), stop: stop)
  |> filter(fn: (r) => r._measurement == "@M@")
newest = snapshots |> filter(fn: (r) => r._field == "open_total") |> group() |> last() |> findColumn(fn: (key) => true, column: "_time")
fresh = length(arr: newest) > 0
snapshot = snapshots
  |> filter(fn: (r) => r._field == "@F@" and r._time == newest[0])
  @SCOPE@
''', AGE=SNAPSHOT_MAX_AGE, M=measurement, F=field, SCOPE=scope)


def counted_by(tag: str, values: Iterable[str]) -> str:
    """The snapshot summed per `tag`, with a zero for each of `values` that has no point (only if there is a snapshot)."""
    rows = ", ".join(f'{{{tag}: "{v}", _value: 0}}' for v in values)
    return flux('''
zeros = array.from(rows: [@ROWS@]) |> filter(fn: (r) => fresh)
union(tables: [snapshot |> keep(columns: ["@TAG@", "_value"]), zeros])
  |> group(columns: ["@TAG@"])
  |> sum()
''', ROWS=rows, TAG=tag)


# --- Facility overview ---------------------------------------------------------------------------

def facility_overview(facts: FacilityFacts) -> Dashboard:
    reporting = flux('''
import "date"
import "dict"
@REGISTERED@
stop = v.timeRangeStop
from(bucket: "readings")
  |> range(start: date.sub(d: 24h, from: stop), stop: stop)
  @SCOPE@
  |> last()
  |> map(fn: (r) => ({building: r.building, sensor: r.sensor, age_s: float(v: int(v: stop) - int(v: r._time)) / 1000000000.0}))
  |> group(columns: ["building", "sensor"])
  |> min(column: "age_s")
  |> group(columns: ["building"])
  |> reduce(identity: {reporting: 0}, fn: (r, accumulator) => ({reporting: accumulator.reporting + (if r.age_s <= @STALE@ then 1 else 0)}))
  |> group()
  |> map(fn: (r) => ({r with registered: dict.get(dict: registered, key: r.building, default: r.reporting)}))
  |> map(fn: (r) => ({r with stale: if r.registered > r.reporting then r.registered - r.reporting else 0}))
  |> keep(columns: ["building", "registered", "reporting", "stale"])
''', REGISTERED=flux_int_dict("registered", facts.sensors_per_building), SCOPE=SCOPE, STALE=repr(STALE_AFTER_S))
    status = '''
import "date"
import "dict"
@BANDS@
stop = v.timeRangeStop
from(bucket: "readings")
  |> range(start: date.sub(d: 1h, from: stop), stop: stop)
  |> filter(fn: (r) => r._field =~ @BANDED@)
  @SCOPE@
  |> last()
  |> map(fn: (r) => ({r with low: dict.get(dict: lows, key: r.asset + "/" + r._field, default: -1000000000000000.0),
                            high: dict.get(dict: highs, key: r.asset + "/" + r._field, default: 1000000000000000.0)}))
  |> filter(fn: (r) => r.low > -1000000000000000.0 or r.high < 1000000000000000.0)
  |> map(fn: (r) => ({r with status: if r._value < r.low then "low" else if r._value > r.high then "high" else "ok"}))
'''
    subs = {"BANDS": bands(facts), "BANDED": any_of(facts.banded_metrics), "SCOPE": SCOPE}
    out_of_band_count = flux(status + '''
  |> map(fn: (r) => ({r with _value: if r.status == "ok" then 0 else 1}))
  |> group()
  |> sum()
''', **subs)
    band_table = flux(status + '''
  |> group()
  |> keep(columns: ["_time", "building", "room", "asset", "sensor", "_field", "_value", "low", "high", "status"])
  |> sort(columns: ["status", "asset"])
''', **subs)
    alerts_now = newest_snapshot("alerts", "active", SCOPE)
    alerts_by_severity = alerts_now + counted_by("severity", ("critical", "warning", "info"))
    alerts_table = alerts_now + flux('''
snapshot
  |> group()
  |> keep(columns: ["building", "family", "severity", "state", "_value"])
  |> rename(columns: {_value: "active"})
  |> sort(columns: ["severity", "building", "family", "state"])
''')
    orders_now = newest_snapshot("work_orders", "open", SCOPE)
    orders_by_sla = orders_now + counted_by("sla", ("breached", "due_soon", "within_sla"))
    orders_table = orders_now + flux('''
snapshot
  |> group()
  |> keep(columns: ["sla", "stage", "state", "priority", "building", "_value"])
  |> rename(columns: {_value: "open"})
  |> sort(columns: ["sla", "priority", "building"])
''')
    from_alerts = "From the alerts service's newest snapshot (written every 10 s to the `platform` bucket)."
    return Dashboard(
        uid="vigil-facility-overview", title="Facility overview", folder=FACILITIES_FOLDER,
        description="Is every sensor reporting, is every value inside its profile band, what is alarming and "
                    "which work orders are late, right now?",
        variables=(SITE, BUILDING),
        panels=(
            Panel("Values out of their band now", "stat", FluxQuery(out_of_band_count), ("_value",), width=6,
                  description="Latest value of every banded metric (last hour) outside its asset's profile band. "
                              "Alarms (with delays and hysteresis) are in Vigil alerts; this is the raw reading.",
                  steps=(Step("green"), Step("red", 1))),
            Panel("Sensors reporting vs stale, by building", "table", FluxQuery(reporting),
                  ("building", "registered", "reporting", "stale"), width=18,
                  description=f"Stale: registered but no reading in the {int(STALE_AFTER_S // 60)} minutes before the end of the range.",
                  custom={"align": "auto"}),
            Panel("Band status now", "table", FluxQuery(band_table), ("asset", "_field", "_value", "low", "high", "status"),
                  width=24, height=12,
                  description="Out-of-band rows first. ±1e15 means the band is open on that side."),
            Panel("Active alerts by severity", "stat", FluxQuery(alerts_by_severity), ("severity", "_value"), bucket="platform",
                  decimals=0, steps=(Step("green"), Step("red", 1)),
                  description="Open alerts (pending, firing or acknowledged). " + from_alerts),
            Panel("Open work orders by SLA state", "bargauge", FluxQuery(orders_by_sla), ("sla", "_value"), bucket="platform",
                  decimals=0, steps=(Step("green"), Step("orange", 1)),
                  description="Against the response window until someone responds, then the resolution window; "
                              "due soon once half the window has passed (escalation starts). " + from_alerts),
            Panel("Active alerts by building and family", "table", FluxQuery(alerts_table),
                  ("building", "family", "severity", "state", "active"), bucket="platform", description=from_alerts),
            Panel("Open work orders by SLA state, priority and building", "table", FluxQuery(orders_table),
                  ("sla", "stage", "state", "priority", "building", "open"), bucket="platform", description=from_alerts),
        ),
    )


# --- Cold chain ----------------------------------------------------------------------------------

COLD_ASSET = asset_variable("asset", "Unit", 'r._measurement == "cold_chain"')


def cold_chain(facts: FacilityFacts) -> Dashboard:
    temperature = 'from(bucket: "readings")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
    per_unit = flux('''
import "dict"
@BANDS@
data = @FROM@  |> filter(fn: (r) => r._measurement == "cold_chain" and r._field == "temperature" and r.asset == "${asset}")
  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)
@LINES@
union(tables: [data, low_line, high_line])
''', BANDS=bands(facts, "temperature"), FROM=temperature, LINES=band_lines("data", "temperature", [("low", "lows"), ("high", "highs")]))
    units = '|> filter(fn: (r) => r.asset =~ /^${asset:regex}$/)'
    door_openings = flux('''
@FROM@  |> filter(fn: (r) => r._measurement == "cold_chain" and r._field == "door_open")
  @SCOPE@
  @UNITS@
  |> toInt()
  |> difference()
  |> map(fn: (r) => ({r with _value: if r._value == 1 then 1 else 0}))
  |> group(columns: ["asset", "_field"])
  |> sum()
''', FROM=temperature, SCOPE=SCOPE, UNITS=units)
    minutes_out = flux('''
import "dict"
@BANDS@
@FROM@  |> filter(fn: (r) => r._measurement == "cold_chain" and r._field == "temperature")
  @SCOPE@
  @UNITS@
  |> elapsed(unit: 1s)
  |> map(fn: (r) => ({r with _value:
        if r._value < dict.get(dict: lows, key: r.asset + "/temperature", default: -1000000000000000.0)
           or r._value > dict.get(dict: highs, key: r.asset + "/temperature", default: 1000000000000000.0)
        then (if r.elapsed > 300 then 5.0 else float(v: r.elapsed) / 60.0) else 0.0}))
  |> group(columns: ["asset"])
  |> sum()
  |> map(fn: (r) => ({r with _field: "minutes_out_of_range"}))
''', BANDS=bands(facts, "temperature"), FROM=temperature, SCOPE=SCOPE, UNITS=units)
    # Mean kinetic temperature (USP <1079.2>): ΔH/R = 83.144 kJ/mol / 8.3144 J/(mol·K) = 10000 K.
    # Readings are evenly spaced, so the plain mean of the Arrhenius terms is the time average.
    mkt = flux('''
import "math"
@FROM@  |> filter(fn: (r) => r._measurement == "cold_chain" and r._field == "temperature")
  @SCOPE@
  @UNITS@
  |> map(fn: (r) => ({r with _value: math.exp(x: -10000.0 / (r._value + 273.15))}))
  |> group(columns: ["asset"])
  |> mean()
  |> map(fn: (r) => ({r with _field: "mkt", _value: 10000.0 / (0.0 - math.log(x: r._value)) - 273.15}))
''', FROM=temperature, SCOPE=SCOPE, UNITS=units)
    long_range = flux('''
from(bucket: "readings_1h")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "cold_chain" and r._field == "temperature")
  @SCOPE@
  @UNITS@
''', SCOPE=SCOPE, UNITS=units)
    return Dashboard(
        uid="vigil-cold-chain", title="Cold chain", folder=FACILITIES_FOLDER,
        description="Fridges, freezers and incubators: temperature against each unit's allowed band, doors, excursions, MKT.",
        variables=(SITE, BUILDING, COLD_ASSET),
        panels=(
            Panel("Temperature and allowed band: ${asset}", "timeseries", FluxQuery(per_unit), ("temperature", "low", "high"),
                  repeat="asset", unit="celsius", decimals=1,
                  description="Mean per display interval; the band lines are the unit's profile limits with overrides."),
            Panel("Door openings", "bargauge", FluxQuery(door_openings), ("door_open",), width=8, decimals=0,
                  description="Closed-to-open transitions in the range."),
            Panel("Minutes out of range, last 7 days", "bargauge", FluxQuery(minutes_out), ("minutes_out_of_range",),
                  width=8, time_from="7d", unit="m", decimals=0, steps=(Step("green"), Step("orange", 1), Step("red", 30)),
                  description="Time each unit's temperature spent outside its band (gaps over 5 minutes count as 5)."),
            Panel("Mean kinetic temperature", "stat", FluxQuery(mkt), ("mkt",), width=8, unit="celsius", decimals=2,
                  description="MKT over the range, ΔH = 83.144 kJ/mol (USP <1079.2>)."),
            Panel("Temperature, last 90 days (hourly min/mean/max)", "timeseries", FluxQuery(long_range),
                  ("temperature", "min", "mean", "max"), width=24, time_from="90d",
                  unit="celsius", bucket="readings_1h", description="From the 1-hour downsampled bucket."),
        ),
    )


# --- Medical gases -------------------------------------------------------------------------------

ZONE = asset_variable("zone", "Zone", 'r._measurement == "medical_gas" and r._field == "pressure"')
VACUUM_LOW = PROFILES["vacuum_line"].thresholds["vacuum"].effective_low or 0.0
LOX_LOW = PROFILES["lox_tank"].thresholds["tank_level"].effective_low or 0.0


def medical_gases(facts: FacilityFacts) -> Dashboard:
    raw = 'from(bucket: "readings")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
    pressure = flux('''
import "dict"
@BANDS@
data = @FROM@  |> filter(fn: (r) => r._measurement == "medical_gas" and r._field == "pressure" and r.asset == "${zone}")
  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)
@LINES@
union(tables: [data, nominal_line, low_line, high_line])
''', BANDS=bands(facts, "pressure"), FROM=raw,
        LINES=band_lines("data", "pressure", [("nominal", "nominals"), ("low", "lows"), ("high", "highs")]))
    vacuum = flux('''
@FROM@  |> filter(fn: (r) => r._measurement == "medical_gas" and r._field == "vacuum")
  @SCOPE@
  |> aggregateWindow(every: v.windowPeriod, fn: min, createEmpty: false)
''', FROM=raw, SCOPE=SCOPE)
    # Use is the sum of the level's falls (hourly means, so noise does not add up) over the
    # last three days; a refill (a rise) is not use.
    supply = flux('''
import "date"
stop = v.timeRangeStop
from(bucket: "readings")
  |> range(start: date.sub(d: 3d, from: stop), stop: stop)
  |> filter(fn: (r) => r._measurement == "medical_gas" and r._field == "tank_level")
  @SCOPE@
  |> aggregateWindow(every: 1h, fn: mean, createEmpty: false)
  |> reduce(identity: {first: 0, last: 0, n: 0, prev: 0.0, used: 0.0, level: 0.0}, fn: (r, accumulator) => ({
        first: if accumulator.n == 0 then int(v: r._time) else accumulator.first,
        last: int(v: r._time),
        n: accumulator.n + 1,
        prev: r._value,
        used: if accumulator.n > 0 and r._value < accumulator.prev then accumulator.used + accumulator.prev - r._value else accumulator.used,
        level: r._value}))
  |> filter(fn: (r) => r.n > 1)
  |> map(fn: (r) => ({asset: r.asset, building: r.building, level: r.level,
                      use_per_day: r.used / (float(v: r.last - r.first) / 86400000000000.0)}))
  |> map(fn: (r) => ({r with days_of_supply: if r.use_per_day > 0.0 then r.level / r.use_per_day else 999.0}))
  |> group()
''', SCOPE=SCOPE)
    lox_level = flux('''
from(bucket: "readings_1h")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "medical_gas" and r._field == "tank_level" and r.stat == "mean")
  @SCOPE@
''', SCOPE=SCOPE)
    return Dashboard(
        uid="vigil-medical-gases", title="Medical gases", folder=FACILITIES_FOLDER,
        description="Pipeline pressure against nominal and the ±20% area-alarm band, vacuum, bulk liquid oxygen.",
        variables=(SITE, BUILDING, ZONE),
        panels=(
            Panel("Pipeline pressure: ${zone}", "timeseries", FluxQuery(pressure), ("pressure", "nominal", "low", "high"),
                  repeat="zone", unit="kpa", decimals=0,
                  description="Mean per display interval, the zone's nominal and its area-alarm limits (NFPA 99: ±20%)."),
            Panel("Vacuum", "timeseries", FluxQuery(vacuum), ("vacuum",), unit="kpa",
                  description=f"Depth below atmosphere, lowest per interval; the line is the low-vacuum alarm ({VACUUM_LOW} kPa).",
                  steps=(Step("red"), Step("green", VACUUM_LOW)), custom={"thresholdsStyle": {"mode": "line"}}),
            Panel("LOX days of supply left", "stat", FluxQuery(supply), ("level", "use_per_day", "days_of_supply"),
                  width=6, unit="d", decimals=1, steps=(Step("red"), Step("orange", 3), Step("green", 7)),
                  options={"reduceOptions": {"fields": "/^days_of_supply$/", "calcs": ["lastNotNull"], "values": True}},
                  description="Tank level now divided by the mean daily use over the last three days (refills excluded)."),
            Panel("LOX tank level, last 90 days", "timeseries", FluxQuery(lox_level), ("tank_level", "mean"), width=18,
                  time_from="90d", unit="percent", minimum=0, maximum=100, bucket="readings_1h",
                  steps=(Step("red"), Step("green", LOX_LOW)), custom={"thresholdsStyle": {"mode": "line"}},
                  description=f"Hourly mean from the downsampled bucket; the line is the reorder level ({LOX_LOW} %)."),
        ),
    )


# --- UV lamps ------------------------------------------------------------------------------------

LAMP = asset_variable("lamp", "Lamp", 'r._measurement == "uv_lamp"')
UV_TEST, UV_REPLACE = 90.0, 70.0  # WS/T 367-2012: new lamps >= 90, in use >= 70 μW/cm²


def uv_lamps(facts: FacilityFacts) -> Dashboard:
    runs = '''
from(bucket: "readings")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "uv_lamp" and (r._field == "intensity" or r._field == "lamp_on"))
  @SCOPE@
  |> filter(fn: (r) => r.asset =~ /^${lamp:regex}$/)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> filter(fn: (r) => exists r.intensity and exists r.lamp_on and r.lamp_on)
  |> group(columns: ["asset"])
  |> last(column: "intensity")
'''
    at_last_run = flux(runs + '''  |> keep(columns: ["_time", "asset", "intensity"])
''', SCOPE=SCOPE)
    due = flux(runs + '''  |> map(fn: (r) => ({asset: r.asset, building: r.building, room: r.room, intensity: r.intensity, last_run: r._time,
                      days_since_run: float(v: int(v: v.timeRangeStop) - int(v: r._time)) / 86400000000000.0}))
  |> map(fn: (r) => ({r with status: if r.intensity < @REPLACE@ then "replace lamp"
                                    else if r.intensity < @TEST@ then "due for testing"
                                    else if r.days_since_run > 7.0 then "due for testing (no run for 7 days)"
                                    else "ok"}))
  |> group()
  |> sort(columns: ["intensity"])
''', SCOPE=SCOPE, REPLACE=repr(UV_REPLACE), TEST=repr(UV_TEST))
    burn = flux('''
from(bucket: "readings")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "uv_lamp" and r._field == "burn_hours")
  @SCOPE@
  |> filter(fn: (r) => r.asset =~ /^${lamp:regex}$/)
  |> last()
  |> group(columns: ["asset", "_field"])
''', SCOPE=SCOPE)
    weekly_burn = flux('''
from(bucket: "readings_1h")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "uv_lamp" and r._field == "burn_hours" and r.stat == "increase")
  @SCOPE@
  |> filter(fn: (r) => r.asset =~ /^${lamp:regex}$/)
  |> group(columns: ["asset", "_field"])
  |> aggregateWindow(every: 1w, offset: 4d, fn: sum, createEmpty: false)
''', SCOPE=SCOPE)
    uv_steps = (Step("red"), Step("orange", UV_REPLACE), Step("green", UV_TEST))
    return Dashboard(
        uid="vigil-uv-lamps", title="UV lamps", folder=FACILITIES_FOLDER,
        description="UV-C germicidal lamps: intensity at the last run against 90 (new) and 70 (in use) μW/cm², burn hours.",
        variables=(SITE, BUILDING, LAMP),
        panels=(
            Panel("Intensity at last lamp-on run", "bargauge", FluxQuery(at_last_run), ("intensity",), width=12,
                  time_from="7d", unit="µW/cm²", minimum=0, maximum=150, steps=uv_steps,
                  description="Last intensity reading while the lamp was on (its warm-up is over by then)."),
            Panel("Burn hours", "bargauge", FluxQuery(burn), ("burn_hours",), width=12, time_from="7d", unit="h", decimals=0),
            Panel("Lamps due for testing or replacement", "table", FluxQuery(due),
                  ("asset", "intensity", "last_run", "days_since_run", "status"), width=24, time_from="30d",
                  description=f"Below {UV_REPLACE:g}: replace; below {UV_TEST:g} or no run for 7 days: test."),
            Panel("Burn hours per week, last year", "timeseries", FluxQuery(weekly_burn), ("burn_hours",),
                  width=24, time_from="1y", unit="h", bucket="readings_1h", custom={"drawStyle": "bars"},
                  description="From the 1-hour downsampled bucket (counter increases), summed per week."),
        ),
    )


# --- Energy and water ----------------------------------------------------------------------------

def energy_water(facts: FacilityFacts) -> Dashboard:
    tz = f'import "timezone"\nloc = timezone.location(name: "{facts.timezone}")'

    def daily(measurement: str, field: str, mains: tuple[str, ...], out: str) -> str:
        return flux('''
@TZ@
from(bucket: "readings")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "@M@" and r._field == "@F@" and r.asset =~ @MAINS@)
  @SCOPE@
  |> difference(nonNegative: true)
  |> aggregateWindow(every: 1d, fn: sum, createEmpty: false, location: loc)
  |> group(columns: ["building", "_time"])
  |> sum()
  |> group(columns: ["building"])
  |> sort(columns: ["_time"])
  |> set(key: "_field", value: "@OUT@")
''', TZ=tz, M=measurement, F=field, MAINS=any_of(mains), SCOPE=SCOPE, OUT=out)

    def weekly(measurement: str, field: str, mains: tuple[str, ...], out: str) -> str:
        return flux('''
@TZ@
from(bucket: "readings_1h")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "@M@" and r._field == "@F@" and r.stat == "increase" and r.asset =~ @MAINS@)
  @SCOPE@
  |> group(columns: ["building"])
  |> aggregateWindow(every: 1w, offset: 4d, fn: sum, createEmpty: false, location: loc)
  |> set(key: "_field", value: "@OUT@")
''', TZ=tz, M=measurement, F=field, MAINS=any_of(mains), SCOPE=SCOPE, OUT=out)

    demand = flux('''
from(bucket: "readings")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "electricity_meter" and r._field == "power" and r.asset =~ @MAINS@)
  @SCOPE@
  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)
  |> group(columns: ["building", "_field", "_time"])
  |> sum()
  |> group(columns: ["building", "_field"])
  |> sort(columns: ["_time"])
''', MAINS=any_of(facts.electricity_mains), SCOPE=SCOPE)
    power_factor = flux('''
from(bucket: "readings")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "electricity_meter" and r._field == "power_factor")
  @SCOPE@
  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)
''', SCOPE=SCOPE)
    night = '''
import "date"
@TZ@
flow = from(bucket: "readings")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "water_meter" and r._field == "flow")
  @SCOPE@
nights = flow |> filter(fn: (r) => date.hour(t: r._time, location: loc) >= 1 and date.hour(t: r._time, location: loc) < 4)
'''
    night_flow = flux(night + '''
nights
  |> aggregateWindow(every: 1d, fn: min, createEmpty: false, location: loc)
  |> set(key: "_field", value: "night_flow")
''', TZ=tz, SCOPE=SCOPE)
    # Hospital tanks fill by day and the mains stop at night, and a meter registers nothing
    # below its starting flow: flow that never reaches zero between 01:00 and 04:00 is a leak.
    leaks = flux(night + '''
floor = nights |> min() |> set(key: "_field", value: "night_min") |> keep(columns: ["building", "asset", "_field", "_value"])
day = flow
  |> filter(fn: (r) => date.hour(t: r._time, location: loc) >= 8 and date.hour(t: r._time, location: loc) < 20)
  |> mean()
  |> set(key: "_field", value: "day_mean")
  |> keep(columns: ["building", "asset", "_field", "_value"])
union(tables: [floor, day])
  |> group(columns: ["building", "asset"])
  |> pivot(rowKey: ["building", "asset"], columnKey: ["_field"], valueColumn: "_value")
  |> filter(fn: (r) => exists r.night_min and exists r.day_mean)
  |> map(fn: (r) => ({r with night_to_day: if r.day_mean > 0.0 then r.night_min / r.day_mean else 0.0}))
  |> map(fn: (r) => ({r with status: if r.night_min > 0.0 then "suspected leak" else "ok"}))
  |> group()
  |> sort(columns: ["night_to_day"], desc: true)
''', TZ=tz, SCOPE=SCOPE)
    mains_note = "Building mains only (sub-meters would count twice)"
    return Dashboard(
        uid="vigil-energy-water", title="Energy and water", folder=FACILITIES_FOLDER,
        description="Consumption from meter counters, demand, power factor, night flow and suspected leaks.",
        variables=(SITE, BUILDING),
        panels=(
            Panel("Electricity per day, by building", "timeseries", FluxQuery(daily("electricity_meter", "energy", facts.electricity_mains, "energy_kwh")),
                  ("energy_kwh",), time_from="14d", unit="kwatth", custom={"drawStyle": "bars"},
                  description=f"{mains_note}; increases of the energy counter per local day."),
            Panel("Water per day, by building", "timeseries", FluxQuery(daily("water_meter", "volume", facts.water_mains, "volume_m3")),
                  ("volume_m3",), time_from="14d", unit="m3", custom={"drawStyle": "bars"},
                  description=f"{mains_note}; increases of the volume counter per local day."),
            Panel("Electricity per week, last 26 weeks", "timeseries",
                  FluxQuery(weekly("electricity_meter", "energy", facts.electricity_mains, "energy_kwh")), ("energy_kwh",),
                  time_from="26w", unit="kwatth", bucket="readings_1h", custom={"drawStyle": "bars"},
                  description=f"{mains_note}; from the 1-hour downsampled bucket, weeks from Monday."),
            Panel("Water per week, last 26 weeks", "timeseries",
                  FluxQuery(weekly("water_meter", "volume", facts.water_mains, "volume_m3")), ("volume_m3",),
                  time_from="26w", unit="m3", bucket="readings_1h", custom={"drawStyle": "bars"},
                  description=f"{mains_note}; from the 1-hour downsampled bucket, weeks from Monday."),
            Panel("Demand profile", "timeseries", FluxQuery(demand), ("power",), unit="kwatt",
                  description=f"{mains_note}; mean active power per interval, summed per building."),
            Panel("Power factor", "timeseries", FluxQuery(power_factor), ("power_factor",), minimum=0.5, maximum=1, decimals=2,
                  steps=(Step("red"), Step("green", 0.85)), custom={"thresholdsStyle": {"mode": "line"}},
                  description="The line is the utility target (0.85)."),
            Panel("Night flow (01:00-04:00 minimum)", "timeseries", FluxQuery(night_flow), ("night_flow",),
                  time_from="14d", unit="m3/h", custom={"drawStyle": "bars"},
                  description=f"Lowest flow between 01:00 and 04:00 ({facts.timezone}) per night."),
            Panel("Suspected leaks", "table", FluxQuery(leaks), ("asset", "night_min", "day_mean", "night_to_day", "status"),
                  time_from="3d",
                  description="A meter whose flow never reached zero between 01:00 and 04:00 on any of the last 3 nights; "
                              "night_to_day says how large the leak is against the day's use."),
        ),
    )


# --- Platform health -----------------------------------------------------------------------------

def platform_health(facts: FacilityFacts) -> Dashboard:
    per_s = "float(v: r._value) / (float(v: int(v: v.windowPeriod)) / 1000000000.0)"
    written = flux('''
from(bucket: "readings")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  @SITE@
  |> aggregateWindow(every: v.windowPeriod, fn: count, createEmpty: false)
  |> group(columns: ["_time"])
  |> sum()
  |> group()
  |> sort(columns: ["_time"])
  |> map(fn: (r) => ({_time: r._time, _field: "readings_per_s", _value: @PER_S@}))
''', SITE=SITE_SCOPE, PER_S=per_s)
    per_gateway = flux('''
from(bucket: "readings")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  @SITE@
  |> aggregateWindow(every: v.windowPeriod, fn: count, createEmpty: false)
  |> group(columns: ["gateway", "_time"])
  |> sum()
  |> group(columns: ["gateway"])
  |> sort(columns: ["_time"])
  |> map(fn: (r) => ({_time: r._time, gateway: r.gateway, _field: "readings_per_s", _value: @PER_S@}))
''', SITE=SITE_SCOPE, PER_S=per_s)
    # One dead letter is one point; its `topic` field is always present.
    rejected = '''
from(bucket: "deadletter")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "rejected" and r._field == "topic")
  |> filter(fn: (r) => r.site =~ /^${site:regex}$/ or r.site == "-")
  |> group(columns: ["reason"])
'''
    rejected_rate = flux(rejected + '''  |> aggregateWindow(every: v.windowPeriod, fn: count, createEmpty: false)
''')
    rejected_total = flux(rejected + '''  |> count()
''')
    silent = flux('''
import "date"
stop = v.timeRangeStop
from(bucket: "readings")
  |> range(start: date.sub(d: 24h, from: stop), stop: stop)
  @SITE@
  |> last()
  |> map(fn: (r) => ({gateway: r.gateway, site: r.site, age_s: float(v: int(v: stop) - int(v: r._time)) / 1000000000.0}))
  |> group(columns: ["site", "gateway"])
  |> min(column: "age_s")
  |> group()
  |> sort(columns: ["age_s"], desc: true)
''', SITE=SITE_SCOPE)
    telemetry = 'from(bucket: "platform")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
    lag = flux('''
@FROM@  |> filter(fn: (r) => r._measurement == "ingest" and r._field == "lag_s")
  |> aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)
''', FROM=telemetry)
    engine_lag = flux('''
@FROM@  |> filter(fn: (r) => r._measurement == "alerts_engine" and r._field == "lag_s")
  |> aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)
''', FROM=telemetry)
    backlog = flux('''
@FROM@  |> filter(fn: (r) => r._measurement == "gateway" and r._field == "backlog")
  @SITE@
  |> aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)
''', FROM=telemetry, SITE=SITE_SCOPE)
    # `dropped` and the notification counts are counters; a restart resets them, which is not a fall.
    dropped = flux('''
@FROM@  |> filter(fn: (r) => r._measurement == "gateway" and r._field == "dropped")
  @SITE@
  |> difference(nonNegative: true)
  |> aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)
''', FROM=telemetry, SITE=SITE_SCOPE)
    failures = flux('''
@FROM@  |> filter(fn: (r) => r._measurement == "notifications" and r._field == "failed")
  |> difference(nonNegative: true)
  |> aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)
''', FROM=telemetry)
    gateways_now = flux('''
import "date"
stop = v.timeRangeStop
from(bucket: "platform")
  |> range(start: date.sub(d: @AGE@, from: stop), stop: stop)
  |> filter(fn: (r) => r._measurement == "gateway")
  @SITE@
  |> last()
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> keep(columns: ["site", "building", "gateway", "online", "backlog", "dropped", "status_age_s"])
  |> sort(columns: ["online", "backlog"], desc: false)
''', AGE=SNAPSHOT_MAX_AGE, SITE=SITE_SCOPE)
    from_ingest = "From ingest's telemetry (every 10 s, `platform` bucket)."
    return Dashboard(
        uid="vigil-platform-health", title="Platform health", folder=PLATFORM_FOLDER,
        description="What ingest writes and what it rejects, how far behind it is, the gateways' store-and-forward "
                    "buffers, and notifications that could not be delivered.",
        variables=(SITE,),
        panels=(
            Panel("Readings written per second", "timeseries", FluxQuery(written), ("readings_per_s",), unit="reqps"),
            Panel("Readings per gateway", "timeseries", FluxQuery(per_gateway), ("readings_per_s", "gateway"), unit="reqps"),
            Panel("Rejected readings by reason", "timeseries", FluxQuery(rejected_rate), ("reason", "_value"),
                  bucket="deadletter", custom={"drawStyle": "bars", "stacking": {"mode": "normal"}},
                  description="Dead letters per interval; reasons are listed in docs/contract.md."),
            Panel("Rejected in range, by reason", "bargauge", FluxQuery(rejected_total), ("reason", "_value"),
                  bucket="deadletter", decimals=0),
            Panel("Gateways: seconds since the last reading", "table", FluxQuery(silent), ("gateway", "age_s"), width=24,
                  unit="s", steps=(Step("green"), Step("orange", 120), Step("red", STALE_AFTER_S)),
                  description="A gateway that stopped sending rises to the top."),
            Panel("Ingest lag", "timeseries", FluxQuery(lag), ("lag_s", "worker"), unit="s", bucket="platform",
                  steps=(Step("green"), Step("orange", 10), Step("red", 60)), custom={"thresholdsStyle": {"mode": "line"}},
                  description="Per ingest worker: now minus the gateway's sent_at of the newest message written. " + from_ingest),
            Panel("Alerts engine lag", "timeseries", FluxQuery(engine_lag), ("lag_s",), unit="s", bucket="platform",
                  steps=(Step("green"), Step("orange", 10), Step("red", 60)), custom={"thresholdsStyle": {"mode": "line"}},
                  description="Now minus the gateway's sent_at of the last readings message the rules engine judged: how "
                              "late an alert would be. It rises when the engine falls behind (the broker queues for it), "
                              "stalls, or no readings arrive. From the alerts service's telemetry (every 10 s, `platform` bucket)."),
            Panel("Gateway backlog", "timeseries", FluxQuery(backlog), ("backlog", "gateway"), bucket="platform", decimals=0,
                  description="Messages each gateway holds in its store-and-forward buffer, from its retained status. " + from_ingest),
            Panel("Readings dropped by gateways", "timeseries", FluxQuery(dropped), ("dropped", "gateway"), bucket="platform",
                  decimals=0, custom={"drawStyle": "bars"},
                  description="Messages a gateway discarded because its buffer was full: data lost at the edge. " + from_ingest),
            Panel("Notification deliveries failed", "timeseries", FluxQuery(failures), ("failed", "contact_point"),
                  bucket="platform", decimals=0, custom={"drawStyle": "bars"},
                  description="Failed delivery attempts per contact point (each retry that fails counts). "
                              "From the alerts service's telemetry (every 10 s, `platform` bucket)."),
            Panel("Gateways: status now", "table", FluxQuery(gateways_now),
                  ("gateway", "online", "backlog", "dropped", "status_age_s"), width=24, bucket="platform",
                  description="Each gateway's newest retained status: offline ones first. " + from_ingest),
        ),
    )


def all_dashboards(facts: FacilityFacts) -> tuple[Dashboard, ...]:
    """Every Vigil dashboard for one facility."""
    return (facility_overview(facts), cold_chain(facts), medical_gases(facts), uv_lamps(facts), energy_water(facts),
            platform_health(facts))

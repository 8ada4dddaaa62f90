"""The four reports, each built from its sources: the registry, the alert
store (excursions, work orders) and InfluxDB (`ReportReadings`). This is
where the I/O meets the pure builders.

    report = build_report("cold-chain-log", ReportSources(registry, store, readings),
                          ReportRequest.make(registry, first, last, Scope(site="north"), by="wang", now=now))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from alerts.store import AlertStore
from reports import cold_chain, excursions, sla, uv
from reports.model import Period, Report, ReportHeader, Scope, report_zone, resolve_period, sensors_in_scope, site_zones, span_utc
from reports.readings import ReportReadings
from vigil.registry import Registry


@dataclass(frozen=True)
class ReportSources:
    registry: Registry
    store: AlertStore
    readings: ReportReadings


@dataclass(frozen=True)
class ReportRequest:
    period: Period
    scope: Scope
    generated_by: str
    now: datetime  # UTC

    @classmethod
    def make(cls, registry: Registry, first: date | None, last: date | None, scope: Scope, *, by: str,
             now: datetime) -> ReportRequest:
        """A request checked against the registry: ReportInputError on a bad
        period or an unknown site, building or asset. Default dates are the
        report's time zone's today."""
        scope.validate(registry)
        today = now.astimezone(report_zone(registry, scope)).date()
        return cls(resolve_period(first, last, today), scope, by, now)


def _header(sources: ReportSources, request: ReportRequest, title: str, notes: list[str]) -> ReportHeader:
    registry = sources.registry
    facility = registry.config.name or ", ".join(s.name for s in registry.config.sites)
    return ReportHeader(title=title, facility=facility, period=request.period, scope=request.scope,
                        generated_at=request.now, timezone=report_zone(registry, request.scope),
                        generated_by=request.generated_by, notes=tuple(notes))


_SOURCE_NOTE = {
    "raw": "from the raw readings",
    "1h": "from the hourly roll-up (the raw readings are kept 30 days): hours are placed in the half in which they start",
    "1m": "from the 1-minute roll-up (the raw readings are kept 30 days): minutes the lamp was on throughout",
}


def cold_chain_log(sources: ReportSources, request: ReportRequest) -> Report:
    registry = sources.registry
    sensors = sensors_in_scope(registry, request.scope, cold_chain.is_cold_chain_log_sensor)
    start, stop = span_utc(registry, request.scope, request.period)
    source, windows = sources.readings.temperature_windows([s.id for s in sensors], start, stop)
    rows = cold_chain.cold_chain_rows(sensors, windows, request.period, site_zones(registry))
    notes = [f"AM 00:00-12:00, PM 12:00-24:00 site local time; band = the asset's temperature alarm limits; "
             f"{_SOURCE_NOTE[source]}"]
    return Report("cold-chain-log", _header(sources, request, "Cold-chain temperature log", notes), cold_chain.COLUMNS, rows)


def excursion_report(sources: ReportSources, request: ReportRequest) -> Report:
    registry = sources.registry
    start, stop = span_utc(registry, request.scope, request.period)
    rows = excursions.excursion_rows(sources.store.list_excursions(asset=request.scope.asset), registry, request.scope,
                                     start, stop, site_zones(registry), report_zone(registry, request.scope))
    notes = [f"{len(rows)} excursions overlapping the period; MKT with ΔH = 83.144 kJ/mol (USP <1160>)"]
    return Report("excursions", _header(sources, request, "Cold-chain excursion report", notes), excursions.COLUMNS, rows)


def uv_register(sources: ReportSources, request: ReportRequest) -> Report:
    registry = sources.registry
    sensors = sensors_in_scope(registry, request.scope, uv.is_uv_register_sensor)
    start, stop = span_utc(registry, request.scope, request.period)
    # A lamp already on at midnight: its warm-up started the evening before.
    source, samples = sources.readings.lamp_samples([s.id for s in sensors], start - timedelta(hours=1), stop)
    gap = uv.CYCLE_GAP if source == "raw" else timedelta(minutes=1)
    orders = [o for o in sources.store.list_work_orders(problem=None, asset=request.scope.asset) if o.problem in uv.UV_PROBLEMS]
    rows = uv.uv_rows(sensors, samples, orders, request.period, site_zones(registry), cycle_gap=gap)
    notes = [f"Intensity at 1 m: mean of the readings taken with the lamp on for at least 5 min (WS/T 367-2012); "
             f"pass >= {uv.IN_USE_LIMIT:g} μW/cm² in use, new lamp >= {uv.NEW_LAMP_LEVEL:g}; {_SOURCE_NOTE[source]}"]
    return Report("uv-register", _header(sources, request, "UV lamp intensity register", notes), uv.COLUMNS, rows)


def work_order_sla(sources: ReportSources, request: ReportRequest) -> Report:
    registry = sources.registry
    start, stop = span_utc(registry, request.scope, request.period)
    rows = sla.sla_rows(sources.store.list_work_orders(asset=request.scope.asset), request.scope, start, stop,
                        request.now, site_zones(registry), report_zone(registry, request.scope))
    notes = ["Orders opened in the period; targets are each order's response and resolution windows; "
             "an order still waiting past its due time is overdue (a breach)", sla.sla_summary(rows)]
    return Report("work-order-sla", _header(sources, request, "Work-order SLA report", notes), sla.COLUMNS, rows)


REPORTS: dict[str, Callable[[ReportSources, ReportRequest], Report]] = {
    "cold-chain-log": cold_chain_log,
    "excursions": excursion_report,
    "uv-register": uv_register,
    "work-order-sla": work_order_sla,
}


def build_report(name: str, sources: ReportSources, request: ReportRequest) -> Report:
    """The report called `name` (a key of REPORTS)."""
    return REPORTS[name](sources, request)

"""Compliance reports as CSV or PDF (reports/): the cold-chain temperature
log, excursions, the UV lamp intensity register and the work-order SLA
report. Each covers whole days in the site's local time, at most
MAX_PERIOD_DAYS (366), within the two years the roll-ups keep."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError

from api.deps import ReadingsDep, RegistryDep, StoreDep, Viewer
from reports.catalog import ReportRequest, ReportSources, build_report
from reports.model import ReportInputError, Scope
from reports.readings import ReportReadings
from reports.render import CSV_MEDIA_TYPE, PDF_MEDIA_TYPE, render

router = APIRouter(prefix="/reports", tags=["reports"])

From = Annotated[date | None, Query(alias="from", description="first day, site local (default: 6 days before `to`)")]
To = Annotated[date | None, Query(alias="to", description="last day, included (default: today at the site)")]
Format = Annotated[Literal["csv", "pdf"], Query(alias="format", description="csv (one header row) or pdf")]
Site = Annotated[str | None, Query(description="only this site")]
Building = Annotated[str | None, Query(description="only this building")]
Asset = Annotated[str | None, Query(description="only this asset")]

FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the report as a file", "content": {CSV_MEDIA_TYPE.split(";")[0]: {"schema": {"type": "string"}},
                                                               PDF_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
}


def _report(name: str, registry: RegistryDep, store: StoreDep, readings: ReadingsDep, by: str, first: date | None,
            last: date | None, fmt: str, scope: Scope) -> Response:
    try:
        request = ReportRequest.make(registry, first, last, scope, by=by, now=datetime.now(UTC))
    except ReportInputError as exc:
        raise RequestValidationError([{"loc": ("query", exc.field), "msg": exc.message, "type": "value_error"}]) from None
    endpoint = readings.endpoint
    with ReportReadings(endpoint, rollups=(readings.buckets["1m"], readings.buckets["1h"])) as source:
        report = build_report(name, ReportSources(registry, store, source), request)
    content, media_type = render(report, fmt)
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{report.filename(fmt)}"'})


@router.get("/cold-chain-log", response_class=Response, responses=FILE_RESPONSES)
def get_cold_chain_log_report(registry: RegistryDep, store: StoreDep, readings: ReadingsDep, token: Viewer,
                              first: From = None, last: To = None, fmt: Format = "csv", site: Site = None,
                              building: Building = None, asset: Asset = None) -> Response:
    """Per cold-chain asset and day: the AM and PM minimum and maximum
    temperature (halves of the site's local day), the allowed band and
    whether the day stayed inside it."""
    return _report("cold-chain-log", registry, store, readings, token.name, first, last, fmt, Scope(site, building, asset))


@router.get("/excursions", response_class=Response, responses=FILE_RESPONSES)
def get_excursion_report(registry: RegistryDep, store: StoreDep, readings: ReadingsDep, token: Viewer,
                         first: From = None, last: To = None, fmt: Format = "csv", site: Site = None,
                         building: Building = None, asset: Asset = None) -> Response:
    """Cold-chain excursions overlapping the period: start, end, peak, minutes
    out of range, mean kinetic temperature, disposition and its sign-off."""
    return _report("excursions", registry, store, readings, token.name, first, last, fmt, Scope(site, building, asset))


@router.get("/uv-register", response_class=Response, responses=FILE_RESPONSES)
def get_uv_register_report(registry: RegistryDep, store: StoreDep, readings: ReadingsDep, token: Viewer,
                           first: From = None, last: To = None, fmt: Format = "csv", site: Site = None,
                           building: Building = None, asset: Asset = None) -> Response:
    """Per UV lamp and day it ran: the intensity at 1 m once warmed up, pass
    or fail against 70 μW/cm² (new lamp 90), and its UV work orders."""
    return _report("uv-register", registry, store, readings, token.name, first, last, fmt, Scope(site, building, asset))


@router.get("/work-order-sla", response_class=Response, responses=FILE_RESPONSES)
def get_work_order_sla_report(registry: RegistryDep, store: StoreDep, readings: ReadingsDep, token: Viewer,
                              first: From = None, last: To = None, fmt: Format = "csv", site: Site = None,
                              building: Building = None, asset: Asset = None) -> Response:
    """Work orders opened in the period: response and resolution times
    against their targets, and breaches."""
    return _report("work-order-sla", registry, store, readings, token.name, first, last, fmt, Scope(site, building, asset))

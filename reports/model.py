"""What every report shares: the period (whole local days at the site), the
scope (site, building, asset), the header and the table a renderer draws.
Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from vigil.registry import Registry, Sensor

DEFAULT_DAYS = 7
# A year of daily rows per asset is still a readable PDF; longer is a data export, not a report.
MAX_PERIOD_DAYS = 366
# The roll-ups keep two years (docs/contract.md): older days have no data at all.
MAX_AGE_DAYS = 730

Cell = str | float | int | None


class ReportInputError(ValueError):
    """A report request that cannot be answered; `field` names the input
    (`from`, `to`, `site`, `building`, `asset`), for a 422 with a path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    """Whole days from `first_day` to `last_day`, both included, in each site's local time."""

    first_day: date
    last_day: date

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]

    def start(self, tz: ZoneInfo) -> datetime:
        """The period's first local midnight, in UTC."""
        return local_midnight(self.first_day, tz)

    def stop(self, tz: ZoneInfo) -> datetime:
        """The local midnight after the last day, in UTC."""
        return local_midnight(self.last_day + timedelta(days=1), tz)

    def __str__(self) -> str:
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Midnight starting `day` at `tz`, in UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def resolve_period(first: date | None, last: date | None, today: date) -> Period:
    """The period asked for: `to` defaults to today, `from` to six days
    before `to` (seven days). Raises ReportInputError on a reversed, too long,
    too old or future period."""
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if last > today:
        raise ReportInputError("to", f"to ({last}) is after today ({today}) at the site")
    if first > last:
        raise ReportInputError("from", f"from ({first}) must not be after to ({last})")
    span = (last - first).days + 1
    if span > MAX_PERIOD_DAYS:
        raise ReportInputError("to", f"the period is {span} days; at most {MAX_PERIOD_DAYS} days per report")
    if first < today - timedelta(days=MAX_AGE_DAYS):
        raise ReportInputError("from", f"readings are kept for {MAX_AGE_DAYS} days; from ({first}) is older")
    return Period(first, last)


@dataclass(frozen=True)
class Scope:
    """Optional filters; None means every one."""

    site: str | None = None
    building: str | None = None
    asset: str | None = None

    def validate(self, registry: Registry) -> Scope:
        """The scope itself, or ReportInputError naming an id the registry does not have."""
        sites = {s.id for s in registry.config.sites}
        buildings = {(s.id, b.id) for s in registry.config.sites for b in s.buildings}
        assets = {x.asset for x in registry.sensors.values()}
        if self.site is not None and self.site not in sites:
            raise ReportInputError("site", f"no site {self.site!r} (known: {', '.join(sorted(sites))})")
        if self.building is not None and not any(b == self.building and (self.site in (None, s)) for s, b in buildings):
            raise ReportInputError("building", f"no building {self.building!r}" + (f" at site {self.site!r}" if self.site else ""))
        if self.asset is not None and self.asset not in assets:
            raise ReportInputError("asset", f"no asset {self.asset!r} in the registry")
        return self

    def admits(self, site: str | None, building: str | None, asset: str | None) -> bool:
        """Whether something at (site, building, asset) is in scope."""
        return ((self.site is None or self.site == site) and (self.building is None or self.building == building)
                and (self.asset is None or self.asset == asset))

    def describe(self) -> str:
        parts = [f"{name} {value}" for name, value in (("site", self.site), ("building", self.building),
                                                       ("asset", self.asset)) if value]
        return ", ".join(parts) or "all"


def sensors_in_scope(registry: Registry, scope: Scope, wanted: Callable[[Sensor], bool]) -> list[Sensor]:
    """The registry's sensors that are in scope and `wanted`, in registry order."""
    return [s for s in registry.sensors.values() if scope.admits(s.site, s.building, s.asset) and wanted(s)]


def site_zones(registry: Registry) -> dict[str, ZoneInfo]:
    """Each site's time zone."""
    return {s.id: ZoneInfo(s.timezone) for s in registry.config.sites}


def report_zone(registry: Registry, scope: Scope) -> ZoneInfo:
    """The time zone a report's header uses: the chosen site's, else the first site's."""
    zones = site_zones(registry)
    return zones[scope.site] if scope.site else next(iter(zones.values()))


def span_utc(registry: Registry, scope: Scope, period: Period) -> tuple[datetime, datetime]:
    """[start, stop) in UTC covering the period's local days at every site in scope."""
    zones = [z for sid, z in site_zones(registry).items() if scope.site in (None, sid)]
    return min(period.start(z) for z in zones), max(period.stop(z) for z in zones)


def local_iso(at: datetime | None, tz: ZoneInfo) -> str | None:
    """`at` as RFC 3339 in the site's local time, to the second."""
    return None if at is None else at.astimezone(tz).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Column:
    """`key` is the CSV header (machine-friendly, unit in it: `min_degC`);
    `label` the PDF's (`Min °C`); `decimals` for numbers in the PDF."""

    key: str
    label: str
    decimals: int | None = None
    width: float = 1.0  # relative width in the PDF


@dataclass(frozen=True)
class ReportHeader:
    title: str
    facility: str
    period: Period
    scope: Scope
    generated_at: datetime  # UTC
    timezone: ZoneInfo
    generated_by: str
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The header as a person reads it (PDF)."""
        local = self.generated_at.astimezone(self.timezone)
        return [
            f"Facility: {self.facility}",
            f"Period: {self.period} (whole days, site local time); scope: {self.scope.describe()}",
            f"Generated: {self.generated_at.strftime('%Y-%m-%d %H:%M:%S')} UTC"
            f" / {local.strftime('%Y-%m-%d %H:%M:%S')} {self.timezone.key} by {self.generated_by}",
            *self.notes,
        ]


@dataclass(frozen=True)
class Report:
    name: str  # cold-chain-log, excursions, uv-register, work-order-sla
    header: ReportHeader
    columns: Sequence[Column]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)

    def filename(self, extension: str) -> str:
        p = self.header.period
        return f"vigil-{self.name}-{p.first_day.isoformat()}-{p.last_day.isoformat()}.{extension}"

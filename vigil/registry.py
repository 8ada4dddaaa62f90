"""The facility registry: site -> building -> floor -> room -> asset -> sensor,
each sensor bound to a gateway, loaded from a YAML file.

`load_registry(path)` validates the file and returns a `Registry`, the flat
view every service uses (sensor id -> where it is, what it measures, which
thresholds apply). Every problem is reported as a `ConfigProblem` naming the
file, the line, the path inside the file and the reason, all at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from vigil.kinds import METRICS, MetricSpec, SensorKind
from vigil.profiles import PROFILES, AssetProfile, Limits, LimitsOverride

# Ids become MQTT topic levels and InfluxDB tag values: no '/', '+', '#' or spaces.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def known_timezone(name: str) -> str:
    """`name` if it is an IANA time zone; a ValueError a person understands if not."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'Asia/Shanghai')") from None
    return name


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SensorConfig(_Node):
    id: Id
    gateway: Id
    kind: SensorKind | None = Field(default=None, description="defaults to the asset profile's kind")
    metrics: list[str] | None = Field(default=None, description="defaults to every metric of the kind")
    description: str | None = None
    calibration_due: date | None = None


class AssetConfig(_Node):
    id: Id
    name: str
    profile: str
    thresholds: dict[str, LimitsOverride] = {}
    sensors: list[SensorConfig] = Field(min_length=1)
    model: str | None = None
    serial: str | None = None


class RoomConfig(_Node):
    id: Id
    name: str
    department: str | None = None
    assets: list[AssetConfig] = []


class FloorConfig(_Node):
    id: Id
    name: str
    level: int | None = None
    rooms: list[RoomConfig] = []


class BuildingConfig(_Node):
    id: Id
    name: str
    floors: list[FloorConfig] = []


class GatewayConfig(_Node):
    id: Id
    name: str | None = None
    description: str | None = None


class SiteConfig(_Node):
    id: Id
    name: str
    timezone: Annotated[str, AfterValidator(known_timezone)] = "UTC"
    gateways: list[GatewayConfig] = []
    buildings: list[BuildingConfig] = []


class FacilityConfig(_Node):
    name: str | None = None
    sites: list[SiteConfig] = Field(min_length=1)


# --------------------------------------------------------------------------
# The flat view


@dataclass(frozen=True, slots=True)
class Gateway:
    id: str
    site: str
    name: str

    @property
    def readings_topic(self) -> str:
        return f"vigil/v1/{self.site}/{self.id}/readings"

    @property
    def status_topic(self) -> str:
        return f"vigil/v1/{self.site}/{self.id}/status"


@dataclass(frozen=True, slots=True)
class Sensor:
    id: str
    gateway: str
    site: str
    building: str
    floor: str
    room: str
    asset: str
    asset_name: str
    room_name: str
    department: str | None
    profile: str
    kind: SensorKind
    metrics: tuple[str, ...]
    thresholds: dict[str, Limits]
    calibration_due: date | None = None
    # InfluxDB tags, precomputed once: they are the same for every reading.
    tags: dict[str, str] = field(default_factory=dict)

    def metric_spec(self, metric: str) -> MetricSpec | None:
        return METRICS[self.kind][metric] if metric in self.metrics else None

    def describe(self) -> dict[str, object]:
        """The sensor as `vigil registry sensors --json` shows it."""
        return {
            "id": self.id,
            "gateway": self.gateway,
            "site": self.site,
            "building": self.building,
            "floor": self.floor,
            "room": self.room,
            "asset": self.asset,
            "asset_name": self.asset_name,
            "profile": self.profile,
            "kind": self.kind.value,
            "metrics": [
                {"name": m, "unit": METRICS[self.kind][m].unit, "type": METRICS[self.kind][m].value_type.value}
                for m in self.metrics
            ],
            "thresholds": {m: lim.summary() for m, lim in self.thresholds.items()},
            "calibration_due": self.calibration_due.isoformat() if self.calibration_due else None,
        }


def _group_by(sensors: Iterable[Sensor], key: Callable[[Sensor], str]) -> dict[str, list[Sensor]]:
    index: dict[str, list[Sensor]] = {}
    for s in sensors:
        index.setdefault(key(s), []).append(s)
    return index


@dataclass(frozen=True)
class Registry:
    config: FacilityConfig
    sensors: dict[str, Sensor]
    gateways: dict[str, Gateway]
    source: Path | None = None

    # Indexed once per registry: a scan of every sensor per lookup is quadratic at
    # hospital-group size (100,000 sensors). A frozen dataclass still takes cached_property.
    @cached_property
    def _by_gateway(self) -> dict[str, list[Sensor]]:
        return _group_by(self.sensors.values(), attrgetter("gateway"))

    @cached_property
    def _by_asset(self) -> dict[str, list[Sensor]]:
        return _group_by(self.sensors.values(), attrgetter("asset"))

    def sensors_of_gateway(self, gateway: str) -> list[Sensor]:
        """The gateway's sensors, in registry order."""
        return list(self._by_gateway.get(gateway, ()))

    def sensors_of_asset(self, asset: str) -> list[Sensor]:
        """The asset's sensors, in registry order."""
        return list(self._by_asset.get(asset, ()))


# --------------------------------------------------------------------------
# Problems and loading


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    path: str  # e.g. sites[0].buildings[1].floors[0].rooms[2].assets[0].profile
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '(top level)'}: {self.message}"


class ConfigError(Exception):
    """A facility config that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: Sequence[ConfigProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _format_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the YAML node at `loc`, or of its nearest parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _pydantic_message(err: Any) -> str:
    msg: str = err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling)"
    if err["type"] == "string_pattern_mismatch":
        return f"{err['input']!r} is not a valid id: letters, digits, '_', '.', '-', at most 64, no spaces or '/'"
    if err["type"] == "missing":
        return "required field is missing"
    return msg.removeprefix("Value error, ")


def _loc_without_model_names(loc: Sequence[int | str]) -> list[int | str]:
    # pydantic puts the tag of a dict key's value in the loc; drop nothing else.
    return [p for p in loc if not (isinstance(p, str) and p.startswith("function-after["))]


def _cross_reference_problems(cfg: FacilityConfig) -> Iterator[tuple[list[int | str], str]]:
    """What the structure alone cannot see: ids that clash, references that
    point nowhere, metrics a kind does not have."""
    seen_sensor: dict[str, str] = {}
    seen_asset: dict[str, str] = {}
    seen_gateway: dict[str, str] = {}
    site_ids = Counter(s.id for s in cfg.sites)
    for si, site in enumerate(cfg.sites):
        sp: list[int | str] = ["sites", si]
        if site_ids[site.id] > 1:
            yield [*sp, "id"], f"duplicate site id {site.id!r}"
        site_gateways = set()
        for gi, gw in enumerate(site.gateways):
            if gw.id in seen_gateway:
                yield [*sp, "gateways", gi, "id"], f"duplicate gateway id {gw.id!r} (also at {seen_gateway[gw.id]})"
            seen_gateway.setdefault(gw.id, _format_path([*sp, "gateways", gi]))
            site_gateways.add(gw.id)
        used_gateways: set[str] = set()
        for bi, b in enumerate(site.buildings):
            bp = [*sp, "buildings", bi]
            yield from _duplicate_children(bp, "floors", [f.id for f in b.floors])
            for fi, fl in enumerate(b.floors):
                fp = [*bp, "floors", fi]
                yield from _duplicate_children(fp, "rooms", [r.id for r in fl.rooms])
                for ri, room in enumerate(fl.rooms):
                    rp = [*fp, "rooms", ri]
                    for ai, asset in enumerate(room.assets):
                        ap = [*rp, "assets", ai]
                        if asset.id in seen_asset:
                            yield [*ap, "id"], f"duplicate asset id {asset.id!r} (also at {seen_asset[asset.id]})"
                        seen_asset.setdefault(asset.id, _format_path(ap))
                        profile = PROFILES.get(asset.profile)
                        if profile is None:
                            yield [*ap, "profile"], f"unknown profile {asset.profile!r} (known: {', '.join(sorted(PROFILES))})"
                            continue
                        yield from _threshold_problems(ap, asset, profile)
                        for xi, sensor in enumerate(asset.sensors):
                            xp = [*ap, "sensors", xi]
                            if sensor.id in seen_sensor:
                                yield [*xp, "id"], f"duplicate sensor id {sensor.id!r} (also at {seen_sensor[sensor.id]})"
                            seen_sensor.setdefault(sensor.id, _format_path(xp))
                            if sensor.gateway not in site_gateways:
                                known = ", ".join(sorted(site_gateways)) or "none defined"
                                yield [*xp, "gateway"], f"gateway {sensor.gateway!r} is not a gateway of site {site.id!r} (known: {known})"
                            used_gateways.add(sensor.gateway)
                            kind = sensor.kind or profile.kind
                            for mi, metric in enumerate(sensor.metrics or []):
                                if metric not in METRICS[kind]:
                                    yield [*xp, "metrics", mi], f"{kind.value} sensors have no metric {metric!r} (known: {', '.join(METRICS[kind])})"
                            if sensor.metrics is not None and len(set(sensor.metrics)) != len(sensor.metrics):
                                yield [*xp, "metrics"], "a metric is listed twice"


def _duplicate_children(path: list[int | str], key: str, ids: list[str]) -> Iterator[tuple[list[int | str], str]]:
    seen: set[str] = set()
    for i, child in enumerate(ids):
        if child in seen:
            yield [*path, key, i, "id"], f"duplicate id {child!r} among these {key}"
        seen.add(child)


def _threshold_problems(ap: list[int | str], asset: AssetConfig, profile: AssetProfile) -> Iterator[tuple[list[int | str], str]]:
    kinds = {s.kind or profile.kind for s in asset.sensors}
    for metric, override in asset.thresholds.items():
        tp = [*ap, "thresholds", metric]
        if not any(metric in METRICS[k] for k in kinds):
            yield tp, f"no sensor of this asset reports {metric!r}"
            continue
        base = profile.thresholds.get(metric, Limits())
        try:
            base.merged(override)
        except ValidationError as exc:
            for err in exc.errors():
                yield tp, _pydantic_message(err)


def build_registry(cfg: FacilityConfig, source: Path | None = None) -> Registry:
    """The flat view of a config that has passed `_cross_reference_problems`."""
    sensors: dict[str, Sensor] = {}
    gateways: dict[str, Gateway] = {}
    for site in cfg.sites:
        for gw in site.gateways:
            gateways[gw.id] = Gateway(id=gw.id, site=site.id, name=gw.name or gw.id)
        for b in site.buildings:
            for fl in b.floors:
                for room in fl.rooms:
                    for asset in room.assets:
                        profile = PROFILES[asset.profile]
                        for sc in asset.sensors:
                            kind = sc.kind or profile.kind
                            defaults = profile.default_metrics if kind == profile.kind else None
                            metrics = tuple(sc.metrics or defaults or METRICS[kind])
                            thresholds = {}
                            for metric in metrics:
                                limits = profile.thresholds.get(metric) if kind == profile.kind else None
                                override = asset.thresholds.get(metric)
                                if override is not None:
                                    limits = (limits or Limits()).merged(override)
                                if limits is not None:
                                    thresholds[metric] = limits
                            sensors[sc.id] = Sensor(
                                id=sc.id, gateway=sc.gateway, site=site.id, building=b.id, floor=fl.id,
                                room=room.id, asset=asset.id, asset_name=asset.name, room_name=room.name,
                                department=room.department, profile=profile.name, kind=kind, metrics=metrics,
                                thresholds=thresholds, calibration_due=sc.calibration_due,
                                tags={
                                    "site": site.id, "building": b.id, "floor": fl.id, "room": room.id,
                                    "asset": asset.id, "sensor": sc.id, "gateway": sc.gateway,
                                },
                            )
    return Registry(config=cfg, sensors=sensors, gateways=gateways, source=source)


# libyaml's loader (in PyYAML's wheels) parses large registries several times faster than the pure-Python one.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_registry(text: str, file: str = "<string>") -> Registry:
    """Validate facility YAML `text`; raise ConfigError listing every problem."""
    try:
        data = yaml.load(text, Loader=_FAST_LOADER)  # a safe loader (libyaml's when present)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise ConfigError([ConfigProblem(file, "", f"not valid YAML: {exc.problem}", line)]) from None
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(file, "", "expected a mapping with a 'sites' list at the top level", 1)])
    # The node tree only gives problems their line numbers: composed only when
    # there is a problem (at 100,000 sensors it costs as much as the load).
    def node() -> yaml.Node | None:
        return yaml.compose(text, Loader=_FAST_LOADER)

    try:
        cfg = FacilityConfig.model_validate(data)
    except ValidationError as exc:
        tree = node()
        problems = []
        for err in exc.errors():
            loc = _loc_without_model_names(err["loc"])
            problems.append(ConfigProblem(file, _format_path(loc), _pydantic_message(err), line_of(tree, loc)))
        raise ConfigError(problems) from None
    crossed = list(_cross_reference_problems(cfg))
    if crossed:
        tree = node()
        raise ConfigError([ConfigProblem(file, _format_path(loc), msg, line_of(tree, loc)) for loc, msg in crossed])
    return build_registry(cfg, Path(file))


def load_registry(path: Path | str) -> Registry:
    """Load and validate the facility config at `path`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(path), "", f"cannot read the file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([ConfigProblem(str(path), "", "the file is not UTF-8 text")]) from None
    return parse_registry(text, str(path))


__all__ = [
    "ID_PATTERN", "ConfigError", "ConfigProblem", "FacilityConfig", "Gateway", "Registry", "Sensor",
    "build_registry", "known_timezone", "line_of", "load_registry", "parse_registry",
]

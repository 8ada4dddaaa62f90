"""The facility registry: sites, buildings, rooms, assets, gateways, and
sensors with their live status."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from api import schemas
from api.deps import ReadingsDep, RegistryDep, Viewer
from vigil.registry import Registry

router = APIRouter(tags=["registry"])


def _sensor(registry: Registry, sensor_id: str, live: schemas.SensorStatus) -> schemas.Sensor:
    data = registry.sensors[sensor_id].describe()
    return schemas.Sensor.model_validate({**data, "live": live})


@router.get("/sites")
def list_sites(registry: RegistryDep, _: Viewer) -> list[schemas.Site]:
    """Sites, with their buildings and gateways."""
    return [schemas.Site(id=s.id, name=s.name, timezone=s.timezone, buildings=[b.id for b in s.buildings],
                         gateways=[g.id for g in s.gateways]) for s in registry.config.sites]


@router.get("/buildings")
def list_buildings(registry: RegistryDep, _: Viewer) -> list[schemas.Building]:
    """Buildings of every site."""
    return [schemas.Building(id=b.id, site=s.id, name=b.name, floors=[f.id for f in b.floors])
            for s in registry.config.sites for b in s.buildings]


@router.get("/rooms")
def list_rooms(registry: RegistryDep, _: Viewer, building: str | None = None) -> list[schemas.Room]:
    """Rooms, optionally of one building."""
    return [schemas.Room(id=r.id, site=s.id, building=b.id, floor=f.id, floor_name=f.name, name=r.name,
                         department=r.department)
            for s in registry.config.sites for b in s.buildings for f in b.floors for r in f.rooms
            if building is None or b.id == building]


def _assets(registry: Registry) -> list[schemas.Asset]:
    return [schemas.Asset(id=a.id, name=a.name, profile=a.profile, site=s.id, building=b.id, floor=f.id, room=r.id,
                          model=a.model, serial=a.serial, sensors=[x.id for x in a.sensors])
            for s in registry.config.sites for b in s.buildings for f in b.floors for r in f.rooms for a in r.assets]


@router.get("/assets")
def list_assets(registry: RegistryDep, _: Viewer, building: str | None = None) -> list[schemas.Asset]:
    """Monitored assets, optionally of one building."""
    return [a for a in _assets(registry) if building is None or a.building == building]


@router.get("/assets/{asset_id}")
def get_asset(asset_id: str, registry: RegistryDep, _: Viewer) -> schemas.Asset:
    """One asset."""
    for asset in _assets(registry):
        if asset.id == asset_id:
            return asset
    raise HTTPException(404, f"no asset {asset_id!r}")


@router.get("/gateways")
def list_gateways(registry: RegistryDep, _: Viewer) -> list[schemas.Gateway]:
    """Gateways and the sensors bound to them."""
    return [schemas.Gateway(id=g.id, site=g.site, name=g.name, sensors=[s.id for s in registry.sensors_of_gateway(g.id)])
            for g in registry.gateways.values()]


@router.get("/sensors")
def list_sensors(registry: RegistryDep, readings: ReadingsDep, _: Viewer, building: str | None = None,
                 asset: str | None = None) -> list[schemas.Sensor]:
    """Sensors with their live status (newest reading per metric; online or stale)."""
    live = readings.statuses()
    return [_sensor(registry, sid, live[sid]) for sid, s in registry.sensors.items()
            if (building is None or s.building == building) and (asset is None or s.asset == asset)]


@router.get("/sensors/{sensor_id}")
def get_sensor(sensor_id: str, registry: RegistryDep, readings: ReadingsDep, _: Viewer) -> schemas.Sensor:
    """One sensor with its live status."""
    if sensor_id not in registry.sensors:
        raise HTTPException(404, f"no sensor {sensor_id!r}")
    return _sensor(registry, sensor_id, readings.status(sensor_id))

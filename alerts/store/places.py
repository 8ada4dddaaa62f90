"""Where a sensor, asset or gateway is, with the names people use: looked up
once in the facility registry when an alert or work order opens, then kept
with it (the registry may change; the record of where it happened may not)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from alerts.store.views import FAMILY_GATEWAY, Place
from vigil.profiles import PROFILES
from vigil.registry import AssetConfig, Registry


@dataclass(frozen=True, slots=True)
class Located:
    place: Place
    family: str | None  # the sensor kind ("cold_chain", ...) or "gateway"
    profile: str | None  # the asset profile ("vaccine_fridge", ...)


@dataclass(frozen=True, slots=True)
class RoomAssets:
    """A room and the assets in it (for preventive maintenance plans)."""

    place: Place  # without an asset
    assets: tuple[AssetConfig, ...]


class Places:
    """Location lookups over a registry (or none: everything is unknown)."""

    def __init__(self, registry: Registry | None) -> None:
        self._registry = registry
        self._assets: dict[str, Located] = {}
        self._rooms: list[RoomAssets] = []
        self._sites: dict[str, Place] = {}
        if registry is None:
            return
        for site in registry.config.sites:
            site_place = Place(site=site.id, site_name=site.name, timezone=site.timezone)
            self._sites[site.id] = site_place
            for b in site.buildings:
                for fl in b.floors:
                    for room in fl.rooms:
                        room_place = replace(site_place, building=b.id, building_name=b.name, floor=fl.id, floor_name=fl.name,
                                             room=room.id, room_name=room.name, department=room.department)
                        self._rooms.append(RoomAssets(room_place, tuple(room.assets)))
                        for asset in room.assets:
                            profile = PROFILES.get(asset.profile)
                            self._assets[asset.id] = Located(
                                replace(room_place, asset=asset.id, asset_name=asset.name),
                                profile.kind.value if profile else None, asset.profile)

    def for_signal(self, sensor: str, asset: str | None) -> Located:
        """Where the sensor (or gateway) of an alert is."""
        registry = self._registry
        if registry is not None:
            found = registry.sensors.get(sensor)
            if found is not None:
                located = self._assets.get(found.asset)
                place = located.place if located else Place(site=found.site, building=found.building, floor=found.floor,
                                                              room=found.room, room_name=found.room_name,
                                                              asset=found.asset, asset_name=found.asset_name)
                return Located(place, found.kind.value, found.profile)
            gateway = registry.gateways.get(sensor)
            if gateway is not None:
                site = self._sites.get(gateway.site, Place(site=gateway.site))
                return Located(replace(site, asset=gateway.id, asset_name=gateway.name), FAMILY_GATEWAY, None)
        if asset is not None and asset in self._assets:
            return self._assets[asset]
        return Located(Place(asset=asset), None, None)

    def for_asset(self, asset: str) -> Located:
        """Where an asset is."""
        return self._assets.get(asset, Located(Place(asset=asset), None, None))

    def rooms(self) -> list[RoomAssets]:
        """Every room with its assets."""
        return list(self._rooms)

    def site_ids(self) -> list[str]:
        """The sites of the facility."""
        return list(self._sites)

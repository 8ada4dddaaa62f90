"""Shared dependencies, as `Annotated` aliases the route modules use:
`StoreDep`, `RegistryDep`, `ReadingsDep`, `CurrentToken`, and
`require_role(Role.X)` for a route's minimum role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry

from alerts.store import AlertStore
from api.readings import ReadingsSource
from api.roles import Role
from api.tokens import ApiToken, verify_token
from vigil.registry import Registry
from vigil.settings import Settings


@dataclass
class ApiContext:
    """What the routes need, built once by `create_app`."""

    settings: Settings
    registry: Registry
    store: AlertStore
    readings: ReadingsSource
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.vigil
    return context


ContextDep = Annotated[ApiContext, Depends(get_context)]


def get_store(context: ContextDep) -> AlertStore:
    return context.store


def get_registry(context: ContextDep) -> Registry:
    return context.registry


def get_readings(context: ContextDep) -> ReadingsSource:
    return context.readings


StoreDep = Annotated[AlertStore, Depends(get_store)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
ReadingsDep = Annotated[ReadingsSource, Depends(get_readings)]

_bearer = HTTPBearer(auto_error=False, description="An API token from `vigil tokens create`.")


def get_current_token(context: ContextDep,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ApiToken:
    """The caller's token; 401 without a valid one."""
    token = verify_token(context.store.engine, credentials.credentials) if credentials is not None else None
    if token is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid API token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    return token


CurrentToken = Annotated[ApiToken, Depends(get_current_token)]


class RoleRequirement:
    """A dependency that lets through tokens of `role` or above (403 otherwise).
    The role is readable on the route, for the OpenAPI `x-min-role` field."""

    def __init__(self, role: Role) -> None:
        self.role = role

    def __call__(self, token: CurrentToken) -> ApiToken:
        if not token.role.allows(self.role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {self.role.value} role")
        return token


_requirements = {role: RoleRequirement(role) for role in Role}


def require_role(role: Role) -> RoleRequirement:
    """The dependency for `role` (one instance per role, so FastAPI caches it per request)."""
    return _requirements[role]


# Database ids are signed 64-bit: a larger number in a path is a 422, not an overflow deep in the driver.
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a record id")]

Viewer = Annotated[ApiToken, Depends(require_role(Role.VIEWER))]
Technician = Annotated[ApiToken, Depends(require_role(Role.TECHNICIAN))]
OnCall = Annotated[ApiToken, Depends(require_role(Role.ONCALL))]
Admin = Annotated[ApiToken, Depends(require_role(Role.ADMIN))]

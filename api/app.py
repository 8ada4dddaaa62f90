"""The application factory: `create_app(settings, registry, store)` wires the
route modules to their dependencies, so tests build the app on their own
store and InfluxDB."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import fastapi_offline
import urllib3
from fastapi import FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from prometheus_client import Counter, Histogram

from alerts.store import AlertNotFound, AlertStore, InvalidAlertTransition, WorkOrderNotFound
from alerts.workorders import InvalidWorkOrderTransition
from api.console import mount_console
from api.deps import ApiContext, RoleRequirement
from api.readings import ReadingsSource
from api.roles import Role
from api.routes import alerts as alert_routes
from api.routes import excursions as excursion_routes
from api.routes import health as health_routes
from api.routes import oncall as oncall_routes
from api.routes import readings as reading_routes
from api.routes import registry as registry_routes
from api.routes import reports as report_routes
from api.routes import silences as silence_routes
from api.routes import stream as stream_routes
from api.routes import tokens as token_routes
from api.routes import work_orders as work_order_routes
from api.tokens import ensure_token_table
from vigil.registry import Registry
from vigil.settings import Settings

API_PREFIX = "/api/v1"
TITLE = "Vigil API"
VERSION = "1"
# Swagger UI's files ship in the fastapi-offline wheel: /docs works with no CDN.
SWAGGER_STATIC = Path(fastapi_offline.__file__).parent / "static"

V1_ROUTERS = [registry_routes.router, reading_routes.router, alert_routes.router, silence_routes.router,
              work_order_routes.router, excursion_routes.router, oncall_routes.router, token_routes.router,
              stream_routes.router, report_routes.router]

TAGS = [
    {"name": "registry", "description": "Sites, buildings, rooms, assets, gateways and sensors with live status."},
    {"name": "readings", "description": "Newest readings and downsampled history (InfluxDB)."},
    {"name": "alerts", "description": "Alerts and their audit trail."},
    {"name": "silences", "description": "Silences and maintenance windows."},
    {"name": "work orders", "description": "Maintenance work orders."},
    {"name": "excursions", "description": "Cold-chain excursion records."},
    {"name": "on call", "description": "Schedules and escalation policies (no contact-point secrets)."},
    {"name": "tokens", "description": "API tokens."},
    {"name": "stream", "description": "Live alert and work-order changes (Server-Sent Events)."},
    {"name": "reports", "description": "Compliance reports as CSV or PDF: cold-chain log, excursions, UV register, work-order SLA."},
    {"name": "health", "description": "Liveness, readiness and metrics."},
]


def operation_id(route: APIRoute) -> str:
    """Stable operation ids: the route function's name (unique across modules)."""
    return route.name


def min_role(dependant: Dependant) -> Role | None:
    """The role a route requires, found among its dependencies (None: public)."""
    for dep in dependant.dependencies:
        if isinstance(dep.call, RoleRequirement):
            return dep.call.role
        found = min_role(dep)
        if found is not None:
            return found
    return None


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return _error(404, str(exc))

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return _error(409, str(exc))

    async def influx_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # Not the client's fault and not a bug: say so, so that callers retry (no address in the text).
        return _error(503, "the readings database (InfluxDB) is unavailable; try again shortly")

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Never a stack trace or a connection string in a response; the server log has it.
        return _error(500, "internal error")

    for missing in (AlertNotFound, WorkOrderNotFound):
        app.add_exception_handler(missing, not_found)
    for refused in (InvalidAlertTransition, InvalidWorkOrderTransition):
        app.add_exception_handler(refused, conflict)
    # influxdb-client raises urllib3's errors when InfluxDB cannot be reached or times out.
    app.add_exception_handler(urllib3.exceptions.HTTPError, influx_unavailable)
    app.add_exception_handler(Exception, unexpected)


def _install_metrics(app: FastAPI, context: ApiContext) -> None:
    requests = Counter("vigil_api_requests", "HTTP requests", ["method", "operation", "status"], registry=context.metrics)
    latency = Histogram("vigil_api_request_seconds", "HTTP request latency", ["method", "operation"], registry=context.metrics)

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        began = time.perf_counter()
        response = await call_next(request)
        # The operation id, not the URL: ids in paths must not explode the label set.
        operation = getattr(request.scope.get("route"), "name", None) or "unmatched"
        requests.labels(request.method, operation, str(response.status_code)).inc()
        latency.labels(request.method, operation).observe(time.perf_counter() - began)
        return response


def _install_docs(app: FastAPI) -> None:
    app.mount("/docs/static", StaticFiles(directory=SWAGGER_STATIC), name="swagger-static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{TITLE} docs",
                                   swagger_js_url="/docs/static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/static/swagger-ui.css",
                                   swagger_favicon_url="/docs/static/favicon.png")


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with each operation's minimum role as `x-min-role`."""
    schema = get_openapi(title=TITLE, version=VERSION, routes=app.routes, tags=TAGS,
                         description="Vigil's REST API. Send `Authorization: Bearer <token>` "
                                     "(`vigil tokens create --name NAME --role ROLE`).")
    roles = {route.name: min_role(route.dependant) for router in [*V1_ROUTERS, health_routes.router]
             for route in router.routes if isinstance(route, APIRoute)}
    for operations in schema["paths"].values():
        for operation in operations.values():
            role = roles[operation["operationId"]]
            operation["x-min-role"] = role.value if role else "public"
    return schema


def create_app(settings: Settings, registry: Registry, store: AlertStore, *, readings: ReadingsSource | None = None,
               stale_after: timedelta = timedelta(minutes=10),
               readiness_max_age: timedelta = timedelta(minutes=15)) -> FastAPI:
    """The API over `store` and `registry`, reading sensor data through
    `readings` (default: InfluxDB with the reader token from `settings`)."""
    ensure_token_table(store.engine)
    source = readings or ReadingsSource(settings.influx_endpoint("reader"), registry, stale_after=stale_after)
    context = ApiContext(settings=settings, registry=registry, store=store, readings=source)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if readings is None:
            source.close()

    app = FastAPI(title=TITLE, version=VERSION, openapi_tags=TAGS, docs_url=None, redoc_url=None,
                  generate_unique_id_function=operation_id, lifespan=lifespan)
    app.state.vigil = context
    app.state.readiness_max_age = readiness_max_age
    for router in V1_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health_routes.router)
    _install_error_handlers(app)
    _install_metrics(app, context)
    _install_docs(app)
    mount_console(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app

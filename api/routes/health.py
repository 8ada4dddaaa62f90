"""Liveness, readiness (no token needed: load balancers and supervisors ask)
and Prometheus metrics (viewer)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api import schemas
from api.deps import ContextDep, Viewer
from api.health import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
def get_liveness() -> schemas.Alive:
    """The process is up and serving."""
    return schemas.Alive()


@router.get("/readyz", responses={503: {"model": schemas.Readiness, "description": "a check failed"}})
def get_readiness(context: ContextDep, request: Request) -> schemas.Readiness:
    """Database, broker, InfluxDB and the newest reading's age; 503 when any fails."""
    checks = readiness(context.settings, context.store.engine, context.readings, request.app.state.readiness_max_age)
    body = schemas.Readiness(ready=all(c.ok for c in checks.values()), checks=checks)
    if not body.ready:
        return JSONResponse(body.model_dump(mode="json"), status_code=503)  # type: ignore[return-value]
    return body


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def get_metrics(context: ContextDep, _: Viewer) -> Response:
    """Prometheus metrics of this API process."""
    return Response(generate_latest(context.metrics), media_type=CONTENT_TYPE_LATEST)

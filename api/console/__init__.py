"""The on-call web console: plain HTML, CSS and JavaScript in `static/`,
served at /console by the API itself (no build step, no CDN). The browser
keeps the API token in sessionStorage and sends it as a Bearer header; the
API enforces every role, the console only hides what a role cannot use."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"
PATH = "/console"

# Only the console's own files may run or be fetched; no page may frame it; no
# URL of it is sent elsewhere as a referrer.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class ConsoleFiles(StaticFiles):
    """The static files, with the console's security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def mount_console(app: FastAPI) -> None:
    """Serve the console at /console/ (and send /console there)."""

    @app.get(PATH, include_in_schema=False)
    def console_root() -> RedirectResponse:
        return RedirectResponse(f"{PATH}/")

    app.mount(PATH, ConsoleFiles(directory=STATIC, html=True), name="console")

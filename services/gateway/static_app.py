"""The web client's static files at /app, under a strict Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "webapp"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def mount_client(app: FastAPI) -> None:
    """Serve the web client at /app with CSP and nosniff headers on every response.

    Args:
        app: The gateway application.
    """
    app.mount("/app", StaticFiles(directory=ASSETS, html=True), name="app")

    @app.middleware("http")
    async def client_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path == "/app" or request.url.path.startswith("/app/"):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response

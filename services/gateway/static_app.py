"""The web client's static files at /app, under a strict Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ASSETS = Path(__file__).parent / "webapp"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class ClientHeaders:
    """CSP and nosniff on every response of the wrapped app (the static files only).

    Pure ASGI around the mount, not an ``@app.middleware("http")``: that one ran on every API
    request too and cost ~0.18 ms of CPU each (docs/performance.md).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount_client(app: FastAPI) -> None:
    """Serve the web client at /app with CSP and nosniff headers on every response.

    Args:
        app: The gateway application.
    """
    app.mount("/app", ClientHeaders(StaticFiles(directory=ASSETS, html=True)), name="app")

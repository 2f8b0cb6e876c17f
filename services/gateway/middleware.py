"""HTTP guards around every route: the request-body limit, security headers and CORS.

Pure ASGI (not ``BaseHTTPMiddleware``) so a streamed body is counted as it arrives and SSE
responses are not buffered.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.config import GatewaySettings

# Routes that stream a large upload to disk and enforce limits of their own
# (INTEGRATION_MAX_UPLOAD_BYTES and friends): the health-export imports.
OWN_BODY_LIMITS = re.compile(r"^/v1/integrations/[^/]+/import$")
HSTS = "max-age=63072000; includeSubDomains"


class _TooLarge(StarletteHTTPException):
    """A body over the limit, found while it streams in.

    An HTTP exception, so FastAPI's body parsing lets it through to the error handler (any other
    exception raised there becomes a 400).
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over {limit} bytes.")


def _error(code: str, message: str, details: Any) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": details}}).encode()


class BodyLimit:
    """Answer 413 to a request body over ``limit`` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or OWN_BODY_LIMITS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(self.limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = _error(
            "payload_too_large",
            f"The request body is over {self.limit} bytes.",
            {"limit": self.limit},
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """``X-Content-Type-Options`` and ``Referrer-Policy`` on every response; HSTS over TLS.

    TLS is the request's own scheme or, behind a terminating proxy, ``X-Forwarded-Proto``
    (the proxy is trusted to set it; HSTS sent over plain HTTP is ignored by browsers anyway).
    """

    def __init__(self, app: ASGIApp, hsts_always: bool) -> None:
        self.app = app
        self.hsts_always = hsts_always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        forwarded = dict(scope["headers"]).get(b"x-forwarded-proto", b"").split(b",")[0]
        tls = self.hsts_always or scope.get("scheme") == "https" or forwarded.strip() == b"https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers.setdefault("Referrer-Policy", "no-referrer")
                if tls:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)


def install_middleware(app: FastAPI, settings: GatewaySettings) -> None:
    """Add the guards; the last added runs first, so every answer (a 413 too) gets headers."""
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    origins = [o.strip() for o in settings.cors_allow_origins.split(",") if o.strip()]
    if origins:
        # Bearer tokens, not cookies: no credentials mode, so a wildcard origin stays harmless.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Accept", "Idempotency-Key"],
            expose_headers=["Retry-After", "X-Conversation-Id", "X-Turn-Id"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, hsts_always=settings.hsts_always)

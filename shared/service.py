"""What every service's HTTP side has in common: probes, Prometheus metrics and the runner.

Each service's ``app.py`` builds its own FastAPI app and lifespan, then mounts ``probe_router``.
``/internal/alive`` answers while the process runs; ``/internal/ready`` runs the service's checks
(bus connected, database and cache reachable) and answers 503 naming the ones that failed.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from faststream.nats import NatsBroker
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.config import CommonSettings

ReadyCheck = Callable[[], Awaitable[bool]]
CHECK_TIMEOUT_SECONDS = 2.0
KEEP_ALIVE_SECONDS = 75


def probe_router(checks: Mapping[str, ReadyCheck]) -> APIRouter:
    """Return the router with ``/internal/alive``, ``/internal/ready`` and ``/metrics``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/internal/alive")
    async def alive() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/internal/ready")
    async def ready() -> JSONResponse:
        results: dict[str, bool] = {}
        for name, check in checks.items():
            try:
                results[name] = await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
            except Exception:
                results[name] = False
        ok = all(results.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": results},
            status_code=200 if ok else 503,
        )

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


def nats_check(broker: NatsBroker) -> ReadyCheck:
    """A readiness check that passes while the broker's connection is up."""

    async def check() -> bool:
        connection = broker.config.connection_state.connection
        return bool(connection.is_connected)

    return check


def database_check(engine: AsyncEngine) -> ReadyCheck:
    """A readiness check that runs ``SELECT 1``."""

    async def check() -> bool:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    return check


def redis_check(redis: Redis) -> ReadyCheck:
    """A readiness check that pings Redis."""

    async def check() -> bool:
        return bool(await redis.ping())

    return check


def run(app: FastAPI | str, settings: CommonSettings, *, workers: int = 1) -> None:
    """Serve ``app`` with uvicorn on the settings' host and port until interrupted.

    With ``workers`` > 1, ``app`` is the import path of an app factory (``module:function``):
    uvicorn starts that many processes sharing the port, and each builds its own app.
    """
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=settings.log_level, format=log_format)
    # Worker processes start with logging unconfigured: uvicorn applies this config in each one.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["formatters"]["habyss"] = {"format": log_format}
    log_config["handlers"]["habyss"] = {"class": "logging.StreamHandler", "formatter": "habyss"}
    log_config["root"] = {"handlers": ["habyss"], "level": settings.log_level}
    uvicorn.run(
        app,
        log_config=log_config if workers > 1 else uvicorn.config.LOGGING_CONFIG,
        factory=isinstance(app, str),
        workers=workers if isinstance(app, str) else None,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        # Longer than the clients' pools keep idle connections (uvicorn's 5 s default lets the
        # server close a connection just as a client reuses it, failing that request).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        access_log=False,
    )


Hook = Callable[[], Awaitable[None]]
log = logging.getLogger(__name__)


async def stop_broker(broker: NatsBroker) -> None:
    """Drain the broker (in-flight handlers finish); a bus already gone is logged, not raised."""
    try:
        await broker.stop()
    except Exception as exc:
        log.warning("the bus connection did not drain cleanly: %r", exc)


def create_bus_service_app(
    title: str,
    broker: NatsBroker,
    *,
    checks: Mapping[str, ReadyCheck] | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
) -> FastAPI:
    """Build the HTTP side of a bus-driven service.

    The lifespan connects the broker, declares the streams, runs ``on_startup`` hooks (open
    clients, load models) and only then starts consuming; on shutdown the broker drains first, so
    in-flight handlers finish within its graceful timeout, then ``on_shutdown`` hooks run.
    """
    from shared.messaging import declare_streams

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await broker.connect()
        await declare_streams(broker)
        for hook in on_startup:
            await hook()
        await broker.start()
        try:
            yield
        finally:
            await stop_broker(broker)
            for hook in on_shutdown:
                await hook()

    app = FastAPI(title=title, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.broker = broker  # what deploy/asyncapi.py documents
    app.include_router(probe_router({"nats": nats_check(broker), **(checks or {})}))
    return app

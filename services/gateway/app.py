"""The gateway's composition root: ``create_app`` wires settings, database, bus, relay and API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from services.gateway import handlers
from services.gateway.api import accounts, chat, goals, habits, learning, metrics
from services.gateway.api.deps import Runtime
from services.gateway.api.errors import install_error_handlers
from services.gateway.config import GatewaySettings
from services.gateway.outbox import OutboxRelay
from shared.db.engine import create_engine, session_factory
from shared.messaging import create_broker, declare_streams, publish_raw
from shared.service import (
    database_check,
    nats_check,
    probe_router,
    redis_check,
    stop_broker,
)

DESCRIPTION = """The Habyss public API for the mobile apps.

Authenticate with `POST /v1/auth/token` and send `Authorization: Bearer <access_token>`.
Errors always come as `{"error": {"code", "message", "details"}}`.
"""


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    broker = create_broker(settings)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    redis = Redis.from_url(settings.redis_url)

    async def publish(subject: str, payload: bytes, msg_id: str, headers: dict[str, str]) -> None:
        await publish_raw(broker, subject, payload, msg_id, headers)

    relay = OutboxRelay(
        sessions,
        publish,
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
        linger_seconds=settings.relay_linger_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await broker.connect()
        await declare_streams(broker)
        await broker.start()
        relay.start()
        try:
            yield
        finally:
            await relay.stop()
            await stop_broker(broker)
            await redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="Habyss API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    runtime = Runtime(settings=settings, sessions=sessions, relay=relay, broker=broker, redis=redis)
    app.state.runtime = runtime
    # The habit rpc (rpc.habits.*) runs on the same broker and the same use cases as the API.
    broker.context.set_global("runtime", runtime)
    broker.include_router(handlers.create_router())
    install_error_handlers(app)
    app.include_router(accounts.router)
    app.include_router(goals.router)
    app.include_router(habits.router)
    app.include_router(metrics.router)
    app.include_router(learning.router)
    app.include_router(chat.router)
    app.include_router(
        probe_router(
            {
                "nats": nats_check(broker),
                "database": database_check(engine),
                "redis": redis_check(redis),
            }
        )
    )
    return app

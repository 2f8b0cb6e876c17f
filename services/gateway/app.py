"""The gateway's composition root: ``create_app`` wires settings, database, bus, relay and API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from services.gateway import handlers
from services.gateway.api import (
    accounts,
    charts,
    chat,
    confirmations,
    goals,
    habits,
    integrations,
    learning,
    metrics,
    portability,
    reminders,
    webhooks,
)
from services.gateway.api.deps import Runtime
from services.gateway.api.errors import install_error_handlers
from services.gateway.config import GatewaySettings
from services.gateway.import_jobs import ImportJobs
from services.gateway.middleware import install_middleware
from services.gateway.outbox import OutboxRelay
from services.gateway.portability.ssrf import AllowList
from services.gateway.portability.webhooks import Deliverer, WebhookPolicy
from services.gateway.reminders.push import WebPushAdapter
from services.gateway.reminders.scheduler import ReminderScheduler
from services.gateway.static_app import mount_client
from services.gateway.throttle import Throttle
from shared.db.engine import create_engine, session_factory
from shared.messaging import create_broker, declare_streams, publish_raw
from shared.service import (
    database_check,
    nats_check,
    probe_router,
    redis_check,
    stop_broker,
)
from shared.slo_metrics import RequestMetrics

DESCRIPTION = """The Habyss public API for the mobile apps.

Authenticate with `POST /v1/auth/token` and send `Authorization: Bearer <access_token>`.
Errors always come as `{"error": {"code", "message", "details"}}`.
"""


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    broker = create_broker(settings)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
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
    imports = ImportJobs(sessions, relay)
    scheduler = ReminderScheduler(
        sessions,
        relay.wake,
        poll_seconds=settings.reminder_poll_seconds,
        batch=settings.reminder_batch,
    )
    push = (
        WebPushAdapter(
            settings.webpush_vapid_private_key,
            settings.webpush_subject,
            allow_private=settings.webpush_allow_private,
        )
        if settings.webpush_enabled
        else None
    )
    deliverer = Deliverer(
        sessions,
        WebhookPolicy(
            allow=AllowList.parse(settings.webhook_allow_hosts),
            max_failures=settings.webhook_max_failures,
            timeout_seconds=settings.webhook_timeout_seconds,
        ),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await broker.connect()
        await declare_streams(broker)
        await broker.start()
        relay.start()
        scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()
            await imports.stop()
            await relay.stop()
            await stop_broker(broker)
            await deliverer.aclose()
            await redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="Habyss API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    runtime = Runtime(
        settings=settings,
        sessions=sessions,
        relay=relay,
        broker=broker,
        redis=redis,
        throttle=Throttle(settings, redis),
        push=push,
    )
    app.state.runtime = runtime
    app.state.broker = broker  # what deploy/asyncapi.py documents
    app.state.imports = imports
    app.state.reminder_scheduler = scheduler
    app.state.webhooks = deliverer
    # The habit rpc (rpc.habits.*) runs on the same broker and the same use cases as the API.
    broker.context.set_global("runtime", runtime)
    broker.context.set_global("webhooks", deliverer)
    broker.include_router(handlers.create_router())
    install_error_handlers(app)
    app.add_middleware(RequestMetrics)
    install_middleware(app, settings)
    app.include_router(accounts.router)
    app.include_router(goals.router)
    app.include_router(habits.router)
    app.include_router(metrics.router)
    app.include_router(charts.router)
    app.include_router(integrations.router)
    app.include_router(reminders.router)
    app.include_router(learning.router)
    app.include_router(chat.router)
    app.include_router(confirmations.router)
    app.include_router(portability.router)
    app.include_router(webhooks.router)
    app.include_router(
        probe_router(
            {
                "nats": nats_check(broker),
                "database": database_check(engine),
                "redis": redis_check(redis),
            }
        )
    )
    mount_client(app)
    return app

"""The metrics service's composition root."""

from __future__ import annotations

from fastapi import FastAPI
from redis.asyncio import Redis

from services.metrics import handlers
from services.metrics.config import MetricsSettings
from services.metrics.service import MetricsService
from shared.db.engine import create_engine, session_factory
from shared.messaging import create_broker
from shared.service import create_bus_service_app, database_check, redis_check


def create_app(settings: MetricsSettings | None = None) -> FastAPI:
    settings = settings or MetricsSettings()
    broker = create_broker(settings)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    redis = Redis.from_url(settings.redis_url)
    service = MetricsService(session_factory(engine), redis, broker)
    broker.context.set_global("metrics", service)
    broker.include_router(handlers.subscribers.router())

    async def close() -> None:
        await redis.aclose()
        await engine.dispose()

    return create_bus_service_app(
        "Habyss metrics",
        broker,
        checks={"database": database_check(engine), "redis": redis_check(redis)},
        on_shutdown=[close],
    )

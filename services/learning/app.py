"""The learning service's composition root."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from services.learning import handlers
from services.learning.config import LearningSettings
from services.learning.service import LearningService
from shared.db.engine import create_engine, session_factory
from shared.messaging import create_broker
from shared.service import create_bus_service_app, database_check

log = logging.getLogger(__name__)


async def sweep_forever(service: LearningService, interval: float) -> None:
    """Sweep due users and publish due nudges every ``interval`` seconds until cancelled."""
    while True:
        try:
            await service.sweep_due()
        except Exception:
            log.exception("the periodic churn sweep failed; trying again next round")
        await asyncio.sleep(interval)


def create_app(settings: LearningSettings | None = None) -> FastAPI:
    settings = settings or LearningSettings()
    broker = create_broker(settings)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    service = LearningService(
        session_factory(engine),
        broker,
        learn_lag_days=settings.learn_lag_days,
        sweep_every=timedelta(hours=settings.sweep_every_hours),
        sweep_batch=settings.sweep_batch,
    )
    broker.context.set_global("learning", service)
    broker.include_router(handlers.subscribers.router())

    async def close() -> None:
        await engine.dispose()

    app = create_bus_service_app(
        "Habyss learning",
        broker,
        checks={"database": database_check(engine)},
        on_startup=[service.start],
        on_shutdown=[close],
    )
    app.state.learning = service
    if settings.sweep_interval_seconds > 0:
        # The loop runs inside the bus lifespan: it starts once consumers run and is cancelled
        # before the broker drains, so it never publishes on a closing connection.
        bus_lifespan = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            async with bus_lifespan(app):
                task = asyncio.create_task(sweep_forever(service, settings.sweep_interval_seconds))
                try:
                    yield
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

        app.router.lifespan_context = lifespan
    return app

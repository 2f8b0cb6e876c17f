"""The agent service's composition root."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.agent import handlers
from services.agent.config import AgentSettings
from services.agent.models import Model
from services.agent.nlu import heads
from services.agent.service import AgentService
from shared.db.engine import create_engine, session_factory
from shared.messaging import create_broker
from shared.service import create_bus_service_app, database_check


def create_app(settings: AgentSettings | None = None, *, model: Model | None = None) -> FastAPI:
    """Build the agent; ``model`` replaces the configured one (tests pass a scripted model)."""
    settings = settings or AgentSettings()
    broker = create_broker(settings)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    service = AgentService(session_factory(engine), broker, settings, model=model)
    broker.context.set_global("agent", service)
    broker.include_router(
        handlers.create_router(settings.turn_workers, settings.turn_deadline_seconds)
    )

    async def warm_up() -> None:
        # Build the embedding model now (onnxruntime graph and parity check: about a second),
        # not on the first user's turn.
        await asyncio.to_thread(heads.embed, "warm up")

    async def close() -> None:
        await service.aclose()
        await engine.dispose()

    app = create_bus_service_app(
        "Habyss agent",
        broker,
        checks={"database": database_check(engine)},
        on_startup=[warm_up],
        on_shutdown=[close],
    )
    app.state.agent = service
    return app

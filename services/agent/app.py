"""The agent service's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from services.agent.config import AgentSettings
from shared.messaging import create_broker
from shared.service import create_bus_service_app


def create_app(settings: AgentSettings | None = None) -> FastAPI:
    settings = settings or AgentSettings()
    broker = create_broker(settings)
    return create_bus_service_app("Habyss agent", broker)

"""The knowledge service's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from services.knowledge.config import KnowledgeSettings
from shared.messaging import create_broker
from shared.service import create_bus_service_app


def create_app(settings: KnowledgeSettings | None = None) -> FastAPI:
    settings = settings or KnowledgeSettings()
    broker = create_broker(settings)
    return create_bus_service_app("Habyss knowledge", broker)

"""The learning service's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from services.learning.config import LearningSettings
from shared.messaging import create_broker
from shared.service import create_bus_service_app


def create_app(settings: LearningSettings | None = None) -> FastAPI:
    settings = settings or LearningSettings()
    broker = create_broker(settings)
    return create_bus_service_app("Habyss learning", broker)

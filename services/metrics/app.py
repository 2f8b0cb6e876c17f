"""The metrics service's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from services.metrics.config import MetricsSettings
from shared.messaging import create_broker
from shared.service import create_bus_service_app


def create_app(settings: MetricsSettings | None = None) -> FastAPI:
    settings = settings or MetricsSettings()
    broker = create_broker(settings)
    return create_bus_service_app("Habyss metrics", broker)

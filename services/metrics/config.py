"""Metrics service settings: the only place this service reads its environment."""

from __future__ import annotations

from shared.config import CommonSettings


class MetricsSettings(CommonSettings):
    service_name: str = "metrics"
    port: int = 8002

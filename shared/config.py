"""Settings every service shares; each service's ``config.py`` subclasses ``CommonSettings``.

Only settings classes read the environment. Defaults point at the local servers that ``make run``
and CI use, so a fresh clone needs no configuration.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Connection settings and delivery policy shared by all services."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = "habyss"
    nats_url: str = "nats://127.0.0.1:4222"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/habyss"
    redis_url: str = "redis://127.0.0.1:6379/0"
    otel_exporter_otlp_endpoint: str | None = None
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 8000
    shutdown_timeout_seconds: float = Field(default=10.0, gt=0)
    # Connections one service process keeps open, and the extra ones it may open under load.
    # Their sum times the processes must stay under PostgreSQL's max_connections (100 by default).
    db_pool_size: int = Field(default=10, ge=1, le=500)
    db_max_overflow: int = Field(default=20, ge=0, le=500)
    # The bundled all-MiniLM-L6-v2 (knowledge search, the agent's understanding): onnxruntime or
    # NumPy (`auto`: onnxruntime when it imports and matches NumPy at load), the onnxruntime
    # graph's matrix weights, and its threads per forward pass (1: one core per process).
    # int8 halves the forward's CPU but moves answers a little (docs/agent.md, Cost): opt-in.
    embedding_runtime: Literal["auto", "onnx", "numpy"] = "auto"
    embedding_precision: Literal["int8", "fp32"] = "fp32"
    embedding_threads: int = Field(default=1, ge=1, le=64)

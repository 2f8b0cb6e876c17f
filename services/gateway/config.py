"""Gateway settings: the only place the gateway reads its environment."""

from __future__ import annotations

from pydantic import Field

from shared.config import CommonSettings


class GatewaySettings(CommonSettings):
    service_name: str = "gateway"
    port: int = 8000
    # Sign tokens with a secret of your own in production; the launcher generates one per data dir.
    jwt_secret: str = "habyss-development-secret-change-me-0123456789"
    jwt_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    relay_batch_size: int = Field(default=200, ge=1, le=1000)
    relay_poll_seconds: float = Field(default=0.5, gt=0)
    relay_linger_seconds: float = Field(default=0.005, ge=0, le=1)

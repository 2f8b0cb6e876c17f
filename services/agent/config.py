"""Agent service settings: the only place this service reads its environment."""

from __future__ import annotations

from shared.config import CommonSettings


class AgentSettings(CommonSettings):
    service_name: str = "agent"
    port: int = 8001

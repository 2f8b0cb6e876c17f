"""Knowledge service settings: the only place this service reads its environment."""

from __future__ import annotations

from shared.config import CommonSettings


class KnowledgeSettings(CommonSettings):
    service_name: str = "knowledge"
    port: int = 8003

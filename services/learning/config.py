"""Learning service settings: the only place this service reads its environment."""

from __future__ import annotations

from shared.config import CommonSettings


class LearningSettings(CommonSettings):
    service_name: str = "learning"
    port: int = 8004

"""Learning service settings: the only place this service reads its environment."""

from __future__ import annotations

from pydantic import Field

from shared.config import CommonSettings


class LearningSettings(CommonSettings):
    service_name: str = "learning"
    port: int = 8004
    # How often the background loop looks for users due a churn sweep and nudges due to go out;
    # 0 turns the loop off (sweeps then run only on metrics events and rpc.learning.sweep.v1).
    sweep_interval_seconds: float = Field(default=60.0, ge=0)
    # Every known user is swept at least this often, so a user who stopped logging is noticed.
    sweep_every_hours: float = Field(default=3.0, gt=0)
    sweep_batch: int = Field(default=200, ge=1, le=5000)
    # A closed day is learned from only this many days after it closed, so a log written the
    # morning after for the day before is not learned as a miss.
    learn_lag_days: int = Field(default=1, ge=0, le=7)

"""The metrics service's rpc subjects, requests and replies (``rpc.metrics.*.v1``)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

GET = "rpc.metrics.get.v1"
STRENGTH = "rpc.metrics.strength.v1"
TREND = "rpc.metrics.trend.v1"


class MetricsQuery(BaseModel):
    """Ask for a habit's metrics as of a date (the owner's today when absent)."""

    model_config = ConfigDict(frozen=True)
    user_id: uuid.UUID
    habit_id: uuid.UUID
    as_of: date | None = None


class RangeQuery(BaseModel):
    """Ask for a daily series between two local dates (inclusive)."""

    model_config = ConfigDict(frozen=True)
    user_id: uuid.UUID
    habit_id: uuid.UUID
    start: date | None = None
    end: date | None = None


class TrendQuery(RangeQuery):
    """Ask for a quantity habit's weekly or monthly trend."""

    granularity: Literal["week", "month"] = "week"


class HabitMetricsOut(BaseModel):
    """The fields of ``GET /v1/habits/{id}/metrics``."""

    habit_id: uuid.UUID
    as_of: date
    current_streak: int
    longest_streak: int
    streak_unit: str
    completion_rate_week: float | None
    completion_rate_month: float | None
    strength: float
    total_completions: int
    last_completed_on: date | None


class StrengthPoint(BaseModel):
    """The strength score (0..1) at the end of one local date."""

    date: date
    value: float


class StrengthOut(BaseModel):
    """The strength series of ``GET /v1/habits/{id}/strength``."""

    habit_id: uuid.UUID
    start: date
    end: date
    points: list[StrengthPoint]


class TrendPointOut(BaseModel):
    """One ISO week (``2026-W07``) or month (``2026-02``) of daily sums."""

    period: str
    average: float | None
    minimum: float | None
    maximum: float | None
    total: float
    count: int


class TrendOut(BaseModel):
    """The points of ``GET /v1/habits/{id}/trend``."""

    habit_id: uuid.UUID
    granularity: Literal["week", "month"]
    start: date
    end: date
    points: list[TrendPointOut]

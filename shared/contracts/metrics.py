"""The metrics service's rpc subjects, requests and replies (``rpc.metrics.*.v1``)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

GET = "rpc.metrics.get.v1"
STRENGTH = "rpc.metrics.strength.v1"
TREND = "rpc.metrics.trend.v1"
HISTORY = "rpc.metrics.history.v1"


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


class HistoryQuery(RangeQuery):
    """Ask for a habit's day-by-day history (what charts draw); default: the last 90 days.

    ``days`` counts back from ``end`` when ``start`` is absent.
    """

    days: int | None = Field(None, ge=1, le=3653, description="days ending on `end`")
    window: int = Field(30, ge=1, le=365, description="days in the rolling completion rate")
    granularity: Literal["week", "month"] = "week"


class HistoryDay(BaseModel):
    """One local date: its status, a quantity habit's sum, the rolling rate and the strength."""

    date: date
    status: Literal["completed", "missed", "skipped", "unscheduled", "pending", "none"]
    value: float | None
    rate: float | None
    strength: float


class HistoryStreak(BaseModel):
    """A run of satisfied periods from its first to its last day, ``length`` in the unit."""

    start: date
    end: date
    length: int


class HistoryPeriod(BaseModel):
    """Completed days (and a quantity habit's total) in one ISO week or calendar month."""

    period: str
    completed: int
    total: float | None


class HistoryOut(BaseModel):
    """A habit's history with what a chart needs to label it."""

    habit_id: uuid.UUID
    title: str
    kind: str
    target: dict[str, Any] | None
    start: date
    end: date
    window: int
    granularity: Literal["week", "month"]
    streak_unit: str
    days: list[HistoryDay]
    streaks: list[HistoryStreak]
    periods: list[HistoryPeriod]

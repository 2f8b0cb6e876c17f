"""Health and fitness data imported into Habyss, as the gateway serves it.

``rpc.integrations.data.v1`` answers what ``GET /v1/integrations/data`` answers: one data type's
daily values over a span ending on the user's today, their summary and how they compare on days
the user's habits were done. The ``user_id`` is the authenticated user of the request that
caused the call, never a value a model produced.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DATA = "rpc.integrations.data.v1"
IntegrationName = Literal["apple_health", "health_connect", "fitbit"]
DataTypeName = Literal[
    "steps", "active_energy", "exercise_minutes", "sleep_minutes", "mindful_minutes", "workouts"
]


class DataQuery(BaseModel):
    """One data type over the last ``days`` days through the user's today."""

    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID
    data_type: DataTypeName
    integration: IntegrationName | None = Field(None, description="null: every integration")
    workout_type: str | None = Field(None, max_length=64, description="For workouts only")
    days: int = Field(7, ge=1, le=366)


class DayValue(BaseModel):
    """One day's value (``count``: sessions, for workouts and mindful minutes)."""

    date: date
    value: float
    count: int


class SummaryOut(BaseModel):
    """The span's days with data, total, average per such day and extremes."""

    days_with_data: int
    total: float
    average: float | None
    minimum: float | None
    maximum: float | None
    best_day: date | None


class HabitComparisonOut(BaseModel):
    """The average on days a habit was done against the span's other days with data."""

    habit_id: uuid.UUID
    title: str
    days_done: int
    days_other: int
    average_done: float
    average_other: float
    difference_percent: float | None = Field(
        description="How much higher (+) or lower (-) the value is on days the habit was done"
    )


class DataOut(BaseModel):
    """The answer of ``rpc.integrations.data.v1`` and ``GET /v1/integrations/data``."""

    data_type: DataTypeName
    integration: IntegrationName | None
    workout_type: str | None
    unit: str
    start: date
    end: date
    days: list[DayValue]
    summary: SummaryOut
    habits: list[HabitComparisonOut]

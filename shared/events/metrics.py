"""Events of the metrics service."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from shared.events.base import Event


class HabitMetricsUpdatedV1(Event):
    """A habit's metrics were recomputed; ``metrics`` has the fields of the metrics API."""

    subject = "metrics.habit.updated.v1"
    habit_id: uuid.UUID
    as_of: date
    metrics: dict[str, Any]


class StreakEndedV1(Event):
    """A habit's current streak fell below what it was at the previous recompute.

    Published by the metrics service beside ``metrics.habit.updated.v1`` when a recompute finds
    ``current_streak`` lower than the stored one: a period was missed (or a log deleted).
    """

    subject = "metrics.streak.ended.v1"
    habit_id: uuid.UUID
    as_of: date
    previous_streak: int
    current_streak: int
    streak_unit: str


METRICS_EVENTS: tuple[type[Event], ...] = (HabitMetricsUpdatedV1, StreakEndedV1)

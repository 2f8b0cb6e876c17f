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


METRICS_EVENTS: tuple[type[Event], ...] = (HabitMetricsUpdatedV1,)

"""Events of the habit domain, published by the gateway through its outbox."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from shared.events.base import Event


class HabitCreatedV1(Event):
    """A habit was created; ``habit`` is its API representation at creation."""

    subject = "habits.habit.created.v1"
    habit_id: uuid.UUID
    habit: dict[str, Any]


class HabitUpdatedV1(Event):
    """A habit changed; ``changed`` names the fields, ``habit`` is the new representation."""

    subject = "habits.habit.updated.v1"
    habit_id: uuid.UUID
    changed: list[str]
    habit: dict[str, Any]


class HabitArchivedV1(Event):
    """A habit was archived (the API's DELETE); its logs are kept."""

    subject = "habits.habit.archived.v1"
    habit_id: uuid.UUID


class HabitLogRecordedV1(Event):
    """A log was written for a habit on a local calendar date."""

    subject = "habits.log.recorded.v1"
    habit_id: uuid.UUID
    log_id: uuid.UUID
    date: date
    status: Literal["done", "skip"]
    value: float | None = None


class HabitLogDeletedV1(Event):
    """A log was deleted."""

    subject = "habits.log.deleted.v1"
    habit_id: uuid.UUID
    log_id: uuid.UUID
    date: date


HABIT_EVENTS: tuple[type[Event], ...] = (
    HabitCreatedV1,
    HabitUpdatedV1,
    HabitArchivedV1,
    HabitLogRecordedV1,
    HabitLogDeletedV1,
)

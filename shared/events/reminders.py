"""Events of reminders: a reminder's fire time came and it is to be delivered."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field

from shared.events.base import Event


class ReminderFiredV1(Event):
    """A reminder fired (its fire time came): the gateway's scheduler claimed its delivery key.

    ``event_id`` is the delivery's id (one per reminder and local fire date and time), so a
    re-published event is dropped by JetStream's dedupe and a consumer can de-duplicate by it.
    ``local_time`` is ``HH:MM`` on the user's wall clock; ``fire_at`` the instant it was due.
    """

    subject = "reminders.reminder.fired.v1"
    reminder_id: uuid.UUID
    habit_id: uuid.UUID | None = None
    habit_title: str | None = Field(default=None, max_length=200)
    message: str = Field(max_length=700)
    local_date: date
    local_time: str = Field(pattern=r"^\d{2}:\d{2}$")
    fire_at: datetime


REMINDER_EVENTS: tuple[type[Event], ...] = (ReminderFiredV1,)

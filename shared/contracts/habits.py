"""The gateway's habit rpc (``rpc.habits.*.v1``): how other services change habit data.

The gateway is the single writer of the habit domain. Bodies (``habit``, ``log``) have the shape
of the public API's request bodies and are validated by the gateway with the same rules; the
``user_id`` is the authenticated user of the request that caused the call (for the agent, the
chat turn's user), never a value a model produced.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CREATE = "rpc.habits.create.v1"
LIST = "rpc.habits.list.v1"
LOG = "rpc.habits.log.v1"
ADD_SUB_HABITS = "rpc.habits.add_sub_habits.v1"
ASSIGN_TAGS = "rpc.habits.assign_tags.v1"


class HabitCommand(BaseModel):
    """Fields every habit rpc carries."""

    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID


class CreateHabit(HabitCommand):
    """Create a habit; ``habit`` is a ``POST /v1/habits`` body."""

    habit: dict[str, Any]


class ListHabits(HabitCommand):
    """List the user's live habits (the ``GET /v1/habits`` representation)."""


class LogHabit(HabitCommand):
    """Log a habit; ``log`` is a ``POST /v1/habits/{id}/logs`` body."""

    habit_id: uuid.UUID
    log: dict[str, Any] = Field(default_factory=dict)


class AddSubHabits(HabitCommand):
    """Append sub-habits to a habit (at most 20 in all)."""

    habit_id: uuid.UUID
    titles: list[str] = Field(min_length=1, max_length=20)


class AssignTags(HabitCommand):
    """Add tags to a habit, keeping the ones it has."""

    habit_id: uuid.UUID
    tags: list[str] = Field(min_length=1, max_length=20)


SET_REMINDER = "rpc.habits.set_reminder.v1"


class SetReminder(HabitCommand):
    """Remind the user of a habit (or to check in, without ``habit_id``) at a local time.

    ``time`` is ``HH:MM`` in the user's zone. With ``replace`` the habit's existing reminder is
    moved rather than a second one added; a reminder already at that time is left as it is.
    """

    habit_id: uuid.UUID | None = None
    time: str = Field(max_length=8)
    message: str | None = Field(default=None, max_length=500)
    replace: bool = True


class SetReminderOut(BaseModel):
    """The reminder as ``GET /v1/reminders/{id}`` shows it, and whether it is new."""

    reminder: dict[str, Any]
    created: bool


PROPOSE = "rpc.habits.propose.v1"
ProposedAction = Literal["archive_habit", "delete_reminders"]


class ProposeAction(HabitCommand):
    """Propose a destructive action for the user to accept: nothing changes until they do.

    ``archive_habit`` archives ``habit_id``; ``delete_reminders`` deletes the habit's reminders
    (without ``habit_id``: the free check-ins). The reply is a confirmation
    (``GET /v1/confirmations/{id}``); an unknown or foreign habit answers ``not_found``.
    """

    action: ProposedAction
    habit_id: uuid.UUID | None = None


class ConfirmationOut(BaseModel):
    """A proposed action as ``GET /v1/confirmations/{id}`` shows it."""

    id: uuid.UUID
    action: ProposedAction
    habit_id: uuid.UUID | None
    summary: str
    status: Literal["pending", "accepted", "cancelled", "expired"]
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None

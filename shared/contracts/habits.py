"""The gateway's habit rpc (``rpc.habits.*.v1``): how other services change habit data.

The gateway is the single writer of the habit domain. Bodies (``habit``, ``log``) have the shape
of the public API's request bodies and are validated by the gateway with the same rules; the
``user_id`` is the authenticated user of the request that caused the call (for the agent, the
chat turn's user), never a value a model produced.
"""

from __future__ import annotations

import uuid
from typing import Any

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

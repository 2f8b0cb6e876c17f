"""Use cases of goals: plain CRUD scoped to the owner."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import repository
from services.gateway.schemas import GoalIn, GoalOut, GoalPatch
from shared.db.core import Goal
from shared.errors import NotFound


def goal_out(goal: Goal) -> GoalOut:
    return GoalOut.model_validate(goal, from_attributes=True)


async def create_goal(session: AsyncSession, user_id: uuid.UUID, data: GoalIn) -> GoalOut:
    goal = Goal(id=uuid.uuid4(), user_id=user_id, status="active", **data.model_dump())
    session.add(goal)
    await session.flush()
    return goal_out(goal)


async def owned_goal(session: AsyncSession, user_id: uuid.UUID, goal_id: uuid.UUID) -> Goal:
    goal = await repository.goal_of(session, user_id, goal_id)
    if goal is None:
        raise NotFound("No such goal.")
    return goal


async def update_goal(
    session: AsyncSession, user_id: uuid.UUID, goal_id: uuid.UUID, patch: GoalPatch
) -> GoalOut:
    goal = await owned_goal(session, user_id, goal_id)
    for field in patch.model_fields_set:
        value = getattr(patch, field)
        if value is None and field in ("title", "status"):
            continue
        setattr(goal, field, value)
    await session.flush()
    return goal_out(goal)


async def delete_goal(session: AsyncSession, user_id: uuid.UUID, goal_id: uuid.UUID) -> None:
    goal = await owned_goal(session, user_id, goal_id)
    await session.delete(goal)
    await session.flush()

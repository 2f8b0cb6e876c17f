"""``/v1/goals``."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from services.gateway import goals, repository
from services.gateway.api.deps import CallerId, RuntimeDep
from services.gateway.api.errors import ERROR_RESPONSES
from services.gateway.schemas import GoalIn, GoalOut, GoalPatch

router = APIRouter(prefix="/v1/goals", tags=["goals"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_goal(body: GoalIn, caller: CallerId, rt: RuntimeDep) -> GoalOut:
    async with rt.transaction() as session:
        return await goals.create_goal(session, caller, body)


@router.get("")
async def list_goals(caller: CallerId, rt: RuntimeDep) -> list[GoalOut]:
    async with rt.read() as session:
        return [goals.goal_out(g) for g in await repository.goals_of(session, caller)]


@router.get("/{goal_id}")
async def get_goal(goal_id: uuid.UUID, caller: CallerId, rt: RuntimeDep) -> GoalOut:
    async with rt.read() as session:
        return goals.goal_out(await goals.owned_goal(session, caller, goal_id))


@router.patch("/{goal_id}")
async def patch_goal(
    goal_id: uuid.UUID, body: GoalPatch, caller: CallerId, rt: RuntimeDep
) -> GoalOut:
    async with rt.transaction() as session:
        return await goals.update_goal(session, caller, goal_id, body)


@router.delete("/{goal_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_goal(goal_id: uuid.UUID, caller: CallerId, rt: RuntimeDep) -> Response:
    async with rt.transaction() as session:
        await goals.delete_goal(session, caller, goal_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""``/v1/habits``, their sub-habits and their logs."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from fastapi.responses import JSONResponse

from services.gateway import accounts, habits, repository
from services.gateway.api.deps import CallerId, RuntimeDep, today_of
from services.gateway.api.errors import ERROR_RESPONSES
from services.gateway.fields import FromDate, ToDate
from services.gateway.schemas import HabitIn, HabitOut, HabitPatch, LogIn, LogOut, SubHabitIn
from services.gateway.security import utcnow
from shared.errors import Conflict, ValidationFailed

router = APIRouter(prefix="/v1/habits", tags=["habits"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_habit(body: HabitIn, caller: CallerId, rt: RuntimeDep) -> HabitOut:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        return await habits.create_habit(
            session, user, body, today_of(user), max_habits=rt.settings.max_habits_per_user
        )


@router.get("")
async def list_habits(caller: CallerId, rt: RuntimeDep) -> list[HabitOut]:
    async with rt.read() as session:
        return await habits.habits_out(session, await repository.habits_of(session, caller))


@router.get("/{habit_id}")
async def get_habit(habit_id: uuid.UUID, caller: CallerId, rt: RuntimeDep) -> HabitOut:
    async with rt.read() as session:
        habit = await habits.owned_habit(session, caller, habit_id)
        (out,) = await habits.habits_out(session, [habit])
        return out


@router.patch("/{habit_id}")
async def patch_habit(
    habit_id: uuid.UUID, body: HabitPatch, caller: CallerId, rt: RuntimeDep
) -> HabitOut:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        return await habits.update_habit(session, user, habit_id, body, utcnow())


@router.delete("/{habit_id}", status_code=status.HTTP_204_NO_CONTENT)
async def archive_habit(habit_id: uuid.UUID, caller: CallerId, rt: RuntimeDep) -> Response:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        await habits.archive_habit(session, user, habit_id, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{habit_id}/sub-habits", status_code=status.HTTP_201_CREATED)
async def add_sub_habit(
    habit_id: uuid.UUID, body: SubHabitIn, caller: CallerId, rt: RuntimeDep
) -> HabitOut:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        return await habits.add_sub_habit(session, user, habit_id, body.title, utcnow())


@router.post(
    "/{habit_id}/logs",
    status_code=status.HTTP_201_CREATED,
    response_model=LogOut,
    description="Record a log. The date defaults to your today (your zone and day_start). "
    "Send an `Idempotency-Key` to make retries safe: the same key with the same body answers "
    "the first response again; with another body, 409.",
)
async def record_log(
    habit_id: uuid.UUID,
    body: LogIn,
    caller: CallerId,
    rt: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    fingerprint = hashlib.sha256(
        json.dumps([str(habit_id), body.model_dump(mode="json")], sort_keys=True).encode()
    ).hexdigest()
    async with rt.transaction() as session:
        if idempotency_key and not await repository.claim_idempotency_key(
            session, caller, idempotency_key, fingerprint
        ):
            record = await repository.idempotency_record(session, caller, idempotency_key)
            assert record is not None
            if record.request_hash != fingerprint:
                raise Conflict("This Idempotency-Key was already used for another request.")
            return JSONResponse(record.response, status_code=record.status_code)
        out = await habits.record_log(session, caller, habit_id, body, today_of)
        payload = out.model_dump(mode="json")
        if idempotency_key:
            await repository.store_idempotent_response(
                session, caller, idempotency_key, status.HTTP_201_CREATED, payload
            )
    return JSONResponse(payload, status_code=status.HTTP_201_CREATED)


@router.get("/{habit_id}/logs")
async def list_logs(
    habit_id: uuid.UUID,
    caller: CallerId,
    rt: RuntimeDep,
    from_: FromDate = None,
    to: ToDate = None,
) -> list[LogOut]:
    if from_ is not None and to is not None and from_ > to:
        raise ValidationFailed("'from' is after 'to'.", details=[{"loc": ["query", "from"]}])
    async with rt.read() as session:
        user = await accounts.current_user(session, caller)
        return await habits.list_logs(session, user, habit_id, from_, to)


@router.delete("/{habit_id}/logs/{log_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_log(
    habit_id: uuid.UUID, log_id: uuid.UUID, caller: CallerId, rt: RuntimeDep
) -> Response:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        await habits.delete_log(session, user, habit_id, log_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""The gateway's bus entry points: the habit rpc other services write through."""

from __future__ import annotations

from typing import Annotated, Any

from faststream import Context
from faststream.nats import NatsRouter
from pydantic import ValidationError

from services.gateway import accounts, habits, repository
from services.gateway.api.deps import Runtime, today_of
from services.gateway.schemas import HabitIn, HabitOut, HabitPatch, LogIn, LogOut
from services.gateway.security import utcnow
from shared.contracts.habits import (
    ADD_SUB_HABITS,
    ASSIGN_TAGS,
    CREATE,
    LIST,
    LOG,
    AddSubHabits,
    AssignTags,
    CreateHabit,
    ListHabits,
    LogHabit,
)
from shared.errors import ValidationFailed
from shared.rpc import rpc_handler

RuntimeDep = Annotated[Runtime, Context("runtime")]
RPC_WORKERS = 16


def _parse(model: type[HabitIn] | type[LogIn], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(
            f"{where}: {first['msg']}", details=exc.errors(include_url=False, include_input=False)
        ) from None


async def on_create_habit(command: CreateHabit, rt: RuntimeDep) -> HabitOut:
    data: HabitIn = _parse(HabitIn, command.habit)
    async with rt.transaction() as session:
        user = await accounts.current_user(session, command.user_id)
        return await habits.create_habit(session, user, data, today_of(user))


async def on_list_habits(command: ListHabits, rt: RuntimeDep) -> list[HabitOut]:
    async with rt.read() as session:
        return await habits.habits_out(
            session, await repository.habits_of(session, command.user_id)
        )


async def on_log_habit(command: LogHabit, rt: RuntimeDep) -> LogOut:
    data: LogIn = _parse(LogIn, command.log)
    async with rt.transaction() as session:
        return await habits.record_log(session, command.user_id, command.habit_id, data, today_of)


async def on_add_sub_habits(command: AddSubHabits, rt: RuntimeDep) -> HabitOut:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, command.user_id)
        out: HabitOut | None = None
        for title in command.titles:
            out = await habits.add_sub_habit(session, user, command.habit_id, title, utcnow())
        assert out is not None
        return out


async def on_assign_tags(command: AssignTags, rt: RuntimeDep) -> HabitOut:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, command.user_id)
        current = await habits.owned_habit(session, user.id, command.habit_id)
        (existing,) = await habits.habits_out(session, [current])
        patch = HabitPatch(tags=sorted({*existing.tags, *command.tags}))
        return await habits.update_habit(session, user, command.habit_id, patch, utcnow())


def create_router() -> NatsRouter:
    """The habit rpc subscribers, on a router of their own for each app.

    A router is bound to the broker it is included in; tests and tools that build two gateways in
    one process need two routers.
    """
    router = NatsRouter()
    router.subscriber(CREATE, queue="gateway", max_workers=RPC_WORKERS)(
        rpc_handler(on_create_habit)
    )
    router.subscriber(LIST, queue="gateway", max_workers=RPC_WORKERS)(rpc_handler(on_list_habits))
    router.subscriber(LOG, queue="gateway", max_workers=RPC_WORKERS)(rpc_handler(on_log_habit))
    router.subscriber(ADD_SUB_HABITS, queue="gateway", max_workers=RPC_WORKERS)(
        rpc_handler(on_add_sub_habits)
    )
    router.subscriber(ASSIGN_TAGS, queue="gateway", max_workers=RPC_WORKERS)(
        rpc_handler(on_assign_tags)
    )
    return router

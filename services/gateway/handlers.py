"""The gateway's bus entry points: the habit rpc other services write through.

Beside it, the read of imported health data (``rpc.integrations.data.v1``) the assistant uses,
the reminder rpc of the assistant's ``set_reminder`` tool, and the delivery of due reminders
(``reminders.reminder.fired.v1``, staged by the gateway's own scheduler).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from faststream import Context
from faststream.nats import NatsRouter
from pydantic import ValidationError

from services.gateway import accounts, confirmations, habits, integrations, repository
from services.gateway.api.deps import Runtime, today_of
from services.gateway.portability.webhooks import EVENT_SUBJECTS, Deliverer
from services.gateway.reminders import delivery, use_cases
from services.gateway.reminders import repository as reminder_repository
from services.gateway.reminders.push import PushTarget
from services.gateway.reminders.schemas import parse_clock
from services.gateway.schemas import HabitIn, HabitOut, HabitPatch, LogIn, LogOut
from services.gateway.security import utcnow
from shared.contracts import integrations as integration_rpc
from shared.contracts.habits import (
    ADD_SUB_HABITS,
    ASSIGN_TAGS,
    CREATE,
    LIST,
    LOG,
    PROPOSE,
    SET_REMINDER,
    AddSubHabits,
    AssignTags,
    ConfirmationOut,
    CreateHabit,
    ListHabits,
    LogHabit,
    ProposeAction,
    SetReminder,
    SetReminderOut,
)
from shared.errors import ValidationFailed
from shared.events.reminders import ReminderFiredV1
from shared.messaging import durable_consumer
from shared.rpc import rpc_handler
from shared.streams import REMINDERS, stream_for

RuntimeDep = Annotated[Runtime, Context("runtime")]
DelivererDep = Annotated[Deliverer, Context("webhooks")]
RPC_WORKERS = 16
# A delivery may wait on several slow receivers (each up to WEBHOOK_TIMEOUT_SECONDS).
WEBHOOK_ACK_WAIT_SECONDS = 300.0


def _parse(model: type[HabitIn] | type[LogIn], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        # JSON, not errors(): a validator's ctx holds the exception object, which cannot be sent.
        details = json.loads(
            exc.json(include_url=False, include_context=False, include_input=False)
        )
        raise ValidationFailed(f"{where}: {first['msg']}", details=details) from None


async def on_create_habit(command: CreateHabit, rt: RuntimeDep) -> HabitOut:
    data: HabitIn = _parse(HabitIn, command.habit)
    async with rt.transaction() as session:
        user = await accounts.current_user(session, command.user_id)
        return await habits.create_habit(
            session, user, data, today_of(user), max_habits=rt.settings.max_habits_per_user
        )


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


async def on_integration_data(
    query: integration_rpc.DataQuery, rt: RuntimeDep
) -> integration_rpc.DataOut:
    async with rt.read() as session:
        user = await accounts.current_user(session, query.user_id)
        return await integrations.integration_data(
            session,
            user,
            query.data_type,
            query.days,
            today_of(user),
            integration=query.integration,
            workout_type=query.workout_type,
        )


async def on_set_reminder(command: SetReminder, rt: RuntimeDep) -> SetReminderOut:
    try:
        at = parse_clock(command.time)
    except ValueError as exc:
        raise ValidationFailed(f"time: {exc}") from None
    async with rt.transaction() as session:
        user = await accounts.current_user(session, command.user_id)
        out, created = await use_cases.set_habit_reminder(
            session, user, command.habit_id, at, command.message, utcnow(), replace=command.replace
        )
    return SetReminderOut(reminder=out.model_dump(mode="json"), created=created)


async def on_propose(command: ProposeAction, rt: RuntimeDep) -> ConfirmationOut:
    """The agent's destructive tools: store the action for the user to accept, change nothing."""
    async with rt.transaction() as session:
        user = await accounts.current_user(session, command.user_id)
        return await confirmations.propose(
            session,
            user,
            command.action,
            command.habit_id,
            utcnow(),
            rt.settings.confirmation_ttl_seconds,
        )


async def on_reminder_fired(event: ReminderFiredV1, rt: RuntimeDep) -> None:
    await delivery.publish_live(rt.broker, event)
    if rt.push is None:
        return
    async with rt.read() as session:
        subs = await reminder_repository.push_subscriptions_of(session, event.user_id)
    targets = [PushTarget(s.endpoint, s.p256dh, s.auth) for s in subs]

    async def forget(endpoints: list[str]) -> None:
        async with rt.transaction() as session:
            for endpoint in endpoints:
                await reminder_repository.drop_push_endpoint(session, endpoint)

    await delivery.push_all(rt.push, event, targets, forget)


def _webhook_handler(name: str) -> Any:
    async def on_event(event: dict[str, Any], deliverer: DelivererDep) -> None:
        await deliverer.deliver(name, event)

    on_event.__name__ = f"on_webhook_{name.replace('.', '_')}"
    return on_event


def add_webhook_subscribers(router: NatsRouter) -> None:
    """One durable consumer per webhook event, on the subject it is delivered from.

    A subject no stream holds yet (``reminders.reminder.due.v1`` before the reminders scheduler
    declares its stream) gets no consumer; it is picked up once the stream exists.
    """
    for name, subject in EVENT_SUBJECTS.items():
        try:
            stream = stream_for(subject)
        except LookupError:
            continue
        durable = "gateway-webhooks-" + name.replace(".", "-").replace("_", "-")
        router.subscriber(
            subject,
            stream=stream,
            **durable_consumer(durable, ack_wait=WEBHOOK_ACK_WAIT_SECONDS),
        )(_webhook_handler(name))


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
    router.subscriber(integration_rpc.DATA, queue="gateway", max_workers=RPC_WORKERS)(
        rpc_handler(on_integration_data)
    )
    for subject, handler in (
        (SET_REMINDER, on_set_reminder),
        (PROPOSE, on_propose),
    ):
        router.subscriber(subject, queue="gateway", max_workers=RPC_WORKERS)(rpc_handler(handler))
    router.subscriber(
        ReminderFiredV1.subject, stream=REMINDERS, **durable_consumer("gateway-reminder-fired")
    )(on_reminder_fired)
    add_webhook_subscribers(router)
    return router

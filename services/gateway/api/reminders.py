"""``/v1/reminders`` and ``/v1/push``: reminder rules and the browsers that receive them.

Every route is scoped to the caller: another user's reminder, habit or subscription answers 404.
Delivery (the scheduler, the SSE ``reminder`` event, Web Push) is in ``services.gateway.reminders``
and docs/reminders.md.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from services.gateway import accounts
from services.gateway.api.deps import CallerId, RuntimeDep
from services.gateway.api.errors import ERROR_RESPONSES
from services.gateway.reminders import repository, use_cases
from services.gateway.reminders.push import endpoint_problem
from services.gateway.reminders.schemas import (
    PushKeyOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    ReminderIn,
    ReminderOut,
    ReminderPatch,
)
from services.gateway.security import utcnow
from shared.errors import NotFound, ValidationFailed

router = APIRouter(prefix="/v1", tags=["reminders"], responses=ERROR_RESPONSES)


@router.post(
    "/reminders",
    status_code=status.HTTP_201_CREATED,
    description="Create a reminder at a local time of day in your time zone. With a `habit_id` "
    "it follows the habit by default: no reminder on a day the habit is not due, none once the "
    "period's target is met, none while the habit is archived. Without one it is a free "
    "check-in. Due reminders arrive on `GET /v1/notifications` (event `reminder`) and by Web "
    "Push to registered browsers.",
)
async def create_reminder(body: ReminderIn, caller: CallerId, rt: RuntimeDep) -> ReminderOut:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        return await use_cases.create_reminder(session, user, body, utcnow())


@router.get("/reminders")
async def list_reminders(
    caller: CallerId, rt: RuntimeDep, habit_id: uuid.UUID | None = None
) -> list[ReminderOut]:
    """Your reminders by time of day; `habit_id` keeps one habit's."""
    async with rt.read() as session:
        user = await accounts.current_user(session, caller)
        return await use_cases.list_reminders(session, user, habit_id)


@router.get("/reminders/{reminder_id}")
async def get_reminder(reminder_id: uuid.UUID, caller: CallerId, rt: RuntimeDep) -> ReminderOut:
    async with rt.read() as session:
        user = await accounts.current_user(session, caller)
        reminder = await use_cases.owned_reminder(session, user, reminder_id)
        return use_cases.reminder_out(reminder, user)


@router.patch("/reminders/{reminder_id}")
async def patch_reminder(
    reminder_id: uuid.UUID, body: ReminderPatch, caller: CallerId, rt: RuntimeDep
) -> ReminderOut:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        return await use_cases.update_reminder(session, user, reminder_id, body, utcnow())


@router.delete("/reminders/{reminder_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_reminder(reminder_id: uuid.UUID, caller: CallerId, rt: RuntimeDep) -> Response:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        await use_cases.delete_reminder(session, user, reminder_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/push/key", description="Whether Web Push is on, and the VAPID public key.")
async def push_key(caller: CallerId, rt: RuntimeDep) -> PushKeyOut:
    key = rt.settings.webpush_vapid_public_key or None
    return PushKeyOut(enabled=rt.settings.webpush_enabled, public_key=key)


@router.post(
    "/push/subscriptions",
    status_code=status.HTTP_201_CREATED,
    description="Register a browser for Web Push: send its `PushSubscription.toJSON()`. "
    "Registering the same endpoint again replaces its keys.",
)
async def add_push_subscription(
    body: PushSubscriptionIn, caller: CallerId, rt: RuntimeDep
) -> PushSubscriptionOut:
    problem = endpoint_problem(str(body.endpoint), rt.settings.webpush_allow_private)
    if problem is not None:
        raise ValidationFailed(f"endpoint: {problem}", details={"endpoint": str(body.endpoint)})
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        row = await repository.upsert_push_subscription(
            session,
            {
                "id": uuid.uuid4(),
                "user_id": user.id,
                "endpoint": str(body.endpoint),
                "p256dh": body.keys.p256dh,
                "auth": body.keys.auth,
                "created_at": utcnow(),
            },
        )
        return PushSubscriptionOut(id=row.id, endpoint=row.endpoint, created_at=row.created_at)


@router.get("/push/subscriptions")
async def list_push_subscriptions(caller: CallerId, rt: RuntimeDep) -> list[PushSubscriptionOut]:
    async with rt.read() as session:
        rows = await repository.push_subscriptions_of(session, caller)
        return [
            PushSubscriptionOut(id=r.id, endpoint=r.endpoint, created_at=r.created_at) for r in rows
        ]


@router.delete("/push/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_push_subscription(
    subscription_id: uuid.UUID, caller: CallerId, rt: RuntimeDep
) -> Response:
    async with rt.transaction() as session:
        if not await repository.delete_push_subscription(session, caller, subscription_id):
            raise NotFound("No such push subscription.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)

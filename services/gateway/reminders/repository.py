"""Every SQL statement of reminders, deliveries and push subscriptions. Never commits.

Kept beside the reminder code rather than in ``services/gateway/repository.py`` so that module
stays a readable size; the rule is the same: all of this room's SQL, and only SQL, lives here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.core import Habit, HabitLog, User
from shared.db.reminders import PushSubscription, Reminder, ReminderDelivery


async def reminders_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Reminder]:
    result = await session.execute(
        select(Reminder)
        .where(Reminder.user_id == user_id)
        .order_by(Reminder.time, Reminder.created_at)
    )
    return result.scalars().all()


async def reminders_of_habit(
    session: AsyncSession, user_id: uuid.UUID, habit_id: uuid.UUID
) -> Sequence[Reminder]:
    result = await session.execute(
        select(Reminder)
        .where(Reminder.user_id == user_id, Reminder.habit_id == habit_id)
        .order_by(Reminder.created_at)
    )
    return result.scalars().all()


async def reminder_of(
    session: AsyncSession, user_id: uuid.UUID, reminder_id: uuid.UUID, *, lock: bool = False
) -> Reminder | None:
    stmt = select(Reminder).where(Reminder.id == reminder_id, Reminder.user_id == user_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def habit_any_state(
    session: AsyncSession, user_id: uuid.UUID, habit_id: uuid.UUID
) -> Habit | None:
    """The user's habit, archived or not (a reminder keeps its habit when it is archived)."""
    result = await session.execute(
        select(Habit).where(Habit.id == habit_id, Habit.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def add_reminder(session: AsyncSession, reminder: Reminder) -> None:
    session.add(reminder)
    await session.flush()


async def delete_reminder(session: AsyncSession, reminder: Reminder) -> None:
    await session.delete(reminder)


async def claim_due(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[tuple[Reminder, User, Habit | None]]:
    """Lock reminders whose fire time has come; other schedulers skip them (``SKIP LOCKED``)."""
    result = await session.execute(
        select(Reminder, User, Habit)
        .join(User, User.id == Reminder.user_id)
        .outerjoin(Habit, Habit.id == Reminder.habit_id)
        .where(
            Reminder.enabled.is_(True),
            Reminder.next_fire_at.is_not(None),
            Reminder.next_fire_at <= now,
        )
        .order_by(Reminder.next_fire_at)
        .limit(limit)
        .with_for_update(of=Reminder, skip_locked=True)
    )
    return [(r, u, h) for r, u, h in result.all()]


async def logs_between(
    session: AsyncSession, habit_id: uuid.UUID, first: date, last: date
) -> Sequence[tuple[date, str, float | None]]:
    result = await session.execute(
        select(HabitLog.date, HabitLog.status, HabitLog.value).where(
            HabitLog.habit_id == habit_id, HabitLog.date >= first, HabitLog.date <= last
        )
    )
    return [(d, s, v) for d, s, v in result.all()]


async def claim_delivery(
    session: AsyncSession,
    *,
    delivery_id: uuid.UUID,
    reminder: Reminder,
    local_date: date,
    local_time: time,
    fire_at: datetime,
    outcome: str,
) -> bool:
    """Insert the delivery key; False when this fire time was already taken (by anyone)."""
    stmt = (
        insert(ReminderDelivery)
        .values(
            id=delivery_id,
            reminder_id=reminder.id,
            user_id=reminder.user_id,
            local_date=local_date,
            local_time=local_time,
            fire_at=fire_at,
            outcome=outcome,
        )
        .on_conflict_do_nothing(
            index_elements=[
                ReminderDelivery.reminder_id,
                ReminderDelivery.local_date,
                ReminderDelivery.local_time,
            ]
        )
        .returning(ReminderDelivery.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def deliveries_of(
    session: AsyncSession, reminder_id: uuid.UUID
) -> Sequence[ReminderDelivery]:
    result = await session.execute(
        select(ReminderDelivery)
        .where(ReminderDelivery.reminder_id == reminder_id)
        .order_by(ReminderDelivery.fire_at)
    )
    return result.scalars().all()


# --- push subscriptions -----------------------------------------------------------------------


async def upsert_push_subscription(
    session: AsyncSession, values: dict[str, Any]
) -> PushSubscription:
    """Register an endpoint; the same endpoint again (a re-subscribe) takes the new keys."""
    stmt = (
        insert(PushSubscription)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[PushSubscription.endpoint],
            set_={
                "user_id": values["user_id"],
                "p256dh": values["p256dh"],
                "auth": values["auth"],
            },
        )
        .returning(PushSubscription)
    )
    return (await session.execute(stmt)).scalar_one()


async def push_subscriptions_of(
    session: AsyncSession, user_id: uuid.UUID
) -> Sequence[PushSubscription]:
    result = await session.execute(
        select(PushSubscription)
        .where(PushSubscription.user_id == user_id)
        .order_by(PushSubscription.created_at)
    )
    return result.scalars().all()


async def delete_push_subscription(
    session: AsyncSession, user_id: uuid.UUID, subscription_id: uuid.UUID
) -> bool:
    result = await session.execute(
        delete(PushSubscription)
        .where(PushSubscription.id == subscription_id, PushSubscription.user_id == user_id)
        .returning(PushSubscription.id)
    )
    return result.scalar_one_or_none() is not None


async def drop_push_endpoint(session: AsyncSession, endpoint: str) -> None:
    """Forget an endpoint the push service says is gone (404/410)."""
    await session.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))

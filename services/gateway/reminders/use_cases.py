"""Use cases of reminders: create, read, change and delete the caller's rules.

Each write recomputes ``next_fire_at`` from the rule, the user's zone and the clock, so the
scheduler's due-time query only ever compares one indexed column with now.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.reminders import repository
from services.gateway.reminders.schedule import WEEKDAY_CODES, fire_rule, next_fire_time
from services.gateway.reminders.schemas import ReminderIn, ReminderOut, ReminderPatch
from shared.db.core import Habit, User
from shared.db.reminders import Reminder
from shared.errors import NotFound


def reminder_out(reminder: Reminder, user: User) -> ReminderOut:
    return ReminderOut(
        id=reminder.id,
        habit_id=reminder.habit_id,
        time=reminder.time.strftime("%H:%M"),
        weekdays=[WEEKDAY_CODES[d] for d in sorted(reminder.weekdays or [])],
        message=reminder.message,
        enabled=reminder.enabled,
        follow_habit=reminder.follow_habit,
        timezone=user.timezone,
        next_fire_at=reminder.next_fire_at,
        created_at=reminder.created_at,
        updated_at=reminder.updated_at,
    )


def reschedule(reminder: Reminder, user: User, habit: Habit | None, now: datetime) -> None:
    """Set the reminder's next fire time after ``now`` (``None`` when disabled or never)."""
    rule = fire_rule(
        reminder.time,
        reminder.weekdays or [],
        habit.schedule if habit is not None else None,
        reminder.follow_habit,
    )
    if not reminder.enabled or rule is None:
        reminder.next_fire_at = None
        return
    reminder.next_fire_at = next_fire_time(rule, user.timezone, now)


async def _habit(session: AsyncSession, user: User, habit_id: uuid.UUID) -> Habit:
    habit = await repository.habit_any_state(session, user.id, habit_id)
    if habit is None or habit.archived_at is not None:
        raise NotFound("No such habit.", details={"habit_id": str(habit_id)})
    return habit


async def owned_reminder(
    session: AsyncSession, user: User, reminder_id: uuid.UUID, *, lock: bool = False
) -> Reminder:
    reminder = await repository.reminder_of(session, user.id, reminder_id, lock=lock)
    if reminder is None:
        raise NotFound("No such reminder.")
    return reminder


def _day_numbers(days: Sequence[str] | None) -> list[int]:
    return sorted({WEEKDAY_CODES.index(d) for d in days or []})


async def create_reminder(
    session: AsyncSession, user: User, data: ReminderIn, now: datetime
) -> ReminderOut:
    habit = await _habit(session, user, data.habit_id) if data.habit_id is not None else None
    reminder = Reminder(
        id=uuid.uuid4(),
        user_id=user.id,
        habit_id=data.habit_id,
        time=data.time,
        weekdays=_day_numbers(data.weekdays),
        message=data.message,
        enabled=data.enabled,
        follow_habit=data.follow_habit,
        created_at=now,
        updated_at=now,
    )
    reschedule(reminder, user, habit, now)
    await repository.add_reminder(session, reminder)
    return reminder_out(reminder, user)


async def list_reminders(
    session: AsyncSession, user: User, habit_id: uuid.UUID | None = None
) -> list[ReminderOut]:
    if habit_id is not None:
        await _habit(session, user, habit_id)  # another user's habit answers 404, not []
        rows = await repository.reminders_of_habit(session, user.id, habit_id)
    else:
        rows = await repository.reminders_of(session, user.id)
    return [reminder_out(r, user) for r in rows]


async def update_reminder(
    session: AsyncSession, user: User, reminder_id: uuid.UUID, patch: ReminderPatch, now: datetime
) -> ReminderOut:
    reminder = await owned_reminder(session, user, reminder_id, lock=True)
    fields = patch.model_fields_set
    if patch.time is not None:
        reminder.time = patch.time
    if "weekdays" in fields:
        reminder.weekdays = _day_numbers(patch.weekdays)
    if "message" in fields:
        reminder.message = patch.message
    if "enabled" in fields and patch.enabled is not None:
        reminder.enabled = patch.enabled
    if "follow_habit" in fields and patch.follow_habit is not None:
        reminder.follow_habit = patch.follow_habit
    reminder.updated_at = now
    habit = (
        await repository.habit_any_state(session, user.id, reminder.habit_id)
        if reminder.habit_id is not None
        else None
    )
    reschedule(reminder, user, habit, now)
    await session.flush()
    return reminder_out(reminder, user)


async def delete_reminder(session: AsyncSession, user: User, reminder_id: uuid.UUID) -> None:
    reminder = await owned_reminder(session, user, reminder_id, lock=True)
    await repository.delete_reminder(session, reminder)


async def set_habit_reminder(
    session: AsyncSession,
    user: User,
    habit_id: uuid.UUID | None,
    at: time,
    message: str | None,
    now: datetime,
    *,
    replace: bool,
) -> tuple[ReminderOut, bool]:
    """The assistant's ``set_reminder``: move the habit's reminder, or add one.

    With ``replace`` (the default of the tool) a habit that has reminders gets its first one
    moved to ``at`` rather than a second reminder; a reminder already at ``at`` is returned as is,
    so repeating the request changes nothing. Returns the reminder and whether it was created.
    """
    if habit_id is not None:
        await _habit(session, user, habit_id)
        existing = await repository.reminders_of_habit(session, user.id, habit_id)
    else:
        existing = []
    same = next((r for r in existing if r.time == at), None)
    target = same or (existing[0] if existing and replace else None)
    if target is None:
        data = ReminderIn(habit_id=habit_id, time=at, message=message)
        return await create_reminder(session, user, data, now), True
    patch = ReminderPatch.model_validate(
        {"time": at, "enabled": True, **({"message": message} if message else {})}
    )
    return await update_reminder(session, user, target.id, patch, now), False


async def delete_habit_reminders(
    session: AsyncSession, user: User, habit_id: uuid.UUID | None
) -> int:
    """The assistant's "stop reminding me": delete the habit's reminders (or all check-ins)."""
    if habit_id is not None:
        await _habit(session, user, habit_id)
        rows = await repository.reminders_of_habit(session, user.id, habit_id)
    else:
        rows = [r for r in await repository.reminders_of(session, user.id) if r.habit_id is None]
    for row in rows:
        await repository.delete_reminder(session, row)
    return len(rows)


async def reschedule_all(session: AsyncSession, user: User, now: datetime) -> None:
    """Recompute every reminder's next fire time (the user moved to another time zone)."""
    for reminder in await repository.reminders_of(session, user.id):
        habit = (
            await repository.habit_any_state(session, user.id, reminder.habit_id)
            if reminder.habit_id is not None
            else None
        )
        reschedule(reminder, user, habit, now)

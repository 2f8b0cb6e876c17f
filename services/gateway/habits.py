"""Use cases of habits and logs. Each stages its event in the outbox of the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import repository
from services.gateway.schemas import (
    MAX_SUB_HABITS,
    HabitIn,
    HabitOut,
    HabitPatch,
    LogIn,
    LogOut,
    SubHabitOut,
    check_kind_and_target,
)
from shared.db.base import utcnow
from shared.db.core import Habit, HabitLog, User
from shared.errors import NotFound, ValidationFailed
from shared.events.habits import (
    HabitArchivedV1,
    HabitCreatedV1,
    HabitLogDeletedV1,
    HabitLogRecordedV1,
    HabitUpdatedV1,
)


async def habits_out(session: AsyncSession, habits: Sequence[Habit]) -> list[HabitOut]:
    ids = [h.id for h in habits]
    subs = await repository.sub_habits_of(session, ids)
    tags = await repository.tags_of(session, ids)
    return [
        HabitOut(
            id=h.id,
            title=h.title,
            description=h.description,
            kind=h.kind,
            schedule=h.schedule,
            target=h.target,
            start_date=h.start_date,
            sub_habits=[
                SubHabitOut(id=s.id, title=s.title, position=s.position) for s in subs[h.id]
            ],
            tags=tags[h.id],
            goal_id=h.goal_id,
            created_at=h.created_at,
            updated_at=h.updated_at,
        )
        for h in habits
    ]


async def owned_habit(
    session: AsyncSession, user_id: uuid.UUID, habit_id: uuid.UUID, *, lock: bool = False
) -> Habit:
    habit = await repository.habit_of(session, user_id, habit_id, lock=lock)
    if habit is None:
        raise NotFound("No such habit.")
    return habit


async def _check_goal(session: AsyncSession, user_id: uuid.UUID, goal_id: uuid.UUID) -> None:
    if await repository.goal_of(session, user_id, goal_id) is None:
        raise NotFound("No such goal.", details={"goal_id": str(goal_id)})


async def create_habit(
    session: AsyncSession, user: User, data: HabitIn, today: date, *, max_habits: int
) -> HabitOut:
    # Locks the user's row, so concurrent creations cannot together pass the limit.
    if await repository.count_active_habits(session, user.id) >= max_habits:
        raise ValidationFailed(
            f"You have {max_habits} habits, the most one account may have; archive one first.",
            details=[{"loc": ["body"], "limit": max_habits}],
        )
    if data.goal_id is not None:
        await _check_goal(session, user.id, data.goal_id)
    habit = Habit(
        id=uuid.uuid4(),
        user_id=user.id,
        goal_id=data.goal_id,
        title=data.title,
        description=data.description,
        kind=data.kind,
        schedule=data.schedule.model_dump(),
        target=data.target.model_dump() if data.target else None,
        start_date=data.start_date or today,
    )
    session.add(habit)
    await session.flush()
    await repository.replace_sub_habits(session, habit.id, data.sub_habits)
    await repository.replace_tags(session, user.id, habit.id, data.tags)
    (out,) = await habits_out(session, [habit])
    repository.add_outbox_event(
        session,
        HabitCreatedV1(user_id=user.id, habit_id=habit.id, habit=out.model_dump(mode="json")),
    )
    return out


async def update_habit(
    session: AsyncSession, user: User, habit_id: uuid.UUID, patch: HabitPatch, now: datetime
) -> HabitOut:
    habit = await owned_habit(session, user.id, habit_id, lock=True)
    changed = sorted(patch.model_fields_set)
    target = patch.target if "target" in changed else habit.target
    try:
        check_kind_and_target(habit.kind, target)
    except ValueError as exc:
        raise ValidationFailed(str(exc), details=[{"loc": ["body", "target"]}]) from None
    if "goal_id" in changed and patch.goal_id is not None:
        await _check_goal(session, user.id, patch.goal_id)
    for field in ("title", "description", "start_date", "goal_id"):
        if field in changed and (
            getattr(patch, field) is not None or field in ("description", "goal_id")
        ):
            setattr(habit, field, getattr(patch, field))
    if patch.schedule is not None:
        habit.schedule = patch.schedule.model_dump()
    if "target" in changed:
        habit.target = patch.target.model_dump() if patch.target else None
    if patch.sub_habits is not None:
        await repository.replace_sub_habits(session, habit.id, patch.sub_habits)
    if patch.tags is not None:
        await repository.replace_tags(session, user.id, habit.id, patch.tags)
    habit.updated_at = now
    await session.flush()
    (out,) = await habits_out(session, [habit])
    repository.add_outbox_event(
        session,
        HabitUpdatedV1(
            user_id=user.id, habit_id=habit.id, changed=changed, habit=out.model_dump(mode="json")
        ),
    )
    return out


async def add_sub_habit(
    session: AsyncSession, user: User, habit_id: uuid.UUID, title: str, now: datetime
) -> HabitOut:
    habit = await owned_habit(session, user.id, habit_id, lock=True)
    count = await repository.count_sub_habits(session, habit.id)
    if count >= MAX_SUB_HABITS:
        raise ValidationFailed(
            f"A habit holds at most {MAX_SUB_HABITS} sub-habits.",
            details=[{"loc": ["body", "title"], "limit": MAX_SUB_HABITS}],
        )
    subs = await repository.sub_habits_of(session, [habit.id])
    await repository.replace_sub_habits(
        session, habit.id, [s.title for s in subs[habit.id]] + [title]
    )
    habit.updated_at = now
    await session.flush()
    (out,) = await habits_out(session, [habit])
    repository.add_outbox_event(
        session,
        HabitUpdatedV1(
            user_id=user.id,
            habit_id=habit.id,
            changed=["sub_habits"],
            habit=out.model_dump(mode="json"),
        ),
    )
    return out


async def archive_habit(
    session: AsyncSession, user: User, habit_id: uuid.UUID, now: datetime
) -> None:
    habit = await owned_habit(session, user.id, habit_id, lock=True)
    await repository.archive_habit(session, habit, now)
    repository.add_outbox_event(session, HabitArchivedV1(user_id=user.id, habit_id=habit.id))


def check_log(habit: Habit, data: LogIn, log_date: date, today: date) -> None:
    """Raise ``ValidationFailed`` for a log that breaks a rule of the habit's kind or the date."""
    if log_date > today:
        raise ValidationFailed(
            f"The log date {log_date} is after your today ({today}).",
            details=[{"loc": ["body", "date"], "today": today.isoformat()}],
        )
    if habit.kind == "quantity" and data.status == "done" and data.value is None:
        raise ValidationFailed(
            "A quantity habit's log needs a value.", details=[{"loc": ["body", "value"]}]
        )
    if habit.kind != "quantity" and data.value is not None:
        raise ValidationFailed(
            f"A {habit.kind} habit's log takes no value.", details=[{"loc": ["body", "value"]}]
        )
    if habit.kind == "negative" and data.status == "skip":
        raise ValidationFailed(
            "A negative habit is logged only for a slip; it cannot be skipped.",
            details=[{"loc": ["body", "status"]}],
        )


def log_out(log: HabitLog) -> LogOut:
    return LogOut.model_validate(log, from_attributes=True)


async def record_log(
    session: AsyncSession,
    user_id: uuid.UUID,
    habit_id: uuid.UUID,
    data: LogIn,
    today_of: Callable[[User], date],
) -> LogOut:
    found = await repository.habit_with_owner(session, user_id, habit_id)
    if found is None:
        raise NotFound("No such habit.")
    habit, user = found
    today = today_of(user)
    log_date = data.date or today
    check_log(habit, data, log_date, today)
    return await write_log(session, habit, user, log_date, data.value, data.status, data.note)


async def write_log(
    session: AsyncSession,
    habit: Habit,
    user: User,
    log_date: date,
    value: float | None,
    status: str,
    note: str | None,
    *,
    source: str = "manual",
) -> LogOut:
    """Insert a checked log and stage its ``habits.log.recorded.v1`` in the same transaction.

    Every log takes this path or :func:`write_logs` (the API, the assistant's rpc, integration
    auto-logs, imports), so metrics and the other consumers see each one.
    """
    row = _log_row(habit, user, (log_date, value, status, note), source, utcnow())
    log = await repository.insert_log(session, row)
    _stage_log_event(session, row)
    return log_out(log)


LogEntry = tuple[date, float | None, str, str | None]  # date, value, status, note


def _log_row(
    habit: Habit, user: User, entry: LogEntry, source: str, now: datetime
) -> dict[str, Any]:
    log_date, value, status, note = entry
    return {
        "id": uuid.uuid4(),
        "habit_id": habit.id,
        "user_id": user.id,
        "date": log_date,
        "value": value,
        "status": status,
        "note": note,
        "source": source,
        "created_at": now,
    }


def _stage_log_event(session: AsyncSession, row: dict[str, Any]) -> None:
    repository.add_outbox_event(
        session,
        HabitLogRecordedV1(
            user_id=row["user_id"],
            habit_id=row["habit_id"],
            log_id=row["id"],
            date=row["date"],
            status="skip" if row["status"] == "skip" else "done",
            value=row["value"],
        ),
    )


async def write_logs(
    session: AsyncSession,
    habit: Habit,
    user: User,
    logs: Sequence[LogEntry],
    *,
    source: str,
) -> list[uuid.UUID]:
    """Insert many checked logs of one habit in one statement, each with its event (imports).

    The same rows and ``habits.log.recorded.v1`` events as :func:`write_log`, without a round trip
    per log. Returns the new log ids in the order given.
    """
    if not logs:
        return []
    now = utcnow()
    rows = [_log_row(habit, user, entry, source, now) for entry in logs]
    await repository.insert_logs(session, rows)
    for row in rows:
        _stage_log_event(session, row)
    return [row["id"] for row in rows]


async def list_logs(
    session: AsyncSession, user: User, habit_id: uuid.UUID, start: date | None, end: date | None
) -> list[LogOut]:
    habit = await owned_habit(session, user.id, habit_id)
    return [log_out(log) for log in await repository.logs_of(session, habit.id, start, end)]


async def delete_log(
    session: AsyncSession, user: User, habit_id: uuid.UUID, log_id: uuid.UUID
) -> None:
    habit = await owned_habit(session, user.id, habit_id)
    log = await repository.log_of(session, habit.id, log_id)
    if log is None:
        raise NotFound("No such log.")
    await repository.delete_log(session, log)
    repository.add_outbox_event(
        session,
        HabitLogDeletedV1(user_id=user.id, habit_id=habit.id, log_id=log.id, date=log.date),
    )

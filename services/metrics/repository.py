"""Every SQL statement of the metrics service.

Read-only queries of ``core`` (the gateway's schema) are deliberate: recomputing from the stored
habit and its logs is what makes handlers idempotent and order-independent, and an rpc to the
gateway would only add a hop. Writes go to the ``metrics`` schema only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.core import Habit, HabitLog, User
from shared.db.metrics import HabitMetricsRow


@dataclass(frozen=True, slots=True)
class HabitRecord:
    """A habit with what the engine needs of its owner (read from ``core``)."""

    habit_id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    schedule: dict[str, Any]
    target: dict[str, Any] | None
    start_date: date
    archived: bool
    timezone: str
    day_start: time
    week_start: int
    title: str = ""


async def habit_record(session: AsyncSession, habit_id: uuid.UUID) -> HabitRecord | None:
    """Read-only query of ``core.habits`` joined with its owner."""
    row = (
        await session.execute(
            select(
                Habit.id,
                Habit.user_id,
                Habit.kind,
                Habit.schedule,
                Habit.target,
                Habit.start_date,
                Habit.archived_at,
                User.timezone,
                User.day_start,
                User.week_start,
                Habit.title,
            )
            .join(User, User.id == Habit.user_id)
            .where(Habit.id == habit_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return HabitRecord(
        habit_id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        schedule=row.schedule,
        target=row.target,
        start_date=row.start_date,
        archived=row.archived_at is not None,
        timezone=row.timezone,
        day_start=row.day_start,
        week_start=row.week_start,
        title=row.title,
    )


async def habit_logs(
    session: AsyncSession, habit_id: uuid.UUID, until: date | None = None
) -> list[tuple[date, str, float | None]]:
    """Read-only query of ``core.habit_logs``: (date, status, value) of a habit, by date."""
    stmt = select(HabitLog.date, HabitLog.status, HabitLog.value).where(
        HabitLog.habit_id == habit_id
    )
    if until is not None:
        stmt = stmt.where(HabitLog.date <= until)
    result = await session.execute(stmt.order_by(HabitLog.date))
    return [(d, s, v) for d, s, v in result.all()]


async def save_metrics(session: AsyncSession, values: dict[str, Any]) -> None:
    stmt = insert(HabitMetricsRow).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[HabitMetricsRow.habit_id],
            set_={k: stmt.excluded[k] for k in values if k != "habit_id"},
        )
    )


async def stored_streak(session: AsyncSession, habit_id: uuid.UUID) -> int | None:
    """The ``current_streak`` stored by the previous recompute, if any."""
    stmt = select(HabitMetricsRow.current_streak).where(HabitMetricsRow.habit_id == habit_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def habit_ids_of_user(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    """The habits of a user that have stored metrics (and so, maybe, a cache entry)."""
    stmt = select(HabitMetricsRow.habit_id).where(HabitMetricsRow.user_id == user_id)
    return list((await session.execute(stmt)).scalars())


async def drop_metrics(session: AsyncSession, habit_id: uuid.UUID) -> None:
    await session.execute(delete(HabitMetricsRow).where(HabitMetricsRow.habit_id == habit_id))


async def lock_habit(session: AsyncSession, habit_id: uuid.UUID) -> None:
    """Serialise recomputes of one habit until the transaction ends.

    Without it two recomputes could read the logs in one order and commit in the other, leaving
    the older result stored.
    """
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(str(habit_id), 0)))
    )

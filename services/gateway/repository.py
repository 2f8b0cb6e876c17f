"""Every SQL statement of the gateway. Functions take a session and never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from opentelemetry import propagate
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.core import (
    Confirmation,
    Goal,
    Habit,
    HabitLog,
    HabitTag,
    IdempotencyKey,
    OutboxEvent,
    RefreshToken,
    SubHabit,
    Tag,
    User,
)
from shared.db.integrations import IntegrationDay, IntegrationJob, IntegrationLink
from shared.events.base import Event

# --- users ----------------------------------------------------------------------------------


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def add_user(session: AsyncSession, user: User) -> bool:
    """Insert a user; return False when the email is taken (without aborting the transaction)."""
    stmt = (
        insert(User)
        .values(
            id=user.id,
            email=user.email,
            password_hash=user.password_hash,
            display_name=user.display_name,
            timezone=user.timezone,
            day_start=user.day_start,
            week_start=user.week_start,
            preferences=user.preferences,
        )
        # Any unique violation: the email column or its lower-cased index.
        .on_conflict_do_nothing()
        .returning(User.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def token_version_of(session: AsyncSession, user_id: uuid.UUID) -> int | None:
    stmt = select(User.token_version).where(User.id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- refresh tokens -------------------------------------------------------------------------


def add_refresh_token(session: AsyncSession, token: RefreshToken) -> None:
    session.add(token)


async def refresh_token_for_update(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    """The token row, locked: two concurrent uses of one token must not both succeed."""
    stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def revoke_refresh_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_refresh_tokens_of(
    session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# --- goals ----------------------------------------------------------------------------------


async def goals_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Goal]:
    result = await session.execute(
        select(Goal).where(Goal.user_id == user_id).order_by(Goal.created_at)
    )
    return result.scalars().all()


async def goal_of(session: AsyncSession, user_id: uuid.UUID, goal_id: uuid.UUID) -> Goal | None:
    result = await session.execute(select(Goal).where(Goal.id == goal_id, Goal.user_id == user_id))
    return result.scalar_one_or_none()


# --- habits ---------------------------------------------------------------------------------


async def habits_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Habit]:
    result = await session.execute(
        select(Habit)
        .where(Habit.user_id == user_id, Habit.archived_at.is_(None))
        .order_by(Habit.created_at)
    )
    return result.scalars().all()


async def count_active_habits(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Count the user's unarchived habits, holding their user row until the transaction ends."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())
    stmt = select(func.count()).where(Habit.user_id == user_id, Habit.archived_at.is_(None))
    return int((await session.execute(stmt)).scalar_one())


async def habit_of(
    session: AsyncSession, user_id: uuid.UUID, habit_id: uuid.UUID, *, lock: bool = False
) -> Habit | None:
    """Return the user's live habit, or None for a foreign, archived or unknown id."""
    stmt = select(Habit).where(
        Habit.id == habit_id, Habit.user_id == user_id, Habit.archived_at.is_(None)
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


# Built once: constructing this select cost ~0.28 ms per log write (docs/performance.md).
_HABIT_WITH_OWNER = (
    select(Habit, User)
    .join(User, User.id == Habit.user_id)
    .where(
        Habit.id == bindparam("habit_id"),
        Habit.user_id == bindparam("user_id"),
        Habit.archived_at.is_(None),
    )
)


async def habit_with_owner(
    session: AsyncSession, user_id: uuid.UUID, habit_id: uuid.UUID
) -> tuple[Habit, User] | None:
    """The user's live habit and the user in one round trip (the hot path of logging)."""
    result = await session.execute(_HABIT_WITH_OWNER, {"habit_id": habit_id, "user_id": user_id})
    row = result.one_or_none()
    return None if row is None else (row[0], row[1])


async def sub_habits_of(
    session: AsyncSession, habit_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[SubHabit]]:
    result = await session.execute(
        select(SubHabit)
        .where(SubHabit.habit_id.in_(habit_ids))
        .order_by(SubHabit.habit_id, SubHabit.position)
    )
    grouped: dict[uuid.UUID, list[SubHabit]] = {h: [] for h in habit_ids}
    for sub in result.scalars():
        grouped[sub.habit_id].append(sub)
    return grouped


async def tags_of(
    session: AsyncSession, habit_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    result = await session.execute(
        select(HabitTag.habit_id, Tag.name)
        .join(Tag, Tag.id == HabitTag.tag_id)
        .where(HabitTag.habit_id.in_(habit_ids))
        .order_by(Tag.name)
    )
    grouped: dict[uuid.UUID, list[str]] = {h: [] for h in habit_ids}
    for habit_id, name in result.all():
        grouped[habit_id].append(name)
    return grouped


async def replace_sub_habits(
    session: AsyncSession, habit_id: uuid.UUID, titles: Sequence[str]
) -> None:
    await session.execute(delete(SubHabit).where(SubHabit.habit_id == habit_id))
    session.add_all(SubHabit(habit_id=habit_id, position=i, title=t) for i, t in enumerate(titles))
    await session.flush()


async def count_sub_habits(session: AsyncSession, habit_id: uuid.UUID) -> int:
    result = await session.execute(
        select(func.count()).select_from(SubHabit).where(SubHabit.habit_id == habit_id)
    )
    return int(result.scalar_one())


async def replace_tags(
    session: AsyncSession, user_id: uuid.UUID, habit_id: uuid.UUID, names: Sequence[str]
) -> None:
    await session.execute(delete(HabitTag).where(HabitTag.habit_id == habit_id))
    unique = sorted({n.strip().lower() for n in names if n.strip()})
    if not unique:
        return
    await session.execute(
        insert(Tag)
        .values([{"id": uuid.uuid4(), "user_id": user_id, "name": n} for n in unique])
        .on_conflict_do_nothing(index_elements=[Tag.user_id, Tag.name])
    )
    ids = await session.execute(select(Tag.id).where(Tag.user_id == user_id, Tag.name.in_(unique)))
    session.add_all(HabitTag(habit_id=habit_id, tag_id=t) for t in ids.scalars())
    await session.flush()


async def archive_habit(session: AsyncSession, habit: Habit, now: datetime) -> None:
    habit.archived_at = now
    await session.flush()


# --- logs -----------------------------------------------------------------------------------


async def insert_log(session: AsyncSession, values: dict[str, Any]) -> HabitLog:
    """Insert a log with one statement and return it as stored."""
    result = await session.execute(insert(HabitLog).values(**values).returning(HabitLog))
    return result.scalar_one()


async def insert_logs(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert many logs with one statement."""
    await session.execute(insert(HabitLog), rows)


async def logs_of(
    session: AsyncSession, habit_id: uuid.UUID, start: date | None, end: date | None
) -> Sequence[HabitLog]:
    stmt = select(HabitLog).where(HabitLog.habit_id == habit_id)
    if start is not None:
        stmt = stmt.where(HabitLog.date >= start)
    if end is not None:
        stmt = stmt.where(HabitLog.date <= end)
    result = await session.execute(stmt.order_by(HabitLog.date, HabitLog.created_at))
    return result.scalars().all()


async def log_of(session: AsyncSession, habit_id: uuid.UUID, log_id: uuid.UUID) -> HabitLog | None:
    result = await session.execute(
        select(HabitLog).where(HabitLog.id == log_id, HabitLog.habit_id == habit_id)
    )
    return result.scalar_one_or_none()


async def delete_log(session: AsyncSession, log: HabitLog) -> None:
    await session.delete(log)
    await session.flush()


# --- idempotency ----------------------------------------------------------------------------


async def claim_idempotency_key(
    session: AsyncSession, user_id: uuid.UUID, key: str, request_hash: str
) -> bool:
    """Reserve a key for this request; False when another request holds it.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent holder to commit, so a False answer means
    that request's stored response can be read right away.
    """
    stmt = (
        insert(IdempotencyKey)
        .values(user_id=user_id, key=key, request_hash=request_hash, status_code=0, response={})
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def idempotency_record(
    session: AsyncSession, user_id: uuid.UUID, key: str
) -> IdempotencyKey | None:
    return await session.get(IdempotencyKey, (user_id, key))


async def store_idempotent_response(
    session: AsyncSession, user_id: uuid.UUID, key: str, status_code: int, body: dict[str, Any]
) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .values(status_code=status_code, response=body)
    )


# --- outbox ---------------------------------------------------------------------------------


def add_outbox_event(session: AsyncSession, event: Event) -> None:
    """Stage ``event`` in the same transaction as the write that caused it."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    session.add(
        OutboxEvent(
            event_id=event.event_id,
            subject=event.subject,
            payload=event.model_dump(mode="json"),
            headers=carrier,
        )
    )


async def claim_unpublished(session: AsyncSession, limit: int) -> Sequence[OutboxEvent]:
    """Lock the oldest unpublished events; other relays skip them (``SKIP LOCKED``)."""
    result = await session.execute(
        select(OutboxEvent)
        .where(OutboxEvent.published_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return result.scalars().all()


async def mark_published(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    if ids:
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(published_at=now)
        )


async def unpublished_count(session: AsyncSession) -> int:
    result = await session.execute(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
    )
    return int(result.scalar_one())


# --- integrations (health imports) ----------------------------------------------------------

_UPSERT_CHUNK = 1000


async def upsert_integration_days(
    session: AsyncSession, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Insert or replace daily aggregates (one statement per chunk of rows)."""
    for at in range(0, len(rows), _UPSERT_CHUNK):
        chunk = [{**r, "updated_at": now} for r in rows[at : at + _UPSERT_CHUNK]]
        stmt = insert(IntegrationDay).values(chunk)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[
                    IntegrationDay.user_id,
                    IntegrationDay.integration,
                    IntegrationDay.data_type,
                    IntegrationDay.key,
                    IntegrationDay.date,
                ],
                set_={
                    "value": stmt.excluded.value,
                    "count": stmt.excluded.count,
                    "job_id": stmt.excluded.job_id,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
        )


async def integration_days(
    session: AsyncSession,
    user_id: uuid.UUID,
    data_type: str,
    start: date,
    end: date,
    *,
    integration: str | None = None,
    key: str = "",
) -> Sequence[IntegrationDay]:
    """A user's daily aggregates of one data type (and key) in ``[start, end]``."""
    stmt = select(IntegrationDay).where(
        IntegrationDay.user_id == user_id,
        IntegrationDay.data_type == data_type,
        IntegrationDay.key == key,
        IntegrationDay.date >= start,
        IntegrationDay.date <= end,
    )
    if integration is not None:
        stmt = stmt.where(IntegrationDay.integration == integration)
    result = await session.execute(stmt.order_by(IntegrationDay.date))
    return result.scalars().all()


async def add_job(session: AsyncSession, job: IntegrationJob) -> None:
    session.add(job)
    await session.flush()


async def job_of(
    session: AsyncSession, user_id: uuid.UUID, job_id: uuid.UUID
) -> IntegrationJob | None:
    result = await session.execute(
        select(IntegrationJob).where(IntegrationJob.id == job_id, IntegrationJob.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def update_job(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        update(IntegrationJob).where(IntegrationJob.id == job_id).values(**values)
    )


async def links_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[IntegrationLink]:
    """The user's links whose habit is live (an archived habit is not auto-logged)."""
    result = await session.execute(
        select(IntegrationLink)
        .join(Habit, Habit.id == IntegrationLink.habit_id)
        .where(IntegrationLink.user_id == user_id, Habit.archived_at.is_(None))
        .order_by(IntegrationLink.created_at)
    )
    return result.scalars().all()


async def link_of(
    session: AsyncSession, user_id: uuid.UUID, link_id: uuid.UUID
) -> IntegrationLink | None:
    result = await session.execute(
        select(IntegrationLink).where(
            IntegrationLink.id == link_id, IntegrationLink.user_id == user_id
        )
    )
    return result.scalar_one_or_none()


async def add_link(session: AsyncSession, values: dict[str, Any]) -> IntegrationLink | None:
    """Insert a link; None when the habit already has one."""
    stmt = (
        insert(IntegrationLink)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[IntegrationLink.habit_id])
        .returning(IntegrationLink)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def delete_link(session: AsyncSession, link: IntegrationLink) -> None:
    await session.delete(link)
    await session.flush()


async def log_dates_of(
    session: AsyncSession, habit_id: uuid.UUID, start: date, end: date
) -> set[date]:
    """Dates in ``[start, end]`` on which the habit has any log (done or skip, any source)."""
    result = await session.execute(
        select(HabitLog.date)
        .where(HabitLog.habit_id == habit_id, HabitLog.date >= start, HabitLog.date <= end)
        .distinct()
    )
    return set(result.scalars().all())


async def done_dates_by_habit(
    session: AsyncSession, user_id: uuid.UUID, start: date, end: date
) -> dict[uuid.UUID, set[date]]:
    """Per live habit of the user, the dates in ``[start, end]`` with a done log."""
    result = await session.execute(
        select(HabitLog.habit_id, HabitLog.date)
        .join(Habit, Habit.id == HabitLog.habit_id)
        .where(
            HabitLog.user_id == user_id,
            Habit.archived_at.is_(None),
            HabitLog.status == "done",
            HabitLog.date >= start,
            HabitLog.date <= end,
        )
        .distinct()
    )
    grouped: dict[uuid.UUID, set[date]] = {}
    for habit_id, day in result.all():
        grouped.setdefault(habit_id, set()).add(day)
    return grouped


# --- confirmations --------------------------------------------------------------------------


def add_confirmation(session: AsyncSession, row: Confirmation) -> None:
    session.add(row)


async def confirmation_of(
    session: AsyncSession, user_id: uuid.UUID, confirmation_id: uuid.UUID, *, lock: bool = False
) -> Confirmation | None:
    """Return the user's confirmation, or None for a foreign or unknown id."""
    stmt = select(Confirmation).where(
        Confirmation.id == confirmation_id, Confirmation.user_id == user_id
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()

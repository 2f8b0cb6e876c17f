"""Use cases of health integrations: apply an import, link habits, read the data back.

An import's rows, its auto-logs and the job's success commit in one transaction: a file
applies whole or not at all. Auto-logs go through :func:`services.gateway.habits.write_log`, so
each stages ``habits.log.recorded.v1`` in the outbox and the metrics recompute as for a tap.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import habits, repository
from services.gateway.health.analysis import compare_with_habits, summarize
from services.gateway.health.daily import UNITS, DailyRow
from services.gateway.health.links import LinkRule, combine_integrations, days_to_log
from services.gateway.integration_schemas import JobOut, LinkIn, LinkOut
from shared.contracts.integrations import DataOut, DayValue, HabitComparisonOut, SummaryOut
from shared.db.core import Habit, User
from shared.db.integrations import IntegrationJob, IntegrationLink
from shared.errors import Conflict, NotFound, ValidationFailed

LABELS = {"apple_health": "Apple Health", "health_connect": "Health Connect", "fitbit": "Fitbit"}
# A queued or running job that has not moved for this long lost its process (a restart).
STALE_AFTER = timedelta(minutes=5)


def job_out(job: IntegrationJob, now: datetime) -> JobOut:
    out = JobOut.model_validate(job, from_attributes=True)
    if out.status in ("queued", "running") and now - job.updated_at > STALE_AFTER:
        error = {
            "code": "import_interrupted",
            "message": "The import stopped when its server restarted; upload the file again.",
            "details": None,
        }
        return out.model_copy(update={"status": "failed", "error": error})
    return out


async def owned_job(
    session: AsyncSession, user_id: uuid.UUID, job_id: uuid.UUID, now: datetime
) -> JobOut:
    job = await repository.job_of(session, user_id, job_id)
    if job is None:
        raise NotFound("No such import job.")
    return job_out(job, now)


def _link_out(link: IntegrationLink, logged: int = 0) -> LinkOut:
    return LinkOut(
        id=link.id,
        habit_id=link.habit_id,
        data_type=link.data_type,
        threshold=link.threshold,
        direction=link.direction,
        integration=link.integration,
        workout_type=link.workout_type,
        unit=UNITS[link.data_type],
        created_at=link.created_at,
        logged_days=logged,
    )


async def _link_values(
    session: AsyncSession, user_id: uuid.UUID, link: IntegrationLink, start: date, end: date
) -> dict[date, float]:
    rows = await repository.integration_days(
        session,
        user_id,
        link.data_type,
        start,
        end,
        integration=link.integration,
        key=link.workout_type or "",
    )
    return combine_integrations((r.date, r.value) for r in rows)


def _note(link: IntegrationLink, value: float) -> str:
    source = LABELS.get(link.integration or "", "imported health data")
    what = f"{link.workout_type.replace('_', ' ')} " if link.workout_type else ""
    return f"Auto-logged from {source}: {value:,.0f} {UNITS[link.data_type]} {what}".strip()


async def auto_log(
    session: AsyncSession,
    user: User,
    habit: Habit,
    link: IntegrationLink,
    start: date,
    end: date,
    today: date,
) -> int:
    """Log the habit on each day of ``[start, end]`` whose data meets the link; return how many.

    The habit row must be locked by the caller (two imports at once would otherwise both log a
    day).
    """
    first = max(start, habit.start_date)
    last = min(end, today)
    if first > last:
        return 0
    values = await _link_values(session, user.id, link, first, last)
    logged = await repository.log_dates_of(session, habit.id, first, last)
    rule = LinkRule(link.threshold, link.direction)  # type: ignore[arg-type]
    days = days_to_log(values, rule, start=first, today=today, logged=logged)
    for day in days:
        value = round(values[day], 2) if habit.kind == "quantity" else None
        await habits.write_log(
            session, habit, user, day, value, "done", _note(link, values[day]), source="integration"
        )
    return len(days)


async def apply_import(
    session: AsyncSession,
    user: User,
    integration: str,
    rows: Sequence[DailyRow],
    job_id: uuid.UUID,
    today: date,
    now: datetime,
) -> dict[str, Any]:
    """Store an import's days and auto-log the linked habits; return the job's result."""
    links = await repository.links_of(session, user.id)
    locked: list[tuple[IntegrationLink, Habit]] = []
    for link in links:
        habit = await repository.habit_of(session, user.id, link.habit_id, lock=True)
        if habit is not None:
            locked.append((link, habit))
    await repository.upsert_integration_days(
        session,
        [
            {
                "user_id": user.id,
                "integration": integration,
                "data_type": r.data_type,
                "key": r.key,
                "date": r.day,
                "value": r.value,
                "count": r.count,
                "job_id": job_id,
            }
            for r in rows
        ],
        now,
    )
    per_type: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r.key:
            continue
        entry = per_type.setdefault(r.data_type, {"days": 0, "from": r.day, "to": r.day})
        entry["days"] += 1
        entry["from"], entry["to"] = min(entry["from"], r.day), max(entry["to"], r.day)
    logged: dict[str, int] = {}
    for link, habit in locked:
        if link.integration not in (None, integration):
            continue
        span = per_type.get(link.data_type)
        if span is None:
            continue
        count = await auto_log(session, user, habit, link, span["from"], span["to"], today)
        if count:
            logged[str(habit.id)] = count
    return {
        "rows": len(rows),
        "data_types": {
            k: {"days": v["days"], "from": v["from"].isoformat(), "to": v["to"].isoformat()}
            for k, v in sorted(per_type.items())
        },
        "workout_types": sorted({r.key for r in rows if r.data_type == "workouts" and r.key}),
        "auto_logged": logged,
    }


async def create_link(session: AsyncSession, user: User, data: LinkIn, today: date) -> LinkOut:
    """Link a habit to a data type and log the days already imported that meet it."""
    habit = await habits.owned_habit(session, user.id, data.habit_id, lock=True)
    if habit.kind == "negative":
        raise ValidationFailed(
            "A negative habit is logged for a slip; it cannot be logged from health data.",
            details=[{"loc": ["body", "habit_id"]}],
        )
    link = await repository.add_link(
        session,
        {
            "id": uuid.uuid4(),
            "user_id": user.id,
            "habit_id": habit.id,
            "integration": data.integration,
            "data_type": data.data_type,
            "workout_type": data.workout_type,
            "threshold": data.threshold,
            "direction": data.direction,
        },
    )
    if link is None:
        raise Conflict(
            "This habit is already linked; delete that link first.",
            details=[{"loc": ["body", "habit_id"]}],
        )
    logged = await auto_log(session, user, habit, link, habit.start_date, today, today)
    return _link_out(link, logged)


async def list_links(session: AsyncSession, user: User) -> list[LinkOut]:
    return [_link_out(link) for link in await repository.links_of(session, user.id)]


async def delete_link(session: AsyncSession, user: User, link_id: uuid.UUID) -> None:
    """Delete a link; the days it logged stay (they are the user's logs now)."""
    link = await repository.link_of(session, user.id, link_id)
    if link is None:
        raise NotFound("No such link.")
    await repository.delete_link(session, link)


async def integration_data(
    session: AsyncSession,
    user: User,
    data_type: str,
    days: int,
    today: date,
    *,
    integration: str | None = None,
    workout_type: str | None = None,
) -> DataOut:
    """One data type over the ``days`` days through ``today``, with habit comparisons."""
    start = today - timedelta(days=days - 1)
    rows = await repository.integration_days(
        session,
        user.id,
        data_type,
        start,
        today,
        integration=integration,
        key=workout_type or "",
    )
    values: dict[date, float] = {}
    counts: dict[date, int] = {}
    for r in rows:
        if r.date not in values or r.value > values[r.date]:
            values[r.date], counts[r.date] = r.value, r.count
    live = {h.id: h.title for h in await repository.habits_of(session, user.id)}
    done = await repository.done_dates_by_habit(session, user.id, start, today)
    comparisons = compare_with_habits(
        values, [(str(h), live[h], dates) for h, dates in done.items() if h in live]
    )
    s = summarize(values)
    return DataOut(
        data_type=data_type,
        integration=integration,
        workout_type=workout_type,
        unit=UNITS[data_type],
        start=start,
        end=today,
        days=[DayValue(date=d, value=round(values[d], 2), count=counts[d]) for d in sorted(values)],
        summary=SummaryOut(
            days_with_data=s.days_with_data,
            total=s.total,
            average=s.average,
            minimum=s.minimum,
            maximum=s.maximum,
            best_day=s.best_day,
        ),
        habits=[
            HabitComparisonOut(
                habit_id=uuid.UUID(c.habit_id),
                title=c.title,
                days_done=c.days_done,
                days_other=c.days_other,
                average_done=c.average_done,
                average_other=c.average_other,
                difference_percent=c.difference_percent,
            )
            for c in comparisons
        ],
    )

"""The reminder scheduler: a due-time query, run as a loop in every gateway instance.

Each round locks the reminders whose ``next_fire_at`` has come (``FOR UPDATE SKIP LOCKED``:
another instance takes the others), decides each with :func:`schedule.plan_fire` (catch up the
latest missed fire time once; drop it with a log line when more than an hour late), checks the
habit (archived, not due that day, target already met), claims the delivery key
``(reminder_id, local date, local time)`` with ``INSERT … ON CONFLICT DO NOTHING`` and, when the
key was free, stages ``reminders.reminder.fired.v1`` in the outbox — all in one transaction with
the move of ``next_fire_at``. So a fire time is delivered at most once whatever the number of
instances, and, once its transaction commits, the relay publishes its event.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway import repository as outbox
from services.gateway.reminders import repository
from services.gateway.reminders.schedule import (
    LogFact,
    due_on,
    fire_rule,
    period_met,
    period_of,
    plan_fire,
)
from services.gateway.security import utcnow
from shared.db.core import Habit, User
from shared.db.reminders import Reminder
from shared.events.reminders import ReminderFiredV1
from shared.localtime import local_today

log = logging.getLogger(__name__)

OUTCOMES = Counter("habyss_reminders_total", "Reminder fire times by outcome", ["outcome"])
MAX_BACKOFF_SECONDS = 60.0


@dataclass
class Round:
    """What one round did: delivered, dropped (too late), suppressed (habit rules), skipped."""

    delivered: int = 0
    dropped: int = 0
    suppressed: int = 0
    skipped: int = 0

    def add(self, other: Round) -> None:
        self.delivered += other.delivered
        self.dropped += other.dropped
        self.suppressed += other.suppressed
        self.skipped += other.skipped


def default_message(habit: Habit | None) -> str:
    if habit is None:
        return "Time for your check-in."
    return f"Time for {habit.title}."


class ReminderScheduler:
    """Runs in the gateway's lifespan; tests call :meth:`run_once` with their own clock."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        on_commit: Callable[[], None],
        *,
        poll_seconds: float = 30.0,
        batch: int = 200,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._on_commit = on_commit
        self._poll_seconds = poll_seconds
        self._batch = batch
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._poll_seconds > 0:
            self._task = asyncio.create_task(self._run(), name="reminder-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        backoff = 0.0
        while True:
            try:
                await self.run_once()
                backoff = 0.0
                await asyncio.sleep(self._poll_seconds)
            except Exception:
                backoff = min(MAX_BACKOFF_SECONDS, max(1.0, backoff * 2))
                log.exception("reminder scheduler round failed; retrying in %.0fs", backoff)
                await asyncio.sleep(backoff)

    async def run_once(self, now: datetime | None = None) -> Round:
        """Handle every reminder due at ``now`` (default: the clock), batch by batch."""
        now = now or self._clock()
        total = Round()
        while True:
            async with self._sessions.begin() as session:
                rows = await repository.claim_due(session, now, self._batch)
                done = Round()
                for reminder, user, habit in rows:
                    done.add(await self._fire(session, reminder, user, habit, now))
            if done.delivered:
                self._on_commit()
            total.add(done)
            if len(rows) < self._batch:
                return total

    async def _fire(
        self,
        session: AsyncSession,
        reminder: Reminder,
        user: User,
        habit: Habit | None,
        now: datetime,
    ) -> Round:
        rule = fire_rule(
            reminder.time,
            reminder.weekdays or [],
            habit.schedule if habit is not None else None,
            reminder.follow_habit,
        )
        due_at = reminder.next_fire_at
        if rule is None or due_at is None:
            reminder.next_fire_at = None
            return Round()
        plan = plan_fire(rule, user.timezone, due_at, now)
        reminder.next_fire_at = plan.next_at
        if plan.dropped is not None:
            OUTCOMES.labels("dropped_late").inc()
            log.warning(
                "reminder %s dropped: due at %s, %s late (more than an hour)",
                reminder.id,
                plan.dropped.isoformat(),
                now - plan.dropped,
            )
            return Round(dropped=1, skipped=plan.skipped)
        fire_at = plan.fire_at
        assert fire_at is not None
        if plan.skipped:
            log.info("reminder %s: %d missed fire times folded into one", reminder.id, plan.skipped)
        why_not = await self._suppressed(session, reminder, user, habit, fire_at)
        if why_not is not None:
            OUTCOMES.labels(why_not).inc()
            return Round(suppressed=1, skipped=plan.skipped)
        wall = fire_at.astimezone(ZoneInfo(user.timezone))
        delivery_id = uuid.uuid4()
        claimed = await repository.claim_delivery(
            session,
            delivery_id=delivery_id,
            reminder=reminder,
            local_date=wall.date(),
            local_time=reminder.time,
            fire_at=fire_at,
            outcome="delivered",
        )
        if not claimed:
            # Another instance (or an earlier round) already delivered this fire time.
            OUTCOMES.labels("duplicate").inc()
            return Round(skipped=plan.skipped)
        outbox.add_outbox_event(
            session,
            ReminderFiredV1(
                event_id=delivery_id,
                occurred_at=now,
                user_id=user.id,
                reminder_id=reminder.id,
                habit_id=reminder.habit_id,
                habit_title=habit.title if habit is not None else None,
                message=reminder.message or default_message(habit),
                local_date=wall.date(),
                local_time=reminder.time.strftime("%H:%M"),
                fire_at=fire_at,
            ),
        )
        OUTCOMES.labels("delivered").inc()
        return Round(delivered=1, skipped=plan.skipped)

    @staticmethod
    async def _suppressed(
        session: AsyncSession,
        reminder: Reminder,
        user: User,
        habit: Habit | None,
        fire_at: datetime,
    ) -> str | None:
        """Why the habit does not want this reminder (``None``: it does)."""
        if habit is None or not reminder.follow_habit:
            return None
        if habit.archived_at is not None:
            return "archived"
        day = local_today(fire_at, user.timezone, user.day_start)
        if not due_on(habit.schedule, habit.start_date, day):
            return "not_due"
        first, last = period_of(habit.schedule, habit.start_date, user.week_start, day)
        logs = await repository.logs_between(session, habit.id, max(first, habit.start_date), last)
        facts = [LogFact(d, s, v) for d, s, v in logs]
        if period_met(habit.kind, habit.schedule, habit.target, facts):
            return "target_met"
        return None

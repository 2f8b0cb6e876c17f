"""The metrics service's use cases: recompute on events, answer reads for the owner's today.

Metrics are always recomputed from the stored habit and its logs, never patched incrementally,
so a redelivered or out-of-order event is harmless and a schedule change recomputes history.
Reads answer for the owner's current date: after their midnight a missed day shows as a broken
streak without any new event, because the cached value is only used while its date is today.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import date, datetime, time, timedelta

from faststream.nats import NatsBroker
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics import engine, repository
from services.metrics.history import history
from services.metrics.repository import HabitRecord
from shared.contracts.metrics import (
    HabitMetricsOut,
    HistoryDay,
    HistoryOut,
    HistoryPeriod,
    HistoryQuery,
    HistoryStreak,
    MetricsQuery,
    RangeQuery,
    StrengthOut,
    StrengthPoint,
    TrendOut,
    TrendPointOut,
    TrendQuery,
)
from shared.db.base import utcnow
from shared.db.erasure import erase_user
from shared.errors import NotFound, ValidationFailed
from shared.events.metrics import HabitMetricsUpdatedV1, StreakEndedV1
from shared.localtime import local_today
from shared.messaging import publish_event

log = logging.getLogger(__name__)

CACHE_TTL_SECONDS = 24 * 3600
MAX_RANGE_DAYS = 3653  # ten years
DEFAULT_STRENGTH_DAYS = 90
DEFAULT_TREND_DAYS = 365
DEFAULT_HISTORY_DAYS = 90


class Coalescer:
    """Runs one recompute for a burst of events about the same habit.

    Each event takes a ticket. A recompute reads the database after every event ticketed before
    it started was committed (events are published after their commit), so it covers them all:
    an event whose ticket a finished recompute covered has nothing left to do. At 30 logs of one
    habit in a second this turns 30 recomputes into two or three.
    """

    def __init__(self) -> None:
        self._issued: dict[uuid.UUID, int] = {}
        self._covered: dict[uuid.UUID, int] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._waiting: dict[uuid.UUID, int] = {}

    async def run(self, key: uuid.UUID, work: Callable[[uuid.UUID], Awaitable[object]]) -> None:
        ticket = self._issued[key] = self._issued.get(key, 0) + 1
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                if self._covered.get(key, 0) >= ticket:
                    return
                covering = self._issued[key]
                await work(key)
                self._covered[key] = covering
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                for table in (self._issued, self._covered, self._locks, self._waiting):
                    table.pop(key, None)


def cache_key(habit_id: uuid.UUID) -> str:
    return f"habyss:metrics:v1:{habit_id}"


def habit_spec(record: HabitRecord) -> engine.HabitSpec:
    """Translate a stored habit (API-shaped JSON) into the engine's input."""
    target = None
    if record.target is not None:
        target = engine.Target(
            value=float(record.target["value"]),
            unit=str(record.target["unit"]),
            direction=record.target.get("direction", "at_least"),
        )
    return engine.HabitSpec(
        kind=record.kind,  # type: ignore[arg-type]
        schedule=engine.Schedule.from_mapping(record.schedule),
        start_date=record.start_date,
        target=target,
        week_start=record.week_start,
    )


def metrics_out(habit_id: uuid.UUID, as_of: date, m: engine.HabitMetrics) -> HabitMetricsOut:
    return HabitMetricsOut(habit_id=habit_id, as_of=as_of, **asdict(m))


def check_range(start: date, end: date) -> None:
    if start > end:
        raise ValidationFailed(
            "'from' is after 'to'.", details=[{"loc": ["query", "from"], "to": end.isoformat()}]
        )
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed(
            "The range may span at most 10 years.", details=[{"loc": ["query", "from"]}]
        )


class MetricsService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        broker: NatsBroker,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.redis = redis
        self.broker = broker
        self.clock = clock
        self._coalescer = Coalescer()
        # Cache entries this instance could not replace while Redis was down: dropped as soon as
        # it answers again, so a stale entry does not outlive the outage by its whole TTL.
        self._stale: set[uuid.UUID] = set()

    def today(self, zone: str, day_start: time) -> date:
        return local_today(self.clock(), zone, day_start)

    async def _load(
        self, session: AsyncSession, habit_id: uuid.UUID, until: date | None = None
    ) -> tuple[HabitRecord | None, list[engine.LogEntry]]:
        record = await repository.habit_record(session, habit_id)
        if record is None or record.archived:
            return record, []
        rows = await repository.habit_logs(session, habit_id, until)
        return record, [engine.LogEntry(d, s, v) for d, s, v in rows]  # type: ignore[arg-type]

    async def _cache(self, record: HabitRecord, out: HabitMetricsOut) -> None:
        entry = {
            "user_id": str(record.user_id),
            "zone": record.timezone,
            "day_start": record.day_start.strftime("%H:%M"),
            "metrics": out.model_dump(mode="json"),
        }
        try:
            await self._drop_stale()
            await self.redis.set(
                cache_key(record.habit_id), json.dumps(entry), ex=CACHE_TTL_SECONDS
            )
        except (RedisError, OSError) as exc:
            self._cache_failed([record.habit_id], exc)

    async def _uncache(self, habit_ids: list[uuid.UUID]) -> None:
        try:
            await self._drop_stale()
            await self.redis.delete(*(cache_key(h) for h in habit_ids))
        except (RedisError, OSError) as exc:
            self._cache_failed(habit_ids, exc)

    async def _drop_stale(self) -> None:
        if self._stale:
            stale = list(self._stale)
            await self.redis.delete(*(cache_key(h) for h in stale))
            self._stale.difference_update(stale)

    def _cache_failed(self, habit_ids: list[uuid.UUID], exc: Exception) -> None:
        # The database holds the metrics; the cache only speeds reads up. Redis being down must
        # not fail the recompute (the event would be retried into the dead letters).
        self._stale.update(habit_ids)
        log.warning("metrics cache unavailable, %d entries to drop later: %r", len(habit_ids), exc)

    async def recompute(self, habit_id: uuid.UUID) -> None:
        """Recompute a habit's metrics after an event (coalesced with its neighbours)."""
        await self._coalescer.run(habit_id, self._recompute)

    async def _recompute(self, habit_id: uuid.UUID) -> HabitMetricsOut | None:
        """Recompute a habit's metrics as of its owner's today; store, cache and announce them."""
        async with self.sessions.begin() as session:
            await repository.lock_habit(session, habit_id)
            record, logs = await self._load(session, habit_id)
            if record is None or record.archived:
                await repository.drop_metrics(session, habit_id)
                await self._uncache([habit_id])
                return None
            today = self.today(record.timezone, record.day_start)
            metrics = engine.compute_metrics(habit_spec(record), logs, today)
            out = metrics_out(habit_id, today, metrics)
            previous = await repository.stored_streak(session, habit_id)
            await repository.save_metrics(
                session,
                {**out.model_dump(), "user_id": record.user_id, "computed_at": self.clock()},
            )
            # Cached under the lock, so a slower recompute cannot overwrite a newer result.
            await self._cache(record, out)
        await publish_event(
            self.broker,
            HabitMetricsUpdatedV1(
                user_id=record.user_id,
                habit_id=habit_id,
                as_of=today,
                metrics=out.model_dump(mode="json", exclude={"habit_id", "as_of"}),
            ),
        )
        if previous is not None and out.current_streak < previous:
            await publish_event(
                self.broker,
                StreakEndedV1(
                    # One id per habit, date and broken run: a redelivered recompute is deduped.
                    event_id=uuid.uuid5(habit_id, f"streak-broken:{today}:{previous}"),
                    user_id=record.user_id,
                    habit_id=habit_id,
                    as_of=today,
                    previous_streak=previous,
                    current_streak=out.current_streak,
                    streak_unit=out.streak_unit,
                ),
            )
        return out

    async def erase_user(self, user_id: uuid.UUID) -> None:
        """Delete every metrics row and cache entry of a deleted account (idempotent)."""
        async with self.sessions.begin() as session:
            habit_ids = await repository.habit_ids_of_user(session, user_id)
            await erase_user(session, "metrics", user_id)
        if habit_ids:
            await self._uncache(habit_ids)

    async def _cached_today(self, query: MetricsQuery) -> HabitMetricsOut | None:
        if query.habit_id in self._stale:
            return None
        try:
            raw = await self.redis.get(cache_key(query.habit_id))
        except (RedisError, OSError) as exc:
            log.warning("metrics cache unavailable, reading the database: %r", exc)
            return None
        if raw is None:
            return None
        entry = json.loads(raw)
        if entry["user_id"] != str(query.user_id):
            return None
        hour, minute = (int(p) for p in entry["day_start"].split(":"))
        out = HabitMetricsOut.model_validate(entry["metrics"])
        return out if out.as_of == self.today(entry["zone"], time(hour, minute)) else None

    async def _owned(
        self, session: AsyncSession, user_id: uuid.UUID, habit_id: uuid.UUID
    ) -> tuple[HabitRecord, list[engine.LogEntry]]:
        record, logs = await self._load(session, habit_id)
        if record is None or record.archived or record.user_id != user_id:
            raise NotFound("No such habit.")
        return record, logs

    async def current(self, query: MetricsQuery) -> HabitMetricsOut:
        """The metrics as of ``query.as_of``, or as of the owner's today when absent."""
        if query.as_of is None and (cached := await self._cached_today(query)) is not None:
            return cached
        async with self.sessions() as session:
            record, logs = await self._owned(session, query.user_id, query.habit_id)
        today = self.today(record.timezone, record.day_start)
        as_of = query.as_of or today
        if as_of > today:
            raise ValidationFailed(
                f"as_of {as_of} is after your today ({today}).",
                details=[{"loc": ["query", "as_of"], "today": today.isoformat()}],
            )
        out = metrics_out(
            query.habit_id, as_of, engine.compute_metrics(habit_spec(record), logs, as_of)
        )
        if as_of == today:
            await self._cache(record, out)
        return out

    async def strength(self, query: RangeQuery) -> StrengthOut:
        async with self.sessions() as session:
            record, logs = await self._owned(session, query.user_id, query.habit_id)
        end = query.end or self.today(record.timezone, record.day_start)
        start = query.start or end - timedelta(days=DEFAULT_STRENGTH_DAYS - 1)
        check_range(start, end)
        series = engine.strength_series(habit_spec(record), logs, start, end)
        return StrengthOut(
            habit_id=query.habit_id,
            start=start,
            end=end,
            points=[StrengthPoint(date=d, value=round(v, 6)) for d, v in series],
        )

    async def trend(self, query: TrendQuery) -> TrendOut:
        async with self.sessions() as session:
            record, logs = await self._owned(session, query.user_id, query.habit_id)
        if record.kind != "quantity":
            raise ValidationFailed(
                "Trends describe quantity habits; this habit has no values to trend.",
                details=[{"loc": ["path", "habit_id"], "kind": record.kind}],
            )
        end = query.end or self.today(record.timezone, record.day_start)
        start = query.start or end - timedelta(days=DEFAULT_TREND_DAYS - 1)
        check_range(start, end)
        points = engine.trend(habit_spec(record), logs, query.granularity, start, end)
        return TrendOut(
            habit_id=query.habit_id,
            granularity=query.granularity,
            start=start,
            end=end,
            points=[TrendPointOut(**asdict(p)) for p in points],
        )

    async def history(self, query: HistoryQuery) -> HistoryOut:
        """The day-by-day history charts draw, by the rules of the metrics themselves."""
        async with self.sessions() as session:
            record, logs = await self._owned(session, query.user_id, query.habit_id)
        end = query.end or self.today(record.timezone, record.day_start)
        span = query.days or DEFAULT_HISTORY_DAYS
        start = query.start or end - timedelta(days=span - 1)
        check_range(start, end)
        h = history(habit_spec(record), logs, start, end, query.window, query.granularity)
        return HistoryOut(
            habit_id=query.habit_id,
            title=record.title,
            kind=record.kind,
            target=record.target,
            # Nothing is drawn before the habit starts: the range begins there at the earliest.
            start=max(start, min(record.start_date, end)),
            end=end,
            window=query.window,
            granularity=query.granularity,
            streak_unit=h.streak_unit,
            days=[HistoryDay(**asdict(d)) for d in h.days],
            streaks=[HistoryStreak(**asdict(r)) for r in h.streaks],
            periods=[HistoryPeriod(**asdict(p)) for p in h.periods],
        )

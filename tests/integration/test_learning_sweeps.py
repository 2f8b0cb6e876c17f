"""The periodic path: a sweep deferred by the user's night runs when it ends, a nudge timed for
later in the day is published only when its time comes (and, published late, not in the night),
and a habit whose sequence phase stalls is nudged about it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from faststream.nats import NatsBroker
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.gateway.config import GatewaySettings
from services.learning.experiments import assign
from services.learning.nudges import NUDGE_TIMING
from services.learning.service import LearningService
from shared.contracts.learning import UserQuery
from shared.db.agent import HabitSequence, SequenceHabit
from shared.db.core import Habit, HabitLog, User
from shared.db.engine import session_factory
from shared.db.learning import Nudge
from shared.messaging import create_broker, declare_streams
from tests.support import BusObserver

pytestmark = pytest.mark.integration
BERLIN = ZoneInfo("Europe/Berlin")
# Before the simulated months other tests sweep through, so no other user is due a sweep then.
DAY = date(2025, 6, 10)


@pytest.fixture
async def broker(settings: GatewaySettings) -> AsyncIterator[NatsBroker]:
    broker: NatsBroker = create_broker(settings)
    await broker.connect()
    await declare_streams(broker)
    yield broker
    await broker.stop()


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


async def add_berlin_user_and_daily_habit(
    conn: AsyncConnection, user_id: uuid.UUID, habit_id: uuid.UUID, title: str, start: date
) -> None:
    """A user in Berlin (midnight day start, Monday weeks) with one daily boolean habit."""
    await conn.execute(
        insert(User).values(
            id=user_id,
            email=f"{user_id}@example.com",
            password_hash="-",
            timezone="Europe/Berlin",
            day_start=time(0, 0),
            week_start=0,
            preferences={},
        )
    )
    await conn.execute(
        insert(Habit).values(
            id=habit_id,
            user_id=user_id,
            title=title,
            kind="boolean",
            schedule={"type": "interval", "every": 1, "unit": "day", "times": 1},
            start_date=start,
        )
    )


async def evening_stretcher(engine: AsyncEngine) -> uuid.UUID:
    """A user in the ``before_usual_time`` arm who stretched at 18:00 for 18 days, then stopped."""
    user_id = next(
        u for u in iter(uuid.uuid4, None) if assign(NUDGE_TIMING, str(u)) == "before_usual_time"
    )
    habit_id = uuid.uuid4()
    async with engine.begin() as conn:
        await add_berlin_user_and_daily_habit(
            conn, user_id, habit_id, "Stretch 15 min", DAY - timedelta(days=20)
        )
        await conn.execute(
            insert(HabitLog),
            [
                {
                    "id": uuid.uuid4(),
                    "habit_id": habit_id,
                    "user_id": user_id,
                    "date": DAY - timedelta(days=ago),
                    "status": "done",
                    "created_at": datetime.combine(
                        DAY - timedelta(days=ago), time(18, 0), tzinfo=BERLIN
                    ),
                }
                for ago in range(20, 2, -1)
            ],
        )
    return user_id


async def test_night_deferral_and_timed_delivery(
    engine: AsyncEngine, broker: NatsBroker, settings: GatewaySettings
) -> None:
    user_id = await evening_stretcher(engine)
    clock = [at(3)]
    service = LearningService(
        session_factory(engine),
        broker,
        clock=lambda: clock[0],
        model_name=f"sweeps-{uuid.uuid4().hex[:6]}",
    )
    await service.start()

    async def stored() -> Nudge | None:
        async with engine.connect() as conn:
            row = (await conn.execute(select(Nudge).where(Nudge.user_id == user_id))).one_or_none()
        return None if row is None else Nudge(**row._mapping)

    async with BusObserver(settings.nats_url, "learning.nudge.proposed.v1") as bus:
        # 03:00: the habit slipped, but it is the user's night. The sweep says when to come back.
        night = await service.sweep_user(user_id)
        assert night.verdict == "quiet_hours" and night.nudge is None
        assert night.retry_at == at(8)  # a neutral chronotype's night ends at 08:00
        clock[0] = at(7, 30)
        await service.sweep_due()
        assert await stored() is None

        # 08:05: the periodic sweep takes the user up again and decides. The user is in the
        # "before_usual_time" arm and usually stretches at 18:00, so it goes out at 17:00.
        clock[0] = at(8, 5)
        await service.sweep_due()
        nudge = await stored()
        assert nudge is not None and nudge.timing == "before_usual_time"
        assert nudge.deliver_at == at(17) and nudge.published_at is None
        assert nudge.local_date == DAY and nudge.created_at == at(8, 5)

        # 17:01: the loop publishes it; another sweep that day sends nothing more.
        clock[0] = at(17, 1)
        await service.sweep_due()
        events = await bus.wait_for(lambda s, b: b["user_id"] == str(user_id), count=1)
        later = await service.sweep_user(user_id)
    assert later.verdict == "already_nudged_today"
    assert [e["nudge_id"] for e in events] == [str(nudge.id)]
    published = await stored()
    assert published is not None and published.published_at == at(17, 1)
    gone = await service.sweep_user(uuid.uuid4())  # an account that no longer exists
    assert (gone.verdict, gone.learned, gone.nudge) == ("no_user", 0, None)


async def stored_nudge(engine: AsyncEngine, user_id: uuid.UUID) -> Nudge | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(Nudge).where(Nudge.user_id == user_id))).one_or_none()
    return None if row is None else Nudge(**row._mapping)


async def test_a_nudge_published_late_waits_for_the_morning(
    engine: AsyncEngine, broker: NatsBroker, settings: GatewaySettings
) -> None:
    """The nudge was due at 17:00, but the publisher only got to it at 23:30, in the user's
    night: it goes out at 08:00 the next day, and is that day's one nudge."""
    user_id = await evening_stretcher(engine)
    clock = [at(8, 5)]
    service = LearningService(
        session_factory(engine),
        broker,
        clock=lambda: clock[0],
        model_name=f"sweeps-{uuid.uuid4().hex[:6]}",
    )
    await service.start()
    next_day = DAY + timedelta(days=1)
    async with BusObserver(settings.nats_url, "learning.nudge.proposed.v1") as bus:
        decided = await service.sweep_user(user_id)
        assert decided.verdict == "send"
        nudge = await stored_nudge(engine, user_id)
        assert nudge is not None and nudge.deliver_at == at(17)

        clock[0] = at(23, 30)
        assert await service.publish_due(user_id=user_id) == 0
        held = await stored_nudge(engine, user_id)
        assert held is not None and held.published_at is None
        assert held.deliver_at == at(8, 0, next_day)  # a neutral chronotype's night ends at 08:00
        clock[0] = at(7, 59, next_day)
        assert await service.publish_due(user_id=user_id) == 0

        clock[0] = at(8, 1, next_day)
        assert await service.publish_due(user_id=user_id) == 1
        events = await bus.wait_for(lambda s, b: b["user_id"] == str(user_id), count=1)
        # The habit has lapsed further by now, but the user had their nudge this morning.
        clock[0] = at(9, 0, next_day)
        again = await service.sweep_user(user_id)
    assert again.verdict == "already_nudged_today" and again.nudge is None
    assert [e["nudge_id"] for e in events] == [str(nudge.id)]
    published = await stored_nudge(engine, user_id)
    assert published is not None and published.published_at == at(8, 1, next_day)


async def test_a_habit_whose_sequence_phase_stalls_is_nudged(
    engine: AsyncEngine, broker: NatsBroker
) -> None:
    """A daily habit done two days in three: no other signal fires. It belongs to phase 2 of
    an active sequence (the agent's tables), planned for 14 days; phase 1 was planned for 7."""
    user_id, habit_id, sequence_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    pattern = "DDM" * 6 + "DD"  # the 20 days before DAY, oldest first; never two misses in a row
    async with engine.begin() as conn:
        await add_berlin_user_and_daily_habit(
            conn, user_id, habit_id, "Walk 15 min", DAY - timedelta(days=len(pattern))
        )
        await conn.execute(
            insert(HabitLog),
            [
                {
                    "id": uuid.uuid4(),
                    "habit_id": habit_id,
                    "user_id": user_id,
                    "date": DAY - timedelta(days=len(pattern) - i),
                    "status": "done",
                    "created_at": at(7, 0, DAY - timedelta(days=len(pattern) - i)),
                }
                for i, code in enumerate(pattern)
                if code == "D"
            ],
        )
        # Only what the learning service reads of a plan: each phase's planned length.
        await conn.execute(
            insert(HabitSequence).values(
                id=sequence_id,
                user_id=user_id,
                goal="walk every day",
                status="active",
                plan={
                    "phases": [
                        {"phase_number": 1, "duration_days": 7},
                        {"phase_number": 2, "duration_days": 14},
                    ]
                },
                analysis={},
                current_phase=2,
                phase_started_on=DAY - timedelta(days=10),
            )
        )
        # Phase 1 created the habit; phase 2 does not track it yet.
        await conn.execute(
            insert(SequenceHabit).values(
                sequence_id=sequence_id, user_id=user_id, phase=1, name="Walk", habit_id=habit_id
            )
        )
    service = LearningService(
        session_factory(engine),
        broker,
        clock=lambda: at(10),
        model_name=f"phases-{uuid.uuid4().hex[:6]}",
    )
    await service.start()

    async def advance(**values: object) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                update(HabitSequence).where(HabitSequence.id == sequence_id).values(**values)
            )

    # A phase the habit is not in does not count, even one that is past phase 1's length.
    assert (await service.sweep_user(user_id)).verdict == "no_proposal"
    async with engine.begin() as conn:
        await conn.execute(
            insert(SequenceHabit).values(
                sequence_id=sequence_id, user_id=user_id, phase=2, name="Walk", habit_id=habit_id
            )
        )
    # Day 10 of a 14-day phase: still running (phase 1's 7 days would call it overdue).
    assert (await service.sweep_user(user_id)).verdict == "no_proposal"
    # A paused sequence is not the user's plan right now.
    await advance(status="paused", phase_started_on=DAY - timedelta(days=16))
    assert (await service.sweep_user(user_id)).verdict == "no_proposal"

    # Day 16 of 14, and the last week at 4 or 5 of 7: the phase should have advanced and has not.
    await advance(status="active")
    swept = await service.sweep_user(user_id)
    assert swept.verdict == "send", swept
    assert swept.nudge is not None and swept.nudge.habit_id == habit_id
    assert (swept.nudge.reason, swept.nudge.signals) == ("phase_stalled", ["phase_stalled"])
    # Insights read the same phases: the habit shows as at risk of a stalled phase.
    insights = await service.insights(UserQuery(user_id=user_id))
    assert [i.message for i in insights.insights if i.kind == "at_risk"] == [
        "Walk 15 min: not yet steady enough to move to the next phase."
    ]
    assert [s.details["reason"] for s in insights.suggestions if s.habit_id == habit_id] == [
        "phase_stalled"
    ]

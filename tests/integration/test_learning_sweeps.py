"""The periodic path: a sweep deferred by the user's night runs when it ends, and a nudge timed
for later in the day is published only when its time comes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from faststream.nats import NatsBroker
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.config import GatewaySettings
from services.learning.experiments import assign
from services.learning.nudges import NUDGE_TIMING
from services.learning.service import LearningService
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


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


async def evening_stretcher(engine: AsyncEngine) -> uuid.UUID:
    """A user in the ``before_usual_time`` arm who stretched at 18:00 for 18 days, then stopped."""
    user_id = next(
        u for u in iter(uuid.uuid4, None) if assign(NUDGE_TIMING, str(u)) == "before_usual_time"
    )
    habit_id = uuid.uuid4()
    async with engine.begin() as conn:
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
                title="Stretch 15 min",
                kind="boolean",
                schedule={"type": "interval", "every": 1, "unit": "day", "times": 1},
                start_date=DAY - timedelta(days=20),
            )
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

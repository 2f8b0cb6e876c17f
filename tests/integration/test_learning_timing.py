"""Optimal time over rpc: the user's own completion times in their zone, else sensible defaults."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from faststream.nats import NatsBroker
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.config import GatewaySettings
from shared.contracts.learning import OPTIMAL_TIME
from shared.db.core import Habit, HabitLog
from shared.errors import NotFound, ValidationFailed
from shared.messaging import create_broker
from shared.rpc import call
from tests.support import auth, create_habit, register

pytestmark = pytest.mark.integration
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def broker(settings: GatewaySettings) -> AsyncIterator[NatsBroker]:
    broker: NatsBroker = create_broker(settings)
    await broker.connect()
    yield broker
    await broker.stop()


def minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def holds(window: dict[str, object], moment: time) -> bool:
    start, end = minutes(str(window["start"])), minutes(str(window["end"]))
    at = moment.hour * 60 + moment.minute
    return start <= at < end if start <= end else at >= start or at < end


async def yoga_done_at_seven(
    client: httpx.AsyncClient, engine: AsyncEngine, user: dict[str, str]
) -> str:
    """A habit done at about 07:10 Berlin time on each of the last 14 days (logged right then)."""
    probe = await create_habit(client, user, title="probe")
    await client.delete(f"/v1/habits/{probe['id']}", headers=auth(user))
    today = date.fromisoformat(probe["start_date"])
    habit_id, user_id = uuid.uuid4(), uuid.UUID(user["x-user-id"])
    async with engine.begin() as conn:
        await conn.execute(
            insert(Habit).values(
                id=habit_id,
                user_id=user_id,
                title="Yoga 20 min",
                kind="boolean",
                schedule={"type": "interval", "every": 1, "unit": "day", "times": 1},
                start_date=today - timedelta(days=20),
            )
        )
        await conn.execute(
            insert(HabitLog),
            [
                {
                    "id": uuid.uuid4(),
                    "habit_id": habit_id,
                    "user_id": user_id,
                    "date": day,
                    "status": "done",
                    "created_at": datetime.combine(
                        day, time(7, 5 + ago % 10), tzinfo=BERLIN
                    ).astimezone(UTC),
                }
                for ago in range(1, 15)
                for day in [today - timedelta(days=ago)]
            ],
        )
    return str(habit_id)


async def test_windows_follow_the_users_own_record(
    client: httpx.AsyncClient, engine: AsyncEngine, broker: NatsBroker
) -> None:
    user = await register(client, timezone="Europe/Berlin")
    await client.patch("/v1/me", json={"chronotype": "evening"}, headers=auth(user))
    habit_id = await yoga_done_at_seven(client, engine, user)
    user_id = user["x-user-id"]

    advice = await call(
        broker, OPTIMAL_TIME, {"user_id": user_id, "habit_id": habit_id, "flexibility": "low"}
    )
    assert advice["zone"] == "Europe/Berlin" and advice["habit_type"] == "exercise"
    assert advice["completions_used"] == 14
    assert advice["source"] == "history"
    best = advice["windows"][0]
    assert holds(best, time(7, 10)), best
    assert minutes(best["end"]) - minutes(best["start"]) == 30  # the session, to the quarter hour
    assert "14 completions" in advice["explanation"]
    assert "You've done it" in best["reason"]
    assert len(advice["windows"]) == 3

    # A type alone draws on the user's habits of that type...
    by_type = await call(
        broker, OPTIMAL_TIME, {"user_id": user_id, "habit_type": "morning workout"}
    )
    assert by_type["completions_used"] == 14 and holds(by_type["windows"][0], time(7, 10))
    # ...and without any, falls back to the chronotype: evening types read before bed.
    reading = await call(broker, OPTIMAL_TIME, {"user_id": user_id, "habit_type": "reading"})
    assert reading["source"] == "defaults" and reading["completions_used"] == 0
    assert holds(reading["windows"][0], time(23, 45))
    assert "evening types" in reading["explanation"]


async def test_defaults_follow_the_chronotype(
    client: httpx.AsyncClient, broker: NatsBroker
) -> None:
    user = await register(client, timezone="Asia/Tokyo")
    await client.patch("/v1/me", json={"chronotype": "morning"}, headers=auth(user))
    advice = await call(
        broker,
        OPTIMAL_TIME,
        {"user_id": user["x-user-id"], "habit_type": "run", "duration_minutes": 30},
    )
    assert advice["source"] == "defaults"
    assert holds(advice["windows"][0], time(7, 0))
    assert all(not holds(w, time(3, 0)) for w in advice["windows"])


async def test_optimal_time_refuses_what_it_cannot_answer(
    client: httpx.AsyncClient, broker: NatsBroker
) -> None:
    user = await register(client)
    other = await register(client)
    foreign = await create_habit(client, other)
    with pytest.raises(ValidationFailed):
        await call(broker, OPTIMAL_TIME, {"user_id": user["x-user-id"]})
    with pytest.raises(ValidationFailed):
        await call(
            broker,
            OPTIMAL_TIME,
            {"user_id": user["x-user-id"], "habit_type": "yoga", "flexibility": "whenever"},
        )
    with pytest.raises(NotFound):
        await call(broker, OPTIMAL_TIME, {"user_id": user["x-user-id"], "habit_id": foreign["id"]})

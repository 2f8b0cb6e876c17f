"""Reminders through the gateway: CRUD scoped to the owner, bad input, and the scheduler —
delivered once with two instances, caught up once, dropped when over an hour late, following
the habit's schedule, and pushed live on the SSE stream with kind ``reminder``."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from httpx_sse import aconnect_sse
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.gateway.app import create_app as create_gateway_app
from services.gateway.config import GatewaySettings
from services.gateway.reminders.scheduler import ReminderScheduler
from shared.db.core import OutboxEvent
from shared.db.engine import create_engine, session_factory
from shared.db.reminders import Reminder, ReminderDelivery
from tests.support import auth, create_habit, register, served

pytestmark = pytest.mark.integration

DUE = "reminders.reminder.fired.v1"


@pytest.fixture
async def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def second_sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Another connection pool, as a second gateway instance would have."""
    other = create_engine(database_url, pool_size=2, max_overflow=2)
    yield session_factory(other)
    await other.dispose()


def scheduler(sessions: async_sessionmaker[AsyncSession], batch: int = 200) -> ReminderScheduler:
    return ReminderScheduler(sessions, lambda: None, poll_seconds=0, batch=batch)


async def new_reminder(
    client: httpx.AsyncClient, user: dict[str, str], **fields: Any
) -> dict[str, Any]:
    response = await client.post("/v1/reminders", json=fields, headers=auth(user))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def set_due(
    sessions: async_sessionmaker[AsyncSession], reminder_id: str, due: datetime
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Reminder).where(Reminder.id == uuid.UUID(reminder_id)).values(next_fire_at=due)
        )


async def deliveries(sessions: async_sessionmaker[AsyncSession], reminder_id: str) -> list[Any]:
    async with sessions() as session:
        rows = await session.execute(
            select(ReminderDelivery).where(ReminderDelivery.reminder_id == uuid.UUID(reminder_id))
        )
        return list(rows.scalars().all())


async def due_events(sessions: async_sessionmaker[AsyncSession], reminder_id: str) -> int:
    async with sessions() as session:
        count = await session.execute(
            select(func.count())
            .select_from(OutboxEvent)
            .where(
                OutboxEvent.subject == DUE, OutboxEvent.payload["reminder_id"].astext == reminder_id
            )
        )
        return int(count.scalar_one())


async def next_fire(
    sessions: async_sessionmaker[AsyncSession], reminder_id: str
) -> datetime | None:
    async with sessions() as session:
        reminder = await session.get(Reminder, uuid.UUID(reminder_id))
        assert reminder is not None
        return reminder.next_fire_at


# --- the API --------------------------------------------------------------------------------


async def test_crud_of_a_habit_reminder(client: httpx.AsyncClient) -> None:
    user = await register(client, timezone="Europe/London")
    habit = await create_habit(client, user, title="Meditate")
    created = await new_reminder(
        client,
        user,
        habit_id=habit["id"],
        time="07:30",
        weekdays=["monday", "fri"],
        message="Breathe",
    )
    assert created["time"] == "07:30"
    assert created["weekdays"] == ["mon", "fri"]
    assert created["timezone"] == "Europe/London"
    fire = datetime.fromisoformat(created["next_fire_at"])
    assert fire > datetime.now(UTC)
    assert fire.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M %a") in (
        "07:30 Mon",
        "07:30 Fri",
    )
    rid = created["id"]
    assert (await client.get(f"/v1/reminders/{rid}", headers=auth(user))).json() == created
    listed = (await client.get("/v1/reminders", headers=auth(user))).json()
    assert [r["id"] for r in listed] == [rid]
    by_habit = await client.get(
        "/v1/reminders", params={"habit_id": habit["id"]}, headers=auth(user)
    )
    assert [r["id"] for r in by_habit.json()] == [rid]

    patched = await client.patch(
        f"/v1/reminders/{rid}", json={"time": "21:00", "weekdays": None}, headers=auth(user)
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["time"], patched.json()["weekdays"]) == ("21:00", [])
    off = await client.patch(f"/v1/reminders/{rid}", json={"enabled": False}, headers=auth(user))
    assert off.json()["next_fire_at"] is None

    assert (await client.delete(f"/v1/reminders/{rid}", headers=auth(user))).status_code == 204
    gone = await client.get(f"/v1/reminders/{rid}", headers=auth(user))
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


async def test_a_free_check_in_has_no_habit(client: httpx.AsyncClient) -> None:
    user = await register(client)
    created = await new_reminder(client, user, time="20:00")
    assert created["habit_id"] is None and created["next_fire_at"] is not None


async def test_another_users_reminders_and_habits_answer_404(client: httpx.AsyncClient) -> None:
    owner, other = await register(client), await register(client)
    habit = await create_habit(client, owner)
    rid = (await new_reminder(client, owner, habit_id=habit["id"], time="08:00"))["id"]
    for method, body in (("GET", None), ("PATCH", {"time": "09:00"}), ("DELETE", None)):
        response = await client.request(
            method, f"/v1/reminders/{rid}", json=body, headers=auth(other)
        )
        assert response.status_code == 404, (method, response.text)
    assert (await client.get("/v1/reminders", headers=auth(other))).json() == []
    for habit_id in (habit["id"], str(uuid.uuid4())):
        response = await client.post(
            "/v1/reminders", json={"habit_id": habit_id, "time": "08:00"}, headers=auth(other)
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    # Untouched for its owner.
    mine = await client.get(f"/v1/reminders/{rid}", headers=auth(owner))
    assert mine.json()["time"] == "08:00"


@pytest.mark.parametrize(
    "body",
    [
        {"time": "25:00"},
        {"time": "07:60"},
        {"time": "7am"},
        {"time": ""},
        {"time": 730},
        {"time": "08:00", "weekdays": ["funday"]},
        {"time": "08:00", "weekdays": "mon"},
        {"time": "08:00", "message": "x" * 501},
        {"time": "08:00", "message": ""},
        {"time": "08:00", "habit_id": "not-a-uuid"},
        {"time": "08:00", "colour": "red"},
        {},
    ],
)
async def test_bad_reminders_get_422_in_the_envelope(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    user = await register(client)
    response = await client.post("/v1/reminders", json=body, headers=auth(user))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["message"]
    assert (await client.get("/v1/reminders", headers=auth(user))).json() == []


async def test_bad_patches_and_bodies(client: httpx.AsyncClient) -> None:
    user = await register(client)
    rid = (await new_reminder(client, user, time="08:00"))["id"]
    for body in ({"time": None}, {"time": "24:00"}, {"weekdays": ["someday"]}):
        response = await client.patch(f"/v1/reminders/{rid}", json=body, headers=auth(user))
        assert response.status_code == 422, (body, response.text)
    malformed = await client.post(
        "/v1/reminders",
        content=b'{"time": "08:',
        headers={**auth(user), "content-type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "malformed_json"
    assert (await client.get(f"/v1/reminders/{rid}", headers=auth(user))).json()["time"] == "08:00"


# --- the scheduler --------------------------------------------------------------------------


async def test_two_scheduler_instances_deliver_each_reminder_once(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    second_sessions: async_sessionmaker[AsyncSession],
) -> None:
    user = await register(client)
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    ids = []
    for n in range(30):
        habit = await create_habit(client, user, title=f"Habit {n}")
        rid = (await new_reminder(client, user, habit_id=habit["id"], time=due.strftime("%H:%M")))[
            "id"
        ]
        await set_due(sessions, rid, due.replace(second=0))
        ids.append(rid)
    now = due + timedelta(minutes=5)
    # Small batches, many rounds at once: the instances contend for the same rows.
    a, b = scheduler(sessions, batch=4), scheduler(second_sessions, batch=4)
    rounds = await asyncio.gather(*(s.run_once(now) for s in (a, b, a, b, a, b)))
    assert sum(r.delivered for r in rounds) >= 30
    for rid in ids:
        assert len(await deliveries(sessions, rid)) == 1
        assert await due_events(sessions, rid) == 1
    # Both instances did some of the work.
    assert sum(r.delivered for r in rounds[0::2]) > 0 and sum(r.delivered for r in rounds[1::2]) > 0
    assert sum(r.delivered for r in rounds) == 30


async def test_the_delivery_key_stops_a_second_delivery_of_one_fire_time(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await register(client)
    rid = (await new_reminder(client, user, time="06:00"))["id"]
    due = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    await set_due(sessions, rid, due)
    assert (await scheduler(sessions).run_once(due + timedelta(minutes=1))).delivered >= 1
    # As if a round had crashed after delivering but before its next_fire_at stuck.
    await set_due(sessions, rid, due)
    await scheduler(sessions).run_once(due + timedelta(minutes=2))
    assert len(await deliveries(sessions, rid)) == 1
    assert await due_events(sessions, rid) == 1


async def test_a_missed_window_is_caught_up_once_on_restart(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await register(client, timezone="America/New_York")
    rid = (await new_reminder(client, user, time="08:00"))["id"]
    # Down since three days ago: three 08:00s passed, the last one 20 minutes ago.
    today_8 = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # 08:00 EST
    await set_due(sessions, rid, today_8 - timedelta(days=3))
    now = today_8 + timedelta(minutes=20)
    first = await scheduler(sessions).run_once(now)
    second = await scheduler(sessions).run_once(now + timedelta(seconds=30))
    rows = await deliveries(sessions, rid)
    assert len(rows) == 1
    assert rows[0].fire_at == today_8
    assert str(rows[0].local_date) == "2026-12-07"
    assert first.delivered >= 1
    assert second.delivered == 0
    assert await next_fire(sessions, rid) == today_8 + timedelta(days=1)


async def test_a_reminder_over_an_hour_late_is_dropped_with_a_log_line(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = await register(client)
    rid = (await new_reminder(client, user, time="09:00"))["id"]
    due = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    await set_due(sessions, rid, due)
    with caplog.at_level(logging.WARNING, logger="services.gateway.reminders.scheduler"):
        await scheduler(sessions).run_once(due + timedelta(hours=1, minutes=1))
    assert await deliveries(sessions, rid) == []
    assert await due_events(sessions, rid) == 0
    assert any(rid in r.getMessage() and "dropped" in r.getMessage() for r in caplog.records)
    assert await next_fire(sessions, rid) == due + timedelta(days=1)


async def test_reminders_follow_the_habit(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await register(client)
    # Tuesdays and Thursdays only: a daily 07:00 reminder lands on those days.
    habit = await create_habit(
        client, user, title="Swim", schedule={"type": "weekdays", "days": ["tue", "thu"]}
    )
    created = await new_reminder(client, user, habit_id=habit["id"], time="07:00")
    fire = datetime.fromisoformat(created["next_fire_at"])
    assert fire.strftime("%a %H:%M") in ("Tue 07:00", "Thu 07:00")
    # A Monday-only reminder of a Tuesday/Thursday habit never fires.
    never = await new_reminder(client, user, habit_id=habit["id"], time="07:00", weekdays=["mon"])
    assert never["next_fire_at"] is None
    free = await new_reminder(
        client, user, habit_id=habit["id"], time="07:00", weekdays=["mon"], follow_habit=False
    )
    assert free["next_fire_at"] is not None

    # Target met today: no reminder.
    daily = await create_habit(client, user, title="Stretch")
    rid = (await new_reminder(client, user, habit_id=daily["id"], time="23:59"))["id"]
    logged = await client.post(f"/v1/habits/{daily['id']}/logs", json={}, headers=auth(user))
    assert logged.status_code == 201
    today = datetime.fromisoformat(logged.json()["date"] + "T23:59:00+00:00")
    await set_due(sessions, rid, today)
    result = await scheduler(sessions).run_once(today + timedelta(seconds=5))
    assert result.suppressed >= 1
    assert await deliveries(sessions, rid) == []

    # Archived: no reminder.
    archived = await create_habit(client, user, title="Journal")
    rid = (await new_reminder(client, user, habit_id=archived["id"], time="10:00"))["id"]
    assert (
        await client.delete(f"/v1/habits/{archived['id']}", headers=auth(user))
    ).status_code == 204
    due = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    await set_due(sessions, rid, due)
    await scheduler(sessions).run_once(due + timedelta(minutes=1))
    assert await deliveries(sessions, rid) == []


async def test_a_due_reminder_reaches_the_sse_stream_with_kind_reminder(
    client: httpx.AsyncClient,
    settings: GatewaySettings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user = await register(client)
    habit = await create_habit(client, user, title="Meditate")
    rid = (
        await new_reminder(
            client, user, habit_id=habit["id"], time="12:00", message="Sit for 2 min"
        )
    )["id"]
    due = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    async with (
        served(create_gateway_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
        aconnect_sse(http, "GET", "/v1/notifications", headers=auth(user)) as source,
    ):
        events = source.aiter_sse()
        first = await anext(events)
        assert first.event == "suggestion"
        # The wall time is what makes the fire time; make 12:00 UTC "due now" on today's date.
        await set_due(sessions, rid, due)
        async with sessions.begin() as session:
            await session.execute(
                update(Reminder)
                .where(Reminder.id == uuid.UUID(rid))
                .values(time=due.time().replace(tzinfo=None))
            )
        assert (await scheduler(sessions).run_once(due + timedelta(seconds=10))).delivered >= 1
        event = await asyncio.wait_for(anext(events), 10)
    assert event.event == "reminder"
    data = event.json()
    assert data["kind"] == "reminder"
    assert data["reminder_id"] == rid and data["habit_id"] == habit["id"]
    assert data["message"] == "Sit for 2 min" and data["habit_title"] == "Meditate"
    assert event.id == data["id"]
    (row,) = await deliveries(sessions, rid)
    assert str(row.id) == data["id"]


async def test_moving_to_another_zone_keeps_the_wall_clock_time(client: httpx.AsyncClient) -> None:
    user = await register(client, timezone="Europe/London")
    created = await new_reminder(client, user, time="07:30")
    moved = await client.patch("/v1/me", json={"timezone": "Asia/Tokyo"}, headers=auth(user))
    assert moved.status_code == 200, moved.text
    after = (await client.get(f"/v1/reminders/{created['id']}", headers=auth(user))).json()
    assert after["timezone"] == "Asia/Tokyo"
    fire = datetime.fromisoformat(after["next_fire_at"]).astimezone(ZoneInfo("Asia/Tokyo"))
    assert fire.strftime("%H:%M") == "07:30"
    assert after["next_fire_at"] != created["next_fire_at"]

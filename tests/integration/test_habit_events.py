"""Every habit write produces exactly one event on the bus, through the outbox."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.config import GatewaySettings
from tests.support import BusObserver, auth, create_habit, register

pytestmark = pytest.mark.integration


def about(habit_id: str):  # type: ignore[no-untyped-def]
    return lambda subject, body: body.get("habit_id") == habit_id


async def test_each_write_publishes_exactly_one_event(
    client: httpx.AsyncClient, settings: GatewaySettings
) -> None:
    user = await register(client)
    async with BusObserver(settings.nats_url, "habits.>") as bus:
        habit = await create_habit(client, user, sub_habits=["Open the book"], tags=["mind"])
        hid = habit["id"]
        patched = await client.patch(
            f"/v1/habits/{hid}", json={"title": "Read 20 pages"}, headers=auth(user)
        )
        assert patched.status_code == 200
        added = await client.post(
            f"/v1/habits/{hid}/sub-habits", json={"title": "Take notes"}, headers=auth(user)
        )
        assert added.status_code == 201
        log = await client.post(f"/v1/habits/{hid}/logs", json={}, headers=auth(user))
        assert log.status_code == 201
        deleted = await client.delete(
            f"/v1/habits/{hid}/logs/{log.json()['id']}", headers=auth(user)
        )
        assert deleted.status_code == 204
        archived = await client.delete(f"/v1/habits/{hid}", headers=auth(user))
        assert archived.status_code == 204
        events = await bus.wait_for(about(hid), count=6)

    subjects = [s for s, body, _ in bus.messages if body.get("habit_id") == hid]
    assert subjects == [
        "habits.habit.created.v1",
        "habits.habit.updated.v1",
        "habits.habit.updated.v1",
        "habits.log.recorded.v1",
        "habits.log.deleted.v1",
        "habits.habit.archived.v1",
    ]
    assert len({e["event_id"] for e in events}) == 6
    assert all(e["user_id"] == user["x-user-id"] for e in events)
    # Each event travelled with its id as the JetStream dedupe key.
    for _, body, headers in bus.messages:
        if body.get("habit_id") == hid:
            assert headers["Nats-Msg-Id"] == body["event_id"]


async def naive_tracker_count(redis: Redis, key: str, taps: int) -> int:
    """What a tracker that keeps a count by read-modify-write ends with after ``taps`` taps.

    Every tap reads the count, then writes it back plus one. The barrier between the read and
    the write makes every tap read before any writes, the interleaving that concurrent requests
    produce on a busy server; without it the test would pass or fail with the scheduler.
    """
    await redis.delete(key)
    between = asyncio.Barrier(taps)

    async def tap() -> None:
        seen = int(await redis.get(key) or 0)
        await between.wait()
        await redis.set(key, seen + 1)

    try:
        await asyncio.gather(*(tap() for _ in range(taps)))
        return int(await redis.get(key) or 0)
    finally:
        await redis.delete(key)


async def test_fifty_concurrent_logs_all_persist_and_publish(
    client: httpx.AsyncClient, settings: GatewaySettings, engine: AsyncEngine
) -> None:
    user = await register(client)
    habit = await create_habit(client, user)
    hid = habit["id"]
    async with BusObserver(settings.nats_url, "habits.log.recorded.v1") as bus:
        responses = await asyncio.gather(
            *(
                client.post(f"/v1/habits/{hid}/logs", json={"note": f"#{i}"}, headers=auth(user))
                for i in range(50)
            )
        )
        assert [r.status_code for r in responses] == [201] * 50
        events = await bus.wait_for(about(hid), count=50)
    async with engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT count(*) FROM core.habit_logs WHERE habit_id = :h"), {"h": hid}
        )
    assert stored == 50
    assert len(events) == 50
    assert {e["log_id"] for e in events} == {r.json()["id"] for r in responses}

    # The same 50 taps counted the way a peer tracker does, read, add one, write back: the
    # writes overwrite each other and all but one tap is lost, where the API above kept 50.
    redis = Redis.from_url(settings.redis_url)
    try:
        naive = await naive_tracker_count(redis, f"habyss:test:naive-count:{hid}", len(events))
    finally:
        await redis.aclose()
    assert naive < 50
    assert naive == 1


async def test_idempotency_key_replays_without_a_second_write(
    client: httpx.AsyncClient, settings: GatewaySettings, engine: AsyncEngine
) -> None:
    user = await register(client)
    hid = (await create_habit(client, user))["id"]
    headers = {**auth(user), "Idempotency-Key": "tap-42"}
    async with BusObserver(settings.nats_url, "habits.log.recorded.v1") as bus:
        first, second = await asyncio.gather(
            client.post(f"/v1/habits/{hid}/logs", json={"note": "hi"}, headers=headers),
            client.post(f"/v1/habits/{hid}/logs", json={"note": "hi"}, headers=headers),
        )
        other = await client.post(f"/v1/habits/{hid}/logs", json={"note": "no"}, headers=headers)
        events = await bus.wait_for(about(hid), count=1)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conflict"
    assert len(events) == 1
    async with engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT count(*) FROM core.habit_logs WHERE habit_id = :h"), {"h": hid}
        )
    assert stored == 1


async def test_log_date_defaults_to_the_users_today(client: httpx.AsyncClient) -> None:
    # Kiritimati is UTC+14, Pago Pago UTC-11: for most of the day their dates differ by one.
    east = await register(client, timezone="Pacific/Kiritimati")
    west = await register(client, timezone="Pacific/Pago_Pago")
    dates: list[Any] = []
    for user in (east, west):
        hid = (await create_habit(client, user))["id"]
        log = await client.post(f"/v1/habits/{hid}/logs", json={}, headers=auth(user))
        dates.append(log.json()["date"])
    assert dates[0] > dates[1]

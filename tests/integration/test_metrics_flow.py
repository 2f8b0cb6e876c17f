"""Logs written through the gateway update the metrics read back through the gateway."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from faststream.nats import NatsBroker
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.config import GatewaySettings
from services.metrics.service import MetricsService
from shared.contracts.metrics import MetricsQuery
from shared.db.engine import session_factory
from shared.messaging import create_broker
from tests.support import BusObserver, auth, create_habit, register

pytestmark = pytest.mark.integration


async def metrics_when(
    client: httpx.AsyncClient,
    user: dict[str, str],
    habit_id: str,
    ready: Any,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Poll the metrics endpoint until ``ready(body)`` holds (events are asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(f"/v1/habits/{habit_id}/metrics", headers=auth(user))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if ready(body) or asyncio.get_running_loop().time() > deadline:
            return body
        await asyncio.sleep(0.05)


async def test_logging_updates_metrics(
    client: httpx.AsyncClient, settings: GatewaySettings
) -> None:
    user = await register(client)
    today = date.fromisoformat(
        (await client.post("/v1/habits", json={"title": "probe"}, headers=auth(user))).json()[
            "start_date"
        ]
    )
    start = today - timedelta(days=4)
    habit = await create_habit(client, user, start_date=start.isoformat())
    hid = habit["id"]
    async with BusObserver(settings.nats_url, "metrics.habit.updated.v1") as bus:
        for offset in (4, 3, 2, 1, 0):
            day = (today - timedelta(days=offset)).isoformat()
            r = await client.post(f"/v1/habits/{hid}/logs", json={"date": day}, headers=auth(user))
            assert r.status_code == 201
        body = await metrics_when(client, user, hid, lambda b: b["current_streak"] == 5)
        events = await bus.wait_for(lambda s, b: b["habit_id"] == hid, count=1)
    assert body["current_streak"] == 5
    assert body["longest_streak"] == 5
    assert body["streak_unit"] == "day"
    assert body["total_completions"] == 5
    assert body["last_completed_on"] == today.isoformat()
    assert body["completion_rate_week"] == 1.0
    assert 0 < body["strength"] < 1
    assert events, "metrics.habit.updated.v1 was published"

    # Deleting today's log: today is pending again, so the streak is the 4 days before it.
    logs = (await client.get(f"/v1/habits/{hid}/logs", headers=auth(user))).json()
    todays = next(log for log in logs if log["date"] == today.isoformat())
    await client.delete(f"/v1/habits/{hid}/logs/{todays['id']}", headers=auth(user))
    body = await metrics_when(client, user, hid, lambda b: b["total_completions"] == 4)
    assert (body["current_streak"], body["total_completions"]) == (4, 4)

    # As of two days ago, later logs are ignored.
    past = (today - timedelta(days=2)).isoformat()
    response = await client.get(f"/v1/habits/{hid}/metrics?as_of={past}", headers=auth(user))
    assert response.json()["current_streak"] == 3
    assert response.json()["as_of"] == past


async def test_schedule_change_recomputes_history(client: httpx.AsyncClient) -> None:
    user = await register(client)
    probe = await create_habit(client, user)
    today = date.fromisoformat(probe["start_date"])
    start = today - timedelta(days=13)
    habit = await create_habit(client, user, start_date=start.isoformat())
    hid = habit["id"]
    for offset in range(0, 14, 2):  # every other day
        day = (today - timedelta(days=offset)).isoformat()
        await client.post(f"/v1/habits/{hid}/logs", json={"date": day}, headers=auth(user))
    daily = await metrics_when(client, user, hid, lambda b: b["total_completions"] == 7)
    assert daily["longest_streak"] == 1
    await client.patch(
        f"/v1/habits/{hid}",
        json={"schedule": {"type": "interval", "every": 2, "unit": "day", "times": 1}},
        headers=auth(user),
    )
    every_other = await metrics_when(client, user, hid, lambda b: b["longest_streak"] == 7)
    assert every_other["longest_streak"] == 7


async def test_strength_and_trend(client: httpx.AsyncClient) -> None:
    user = await register(client)
    probe = await create_habit(client, user)
    today = date.fromisoformat(probe["start_date"])
    start = today - timedelta(days=20)
    steps = await create_habit(
        client,
        user,
        kind="quantity",
        target={"value": 5000, "unit": "steps"},
        start_date=start.isoformat(),
    )
    hid = steps["id"]
    for offset, value in ((20, 3000), (10, 6000), (10, 1000), (0, 8000)):
        day = (today - timedelta(days=offset)).isoformat()
        await client.post(
            f"/v1/habits/{hid}/logs", json={"date": day, "value": value}, headers=auth(user)
        )
    strength = await client.get(
        f"/v1/habits/{hid}/strength?from={start.isoformat()}", headers=auth(user)
    )
    assert strength.status_code == 200
    points = strength.json()["points"]
    assert len(points) == 21 and points[0]["date"] == start.isoformat()
    assert all(0 <= p["value"] <= 1 for p in points)
    trend = await client.get(
        f"/v1/habits/{hid}/trend?granularity=month&from={start.isoformat()}", headers=auth(user)
    )
    assert trend.status_code == 200
    months = trend.json()["points"]
    assert sum(p["total"] for p in months) == 18000
    assert sum(p["count"] for p in months) == 3  # logged days; two logs on one day sum to 7000
    assert max(p["maximum"] or 0 for p in months) == 8000


async def test_bad_metric_parameters(client: httpx.AsyncClient) -> None:
    user = await register(client)
    boolean = await create_habit(client, user)
    quantity = await create_habit(
        client, user, kind="quantity", target={"value": 2, "unit": "glasses"}
    )
    h = auth(user)
    cases = [
        (f"/v1/habits/{quantity['id']}/strength?from=2026-05-02&to=2026-05-01", 422),
        (f"/v1/habits/{quantity['id']}/trend?granularity=day", 422),
        (f"/v1/habits/{boolean['id']}/trend", 422),
        (f"/v1/habits/{quantity['id']}/trend?from=2010-01-01&to=2025-01-01", 422),
        (f"/v1/habits/{boolean['id']}/metrics?as_of=2999-01-01", 422),
        (f"/v1/habits/{boolean['id']}/metrics?as_of=yesterday", 422),
        (f"/v1/habits/{uuid.uuid4()}/metrics", 404),
    ]
    for url, status in cases:
        response = await client.get(url, headers=h)
        assert response.status_code == status, (url, response.text)
        assert response.json()["error"]["code"] in ("validation_error", "not_found")
    other = await register(client)
    foreign = await client.get(f"/v1/habits/{boolean['id']}/metrics", headers=auth(other))
    assert foreign.status_code == 404


async def test_after_midnight_a_missed_day_breaks_the_streak_without_an_event(
    client: httpx.AsyncClient, settings: GatewaySettings, engine: AsyncEngine
) -> None:
    user = await register(client, timezone="Asia/Tokyo")
    probe = await create_habit(client, user)
    today = date.fromisoformat(probe["start_date"])
    habit = await create_habit(client, user, start_date=(today - timedelta(days=2)).isoformat())
    hid = habit["id"]
    for offset in (2, 1, 0):
        day = (today - timedelta(days=offset)).isoformat()
        await client.post(f"/v1/habits/{hid}/logs", json={"date": day}, headers=auth(user))
    await metrics_when(client, user, hid, lambda b: b["current_streak"] == 3)

    # The same service, its clock moved 48 hours on: the next day was missed, nothing was logged.
    later = datetime.now(UTC) + timedelta(hours=48)
    broker: NatsBroker = create_broker(settings)
    redis = Redis.from_url(settings.redis_url)
    service = MetricsService(session_factory(engine), redis, broker, clock=lambda: later)
    try:
        query = MetricsQuery(user_id=uuid.UUID(user["x-user-id"]), habit_id=uuid.UUID(hid))
        moved = await service.current(query)
    finally:
        await redis.aclose()
    assert moved.as_of == today + timedelta(days=2)
    assert moved.current_streak == 0
    assert moved.longest_streak == 3

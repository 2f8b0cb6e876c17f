"""Logs written through the gateway update the metrics read back through the gateway."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import nats
import pytest
from faststream.nats import NatsBroker
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.config import GatewaySettings
from services.metrics import repository as metrics_repository
from services.metrics.engine import LogEntry, compute_metrics
from services.metrics.service import MetricsService, habit_spec, metrics_out
from shared.contracts.metrics import MetricsQuery
from shared.db.engine import session_factory
from shared.db.metrics import HabitMetricsRow
from shared.messaging import create_broker, publish_raw
from shared.streams import HABITS
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


async def consumers_caught_up(url: str, names: list[str], timeout: float = 15.0) -> int:
    """Wait until these durable consumers of HABITS have nothing pending or unacknowledged;
    return how many messages they have been handed in all."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            infos = [await js.consumer_info(HABITS.name, name) for name in names]
            if all(i.num_pending == 0 and i.num_ack_pending == 0 for i in infos):
                return sum(i.delivered.consumer_seq or 0 for i in infos if i.delivered)
            assert asyncio.get_running_loop().time() < deadline, infos
            await asyncio.sleep(0.05)
    finally:
        await nc.close()


async def test_replayed_and_reordered_log_events_leave_a_clean_recompute(
    client: httpx.AsyncClient, settings: GatewaySettings, engine: AsyncEngine
) -> None:
    """Log events that arrive again, under new message ids past JetStream's dedupe, and in
    another order (a deletion before the log it deletes) change nothing: the stored metrics are
    what a recompute from the stored logs gives. An incremental handler would count the
    replayed logs twice and the deleted one again."""
    user = await register(client)
    today = date.fromisoformat((await create_habit(client, user, title="probe"))["start_date"])
    habit = await create_habit(client, user, start_date=(today - timedelta(days=6)).isoformat())
    hid = habit["id"]
    async with BusObserver(settings.nats_url, "habits.log.>") as bus:
        logs = []
        for offset in (6, 5, 4, 3, 1, 0):
            day = (today - timedelta(days=offset)).isoformat()
            r = await client.post(f"/v1/habits/{hid}/logs", json={"date": day}, headers=auth(user))
            assert r.status_code == 201
            logs.append(r.json())
        gone = next(log for log in logs if log["date"] == (today - timedelta(days=3)).isoformat())
        deleted = await client.delete(f"/v1/habits/{hid}/logs/{gone['id']}", headers=auth(user))
        assert deleted.status_code == 204
        await bus.wait_for(lambda s, b: b.get("habit_id") == hid, count=7)
    events = [(s, body) for s, body, _ in bus.messages if body.get("habit_id") == hid]
    assert [s for s, _ in events] == ["habits.log.recorded.v1"] * 6 + ["habits.log.deleted.v1"]
    settled = await metrics_when(client, user, hid, lambda b: b["total_completions"] == 5)
    assert (settled["current_streak"], settled["total_completions"]) == (2, 5)

    consumers = ["metrics-log-recorded", "metrics-log-deleted"]
    delivered = await consumers_caught_up(settings.nats_url, consumers)
    broker: NatsBroker = create_broker(settings)
    await broker.connect()
    replayed_at = datetime.now(UTC)
    try:
        # Newest first, so the deletion comes before the log it deleted; then oldest first again.
        for subject, body in [*reversed(events), *events]:
            await publish_raw(broker, subject, json.dumps(body).encode(), str(uuid.uuid4()))
    finally:
        await broker.stop()
    # Every replay reached the handlers: new message ids are not JetStream duplicates.
    assert await consumers_caught_up(settings.nats_url, consumers) - delivered == 2 * len(events)

    habit_id = uuid.UUID(hid)
    async with session_factory(engine)() as session:
        stored = await session.get(HabitMetricsRow, habit_id)
        record = await metrics_repository.habit_record(session, habit_id)
        rows = await metrics_repository.habit_logs(session, habit_id)
    assert stored is not None and record is not None
    # The replays were handled: the row was written again after they went out.
    assert stored.computed_at >= replayed_at
    clean = metrics_out(
        habit_id,
        stored.as_of,
        compute_metrics(habit_spec(record), [LogEntry(d, s, v) for d, s, v in rows], stored.as_of),
    )
    assert {k: getattr(stored, k) for k in clean.model_dump()} == clean.model_dump()
    assert (clean.total_completions, clean.current_streak, clean.longest_streak) == (5, 2, 3)
    served = (await client.get(f"/v1/habits/{hid}/metrics", headers=auth(user))).json()
    assert served == clean.model_dump(mode="json")

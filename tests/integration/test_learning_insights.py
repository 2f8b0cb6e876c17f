"""``GET /v1/insights``: observations, suggestions and predictions for the user's active habits."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.support import auth, create_habit, register

pytestmark = pytest.mark.integration


async def log_days(
    client: httpx.AsyncClient, user: dict[str, str], habit_id: str, days: list[date]
) -> None:
    for day in days:
        r = await client.post(
            f"/v1/habits/{habit_id}/logs", json={"date": day.isoformat()}, headers=auth(user)
        )
        assert r.status_code == 201, r.text


async def test_insights_name_streaks_risks_and_chances(client: httpx.AsyncClient) -> None:
    user = await register(client)
    probe = await create_habit(client, user, title="probe")
    await client.delete(f"/v1/habits/{probe['id']}", headers=auth(user))
    today = date.fromisoformat(probe["start_date"])
    reading = await create_habit(
        client, user, title="Read 10 pages", start_date=(today - timedelta(days=11)).isoformat()
    )
    stretch = await create_habit(
        client, user, title="Stretch 15 min", start_date=(today - timedelta(days=20)).isoformat()
    )
    soda = await create_habit(client, user, title="No soda", kind="negative")
    await log_days(client, user, reading["id"], [today - timedelta(days=d) for d in range(12)])
    await log_days(
        client, user, stretch["id"], [today - timedelta(days=d) for d in range(20, 2, -1)]
    )

    # Insights quote the metrics service's numbers, which follow the logs asynchronously.
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        body: dict[str, Any] = (await client.get("/v1/insights", headers=auth(user))).json()
        streaks = [i for i in body["insights"] if i["kind"] == "strong_streak"]
        if streaks or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)

    assert [i["habit_id"] for i in streaks] == [reading["id"]]
    assert "12 in a row" in streaks[0]["message"]
    at_risk = [i for i in body["insights"] if i["kind"] == "at_risk"]
    assert [i["habit_id"] for i in at_risk] == [stretch["id"]]
    assert "missed twice in a row" in at_risk[0]["message"]
    priorities = [i["priority"] for i in body["insights"]]
    assert priorities == sorted(priorities, reverse=True)
    assert body["insights"][0]["kind"] == "at_risk"
    assert any(i["kind"] == "overview" and i["habit_id"] is None for i in body["insights"])

    modify = [s for s in body["suggestions"] if s["kind"] == "modify_habit"]
    assert [s["habit_id"] for s in modify] == [stretch["id"]]
    assert modify[0]["details"]["kind"] == "smaller"
    assert modify[0]["details"]["details"] == {"from_minutes": 15.0, "to_minutes": 2}

    predictions = body["predictions"]
    assert {p["habit_id"] for p in predictions} == {reading["id"], stretch["id"]}  # not soda
    assert soda["id"] not in {p["habit_id"] for p in predictions}
    assert [p["probability"] for p in predictions] == sorted(p["probability"] for p in predictions)
    assert all(0 < p["probability"] < 1 and 0 <= p["confidence"] <= 1 for p in predictions)
    by_id = {p["habit_id"]: p for p in predictions}
    assert by_id[reading["id"]]["title"] == "Read 10 pages"


async def test_insights_are_private_and_need_a_token(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    await create_habit(client, owner, title="Meditate 5 min")
    other = await register(client)
    body = (await client.get("/v1/insights", headers=auth(other))).json()
    assert body == {"insights": [], "suggestions": [], "predictions": []}
    assert (await client.get("/v1/insights")).status_code == 401
    assert (await client.get("/v1/assistant/context")).status_code == 401
    assert (await client.get("/v1/notifications")).status_code == 401

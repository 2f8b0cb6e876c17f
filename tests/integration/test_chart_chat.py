"""The assistant's chart through the real stack: chat → agent → metrics history → card."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.support import auth, create_habit, register

pytestmark = pytest.mark.integration


async def test_a_chart_request_returns_the_same_spec_as_the_chart_endpoint(
    client: httpx.AsyncClient, agent_service: FastAPI
) -> None:
    user = await register(client)
    probe = await create_habit(client, user, title="Probe")
    today = date.fromisoformat(probe["start_date"])
    habit = await create_habit(
        client, user, title="Morning run", start_date=(today - timedelta(days=12)).isoformat()
    )
    for offset in (12, 11, 10, 6, 5, 1):
        response = await client.post(
            f"/v1/habits/{habit['id']}/logs",
            json={"date": (today - timedelta(days=offset)).isoformat()},
            headers=auth(user),
        )
        assert response.status_code == 201, response.text

    response = await client.post(
        "/v1/chat",
        json={"message": "Show me a chart of my running this month"},
        headers={**auth(user), "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    calls = [e for e in events if e["type"] == "tool.call.completed"]
    assert [c["name"] for c in calls] == ["create_visualization"]
    assert not calls[0]["is_error"], calls[0]
    (card,) = [e["card"] for e in events if e["type"] == "card"]
    assert card["type"] == "visualization" and card["habit_id"] == habit["id"]
    assert (card["visualization_type"], card["time_period"]) == ("line", "30d")

    chart = await client.get(
        f"/v1/habits/{habit['id']}/chart?type=line&period=30d", headers=auth(user)
    )
    assert card["spec"] == chart.json()
    assert card["spec"]["data"]["values"][-1]["date"] == today.isoformat()
    completed = events[-1]
    assert completed["type"] == "run.completed"
    assert "6 of 13 days completed, longest streak 3 days" in completed["text"]

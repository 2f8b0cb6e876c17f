"""The assistant reads imported health data through the stack: chat → agent → gateway rpc."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.health_exports import apple_export
from tests.integration.test_health_imports import ZONE, finished, upload, user_today
from tests.support import auth, register

pytestmark = pytest.mark.integration


async def chat(client: httpx.AsyncClient, user: dict[str, str], message: str) -> list[Any]:
    response = await client.post(
        "/v1/chat",
        json={"message": message},
        headers={**auth(user), "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def test_how_did_i_sleep_this_week_answers_from_the_imported_nights(
    client: httpx.AsyncClient, agent_service: FastAPI
) -> None:
    user = await register(client, timezone=ZONE)
    empty = await chat(client, user, "How did I sleep this week?")
    assert "don't have any sleep data" in empty[-1]["text"]

    today = await user_today(client, user)
    xml, expected = apple_export(today - timedelta(days=20), 20, ZONE)
    job = await finished(
        client, user, await upload(client, user, "apple-health", xml, "application/xml")
    )
    assert job["status"] == "succeeded", job

    events = await chat(client, user, "How did I sleep this week?")
    calls = [e for e in events if e["type"] == "tool.call.completed"]
    assert [c["name"] for c in calls] == ["get_integration_data"]
    assert not calls[0]["is_error"], calls[0]
    (card,) = [e["card"] for e in events if e["type"] == "card"]
    assert card["type"] == "integration_data" and card["data_type"] == "sleep_minutes"
    week = {
        d: v
        for (t, _, d), v in expected.items()
        if t == "sleep_minutes" and today - timedelta(days=7) < d <= today
    }
    assert {d["date"]: d["value"] for d in card["days"]} == {
        d.isoformat(): v for d, v in week.items()
    }
    completed = events[-1]
    assert completed["type"] == "run.completed"
    assert "you slept 7 h 20 min a night on average (7 nights recorded)" in completed["text"]

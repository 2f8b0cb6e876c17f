"""Destructive actions through the real stack: the assistant proposes, only the owner's yes acts.

chat → agent → ``rpc.habits.propose.v1`` → a confirmation card; ``POST /v1/confirmations/{id}``
runs the action once; a used, cancelled or expired id answers 410, a foreign one 404.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.test_health_chat import chat
from tests.support import auth, create_habit, register

pytestmark = pytest.mark.integration


def the_card(events: list[dict[str, Any]]) -> dict[str, Any]:
    [card] = [e["card"] for e in events if e["type"] == "card"]
    assert card["type"] == "confirmation", card
    return card


async def titles(client: httpx.AsyncClient, user: dict[str, str]) -> list[str]:
    return [h["title"] for h in (await client.get("/v1/habits", headers=auth(user))).json()]


async def test_archiving_waits_for_the_owners_yes_and_runs_once(
    client: httpx.AsyncClient, agent_service: FastAPI
) -> None:
    user, other = await register(client), await register(client)
    habit = await create_habit(client, user, title="Reading")
    events = await chat(client, user, "delete my reading habit")
    card = the_card(events)
    assert card["action"] == "archive_habit" and card["habit_id"] == habit["id"]
    assert "Reading" in card["summary"] and "confirm" in events[-1]["text"].lower()
    assert await titles(client, user) == ["Reading"]  # nothing happened yet

    path = f"/v1/confirmations/{card['confirmation_id']}"
    state = (await client.get(path, headers=auth(user))).json()
    assert state["status"] == "pending" and state["habit_id"] == habit["id"]
    for method in ("GET", "POST", "DELETE"):  # another user: 404, and nothing changes
        foreign = await client.request(method, path, headers=auth(other))
        assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    assert await titles(client, user) == ["Reading"]

    accepted = await client.post(path, headers=auth(user))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    assert await titles(client, user) == []
    again = await client.post(path, headers=auth(user))
    assert again.status_code == 410 and again.json()["error"]["code"] == "gone"
    assert (await client.delete(path, headers=auth(user))).status_code == 410


async def test_a_cancelled_or_expired_confirmation_never_acts(
    client: httpx.AsyncClient, agent_service: FastAPI, engine: AsyncEngine
) -> None:
    user = await register(client)
    await create_habit(client, user, title="Reading")
    await create_habit(client, user, title="Meditation")
    cancelled = the_card(await chat(client, user, "delete my reading habit"))
    expired = the_card(await chat(client, user, "remove the meditation habit"))

    path = f"/v1/confirmations/{cancelled['confirmation_id']}"
    assert (await client.delete(path, headers=auth(user))).status_code == 204
    assert (await client.get(path, headers=auth(user))).json()["status"] == "cancelled"
    assert (await client.post(path, headers=auth(user))).status_code == 410

    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE core.confirmations SET expires_at = now() - interval '1 second' "
                "WHERE id = :id"
            ),
            {"id": expired["confirmation_id"]},
        )
    path = f"/v1/confirmations/{expired['confirmation_id']}"
    assert (await client.get(path, headers=auth(user))).json()["status"] == "expired"
    late = await client.post(path, headers=auth(user))
    assert late.status_code == 410 and "expired" in late.json()["error"]["message"]
    assert sorted(await titles(client, user)) == ["Meditation", "Reading"]


async def test_stopping_a_reminder_is_a_confirmation_too(
    client: httpx.AsyncClient, agent_service: FastAPI
) -> None:
    user = await register(client)
    habit = await create_habit(client, user, title="Meditation")
    body = {"habit_id": habit["id"], "time": "07:30"}
    assert (await client.post("/v1/reminders", json=body, headers=auth(user))).status_code == 201
    card = the_card(await chat(client, user, "stop reminding me about meditation"))
    assert card["action"] == "delete_reminders"
    assert len((await client.get("/v1/reminders", headers=auth(user))).json()) == 1
    path = f"/v1/confirmations/{card['confirmation_id']}"
    assert (await client.post(path, headers=auth(user))).status_code == 200
    assert (await client.get("/v1/reminders", headers=auth(user))).json() == []


async def test_unknown_ids_answer_404_in_the_one_error_format(client: httpx.AsyncClient) -> None:
    user = await register(client)
    path = "/v1/confirmations/00000000-0000-4000-8000-000000000000"
    for method in ("GET", "POST", "DELETE"):
        response = await client.request(method, path, headers=auth(user))
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"

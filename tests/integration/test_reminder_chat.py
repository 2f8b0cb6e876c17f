"""The assistant's reminders through the real stack: chat → agent → rpc.habits.* → reminder."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.test_health_chat import chat
from tests.support import auth, create_habit, register

pytestmark = pytest.mark.integration


async def test_remind_me_to_meditate_at_7am_creates_a_reminder(
    client: httpx.AsyncClient, agent_service: FastAPI
) -> None:
    user = await register(client, timezone="Europe/London")
    habit = await create_habit(client, user, title="Meditation")
    events = await chat(client, user, "remind me to meditate at 7am")
    calls = [e for e in events if e["type"] == "tool.call.completed"]
    assert [c["name"] for c in calls] == ["set_reminder"]
    assert not calls[0]["is_error"], calls[0]
    (card,) = [e["card"] for e in events if e["type"] == "card"]
    assert card["type"] == "reminder" and card["action"] == "created"
    reminders = (await client.get("/v1/reminders", headers=auth(user))).json()
    assert [(r["habit_id"], r["time"], r["timezone"]) for r in reminders] == [
        (habit["id"], "07:00", "Europe/London")
    ]
    assert card["reminder"]["id"] == reminders[0]["id"]
    assert "07:00" in events[-1]["text"]

    # Moving it keeps one reminder; stopping deletes it once the user accepts the card.
    events = await chat(client, user, "move my meditation reminder to 9pm")
    assert [e["name"] for e in events if e["type"] == "tool.call.completed"] == ["set_reminder"]
    reminders = (await client.get("/v1/reminders", headers=auth(user))).json()
    assert [r["time"] for r in reminders] == ["21:00"]
    events = await chat(client, user, "stop reminding me about meditation")
    assert [e["name"] for e in events if e["type"] == "tool.call.completed"] == ["set_reminder"]
    (card,) = [e["card"] for e in events if e["type"] == "card"]
    assert card["type"] == "confirmation" and card["action"] == "delete_reminders"
    assert len((await client.get("/v1/reminders", headers=auth(user))).json()) == 1
    path = f"/v1/confirmations/{card['confirmation_id']}"
    assert (await client.post(path, headers=auth(user))).status_code == 200
    assert (await client.get("/v1/reminders", headers=auth(user))).json() == []


async def test_a_reminder_for_a_new_habit_creates_both(
    client: httpx.AsyncClient, agent_service: FastAPI
) -> None:
    user = await register(client)
    events = await chat(client, user, "remind me to floss at 21:30 every day")
    names = [e["name"] for e in events if e["type"] == "tool.call.completed"]
    assert names == ["create_habit", "set_reminder"], events
    (habit,) = (await client.get("/v1/habits", headers=auth(user))).json()
    (reminder,) = (await client.get("/v1/reminders", headers=auth(user))).json()
    assert reminder["habit_id"] == habit["id"] and reminder["time"] == "21:30"

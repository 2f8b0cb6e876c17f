"""Feedback through the gateway's outbox reaches the learning service, once; preferences follow."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from faststream.nats import NatsBroker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.config import GatewaySettings
from shared.contracts.learning import PREFERENCES, UserQuery
from shared.db.learning import LearningEvent, UserAIPreferences
from shared.events.learning import FeedbackRecordedV1
from shared.messaging import create_broker, publish_raw
from shared.rpc import call
from tests.support import BusObserver, auth, create_habit, register

pytestmark = pytest.mark.integration


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy (events are asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


@pytest.fixture
async def broker(settings: GatewaySettings) -> Any:
    broker: NatsBroker = create_broker(settings)
    await broker.connect()
    yield broker
    await broker.stop()


async def stored_events(engine: AsyncEngine, event_id: uuid.UUID) -> int:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(func.count())
            .select_from(LearningEvent)
            .where(LearningEvent.event_id == event_id)
        )
        return int(result.scalar_one())


async def test_feedback_is_accepted_published_and_stored_once(
    client: httpx.AsyncClient, settings: GatewaySettings, engine: AsyncEngine, broker: NatsBroker
) -> None:
    user = await register(client)
    habit = await create_habit(client, user, title="Meditate 10 min")
    async with BusObserver(settings.nats_url, "learning.feedback.recorded.v1") as bus:
        response = await client.post(
            "/v1/feedback",
            json={"kind": "suggestion_accepted", "habit_id": habit["id"]},
            headers=auth(user),
        )
        assert response.status_code == 202, response.text
        feedback_id = uuid.UUID(response.json()["feedback_id"])
        events = await bus.wait_for(lambda s, b: b["event_id"] == str(feedback_id), count=1)
    assert len(events) == 1
    assert events[0]["user_id"] == user["x-user-id"]
    assert events[0]["habit_id"] == habit["id"]
    assert await eventually(lambda: stored_events(engine, feedback_id)) == 1

    # A redelivery (here: the same event under another message id, so JetStream's dedupe does
    # not drop it) is recognised by its event id and stored once.
    payload = FeedbackRecordedV1.model_validate(events[0]).model_dump_json().encode()
    await publish_raw(broker, FeedbackRecordedV1.subject, payload, str(uuid.uuid4()))
    await asyncio.sleep(0.5)
    assert await stored_events(engine, feedback_id) == 1


async def test_feedback_is_validated(client: httpx.AsyncClient) -> None:
    user = await register(client)
    other = await register(client)
    foreign = await create_habit(client, other)
    cases: list[tuple[dict[str, Any], int]] = [
        ({"kind": "message_rating"}, 422),  # no rating
        ({"kind": "message_rating", "rating": 2}, 422),
        ({"kind": "comment"}, 422),  # no text
        ({"kind": "suggestion_dismissed", "rating": 1}, 422),
        ({"kind": "sequence_abandoned"}, 422),
        ({"kind": "praise", "text": "hi"}, 422),
        ({"kind": "suggestion_accepted", "habit_id": foreign["id"]}, 404),
        ({"kind": "message_rating", "rating": -1}, 202),
    ]
    for body, expected in cases:
        response = await client.post("/v1/feedback", json=body, headers=auth(user))
        assert response.status_code == expected, (body, response.text)
    anonymous = await client.post("/v1/feedback", json={"kind": "comment", "text": "hi"})
    assert anonymous.status_code == 401


async def test_preferences_are_inferred_from_feedback_unless_set(
    client: httpx.AsyncClient, broker: NatsBroker, engine: AsyncEngine
) -> None:
    user = await register(client)
    user_id = uuid.UUID(user["x-user-id"])
    query = UserQuery(user_id=user_id)
    before = await call(broker, PREFERENCES, query)
    assert before["communication_style"] == "encouraging"
    assert set(before["sources"].values()) == {"default"}

    for text in ("Too long, get to the point", "shorter please", "no emoji thanks"):
        response = await client.post(
            "/v1/feedback", json={"kind": "comment", "text": text}, headers=auth(user)
        )
        assert response.status_code == 202

    async def inferred() -> bool:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    select(UserAIPreferences.emoji_preference).where(
                        UserAIPreferences.user_id == user_id
                    )
                )
            ).scalar_one_or_none()
        return row == "never"

    assert await eventually(inferred)
    after = await call(broker, PREFERENCES, query)
    assert after["communication_style"] == "concise"
    assert after["detail_level"] == "minimal"
    assert after["emoji_preference"] == "never"
    assert after["sources"]["communication_style"] == "inferred"
    assert after["sources"]["notification_frequency"] == "default"
    assert "shorter" in after["reasons"]["communication_style"]

    # What the user sets wins; null clears it again; unknown values are refused.
    patch = {"preferences": {"communication_style": "direct", "theme": "dark"}}
    assert (await client.patch("/v1/me", json=patch, headers=auth(user))).status_code == 200
    explicit = await call(broker, PREFERENCES, query)
    assert explicit["communication_style"] == "direct"
    assert explicit["sources"]["communication_style"] == "explicit"
    assert explicit["detail_level"] == "minimal"  # still inferred
    cleared = {"preferences": {"communication_style": None}}
    assert (await client.patch("/v1/me", json=cleared, headers=auth(user))).status_code == 200
    assert (await call(broker, PREFERENCES, query))["communication_style"] == "concise"
    for bad in ({"communication_style": "rude"}, {"proactive_suggestions": "yes"}):
        response = await client.patch("/v1/me", json={"preferences": bad}, headers=auth(user))
        assert response.status_code == 422, bad
    me = (await client.get("/v1/me", headers=auth(user))).json()
    assert me["preferences"]["theme"] == "dark"

"""The chat path with the real NATS, PostgreSQL and Redis: gateway → JetStream → agent → live
events → gateway, with the conversation stored and the habit writes made through the gateway."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx_sse import aconnect_sse
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent.models import (
    Message,
    ModelEvent,
    ModelSettings,
    ScriptedModel,
    TextDelta,
    ToolCallsReady,
    ToolSpec,
    parse_tool_call,
)
from services.agent.service import AgentService
from services.gateway.app import create_app as create_gateway_app
from services.gateway.config import GatewaySettings
from shared.db.agent import Conversation, Turn
from shared.db.agent import Message as MessageRow
from shared.events.chat import ChatTurnRequestedV1
from shared.messaging import publish_raw
from tests.support import BusObserver, auth, create_habit, register, served

TERMINAL = {"run.completed", "run.failed"}


async def chat(
    client: httpx.AsyncClient,
    user: dict[str, str],
    message: str,
    conversation_id: str | None = None,
) -> dict[str, Any]:
    """One turn through ``POST /v1/chat`` in its JSON mode; returns the collected events."""
    body: dict[str, Any] = {"message": message}
    if conversation_id:
        body["conversation_id"] = conversation_id
    response = await client.post(
        "/v1/chat",
        json=body,
        headers={**auth(user), "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def types(events: Sequence[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


@pytest.fixture
def agent(agent_service: FastAPI) -> AsyncIterator[AgentService]:
    """The running agent; a test may set its model, which is put back afterwards."""
    service: AgentService = agent_service.state.agent
    before = service._model
    yield service  # type: ignore[misc]
    service._model = before


async def test_a_goal_streams_a_plan_over_sse_and_is_stored(
    client: httpx.AsyncClient, settings: GatewaySettings, agent: AgentService
) -> None:
    user = await register(client)
    async with (
        served(create_gateway_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
        BusObserver(settings.nats_url, "chat.turn.completed.v1") as bus,
        aconnect_sse(
            http,
            "POST",
            "/v1/chat",
            json={"message": "I want to run a marathon in 6 months"},
            headers={**auth(user), "Accept": "text/event-stream"},
        ) as source,
    ):
        assert source.response.headers["content-type"].startswith("text/event-stream")
        events = [(sse.event, sse.json()) async for sse in source.aiter_sse()]
        completed = await bus.wait_for(lambda s, b: b["user_id"] == user["x-user-id"], 1)

    names = [name for name, _ in events]
    assert names[0] == "run.started"
    assert sum(name in TERMINAL for name in names) == 1 and names[-1] == "run.completed"
    assert "text.delta" in names
    started = events[0][1]
    conversation_id = started["conversation_id"]
    tools = [data["name"] for name, data in events if name == "tool.call.started"]
    assert "create_habit_sequence" in tools
    cards = [data["card"] for name, data in events if name == "card"]
    (plan_card,) = [c for c in cards if c["type"] == "habit_sequence"]
    assert len(plan_card["plan"]["phases"]) >= 3
    text = "".join(data["text"] for name, data in events if name == "text.delta")
    assert text == events[-1][1]["text"] and "marathon" in text.lower()

    assert len(completed) == 1
    assert completed[0]["conversation_id"] == conversation_id
    assert completed[0]["status"] == "completed" and completed[0]["intent"] == "goal_setting"
    assert completed[0]["tools"] == tools

    listed = (await client.get("/v1/conversations", headers=auth(user))).json()
    assert [c["id"] for c in listed["conversations"]] == [conversation_id]
    history = (
        await client.get(f"/v1/conversations/{conversation_id}/messages", headers=auth(user))
    ).json()["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    asked, answered = history
    assert asked["content"] == "I want to run a marathon in 6 months"
    assert asked["intent"] == "goal_setting"
    assert asked["entities"]["domain"] == "fitness"
    assert 170 <= asked["entities"]["timeframe_days"] <= 190
    assert asked["sentiment"]["label"] in {"neutral", "positive"}
    assert answered["content"] == text
    assert [c["name"] for c in answered["tool_calls"]] == tools
    assert answered["cards"][0]["sequence_id"] == plan_card["sequence_id"]

    draft = await client.get(f"/v1/sequences/{plan_card['sequence_id']}", headers=auth(user))
    assert draft.status_code == 200 and draft.json()["status"] == "draft"


async def test_habit_actions_from_one_message_write_through_the_gateway(
    client: httpx.AsyncClient, agent: AgentService
) -> None:
    user = await register(client)
    first = await chat(client, user, "Create a habit to drink a glass of water every morning")
    assert types(first["events"])[-1] == "run.completed"
    habits = (await client.get("/v1/habits", headers=auth(user))).json()
    assert len(habits) == 1
    habit = habits[0]

    second = await chat(client, user, "I did my water habit today", first["conversation_id"])
    calls = [e for e in second["events"] if e["type"] == "tool.call.completed"]
    assert [c["name"] for c in calls] == ["log_habit"] and not calls[0]["is_error"]
    logs = (await client.get(f"/v1/habits/{habit['id']}/logs", headers=auth(user))).json()
    assert len(logs) == 1


async def test_another_users_conversation_is_not_found(
    client: httpx.AsyncClient, agent: AgentService
) -> None:
    alice, bob = await register(client), await register(client)
    turn = await chat(client, alice, "How are my habits going this week?")
    theirs = turn["conversation_id"]
    response = await client.post(
        "/v1/chat",
        json={"message": "hello", "conversation_id": theirs},
        headers={**auth(bob), "Accept": "application/json"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    messages = await client.get(f"/v1/conversations/{theirs}/messages", headers=auth(bob))
    assert messages.status_code == 404
    assert (await client.get("/v1/conversations", headers=auth(bob))).json() == {
        "conversations": []
    }


@pytest.mark.parametrize(
    "body",
    [{}, {"message": ""}, {"message": "   "}, {"message": "x" * 4001}, {"message": "hi", "x": 1}],
)
async def test_bad_chat_requests_are_refused(
    client: httpx.AsyncClient, agent: AgentService, body: dict[str, Any]
) -> None:
    user = await register(client)
    response = await client.post("/v1/chat", json=body, headers=auth(user))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    listed = (await client.get("/v1/conversations", headers=auth(user))).json()
    assert listed == {"conversations": []}


async def test_a_conversation_remembers_facts_and_earlier_turns(
    client: httpx.AsyncClient, agent: AgentService
) -> None:
    user = await register(client)
    seen: list[list[Message]] = []

    def reply(text: str) -> Any:
        def turn(messages: Sequence[Message]) -> list[ModelEvent]:
            seen.append(list(messages))
            return [TextDelta(text=text)]

        return turn

    agent._model = ScriptedModel([reply("Noted!"), reply("Here is an evening plan.")])
    first = await chat(client, user, "I'm a night owl and only have 15 minutes a day")
    await chat(client, user, "What should I work on next?", first["conversation_id"])

    system, *rest = seen[1]
    assert "Chronotype: evening person." in system.content
    assert "about 15 minutes a day" in system.content
    assert [getattr(m, "content", None) for m in rest] == [
        "I'm a night owl and only have 15 minutes a day",
        "Noted!",
        "What should I work on next?",
    ]


async def test_older_turns_are_summarised_outside_the_verbatim_window(
    client: httpx.AsyncClient, agent: AgentService
) -> None:
    user = await register(client)
    keep = agent.settings.memory_recent_messages
    turns = keep // 2 + 2  # two turns more than the window holds
    seen: list[list[Message]] = []

    def turn(messages: Sequence[Message]) -> list[ModelEvent]:
        seen.append(list(messages))
        return [TextDelta(text=f"Reply {len(seen)}")]

    agent._model = ScriptedModel([turn] * turns)
    conversation: str | None = None
    for i in range(turns):
        result = await chat(client, user, f"Message number {i}", conversation)
        conversation = result["conversation_id"]

    last = seen[-1]
    verbatim = [m for m in last[1:] if getattr(m, "content", "").startswith("Message number")]
    assert len(verbatim) <= keep // 2 + 1
    assert "Message number 0" in last[0].content  # folded into the summary in the prompt
    assert "Message number 0" not in [m.content for m in verbatim]


async def test_a_redelivered_turn_runs_once(
    client: httpx.AsyncClient,
    settings: GatewaySettings,
    agent: AgentService,
    engine: AsyncEngine,
) -> None:
    user = await register(client)
    turn = ChatTurnRequestedV1(
        user_id=uuid.UUID(user["x-user-id"]),
        conversation_id=uuid.uuid4(),
        message="Create a habit to stretch every evening",
        today=date.today(),
        timezone="UTC",
    )
    payload = turn.model_dump_json().encode()
    async with BusObserver(settings.nats_url, "chat.turn.completed.v1") as bus:
        # Two deliveries of one turn, as after a crash before the ack (distinct Nats-Msg-Id so
        # JetStream's dedupe does not hide the second).
        for copy in ("a", "b"):
            await publish_raw(agent.broker, turn.subject, payload, f"{turn.event_id}-{copy}")
        done = await bus.wait_for(lambda s, b: b["turn_id"] == str(turn.event_id), 1)
    assert len(done) == 1
    habits = (await client.get("/v1/habits", headers=auth(user))).json()
    assert len(habits) == 1
    async with engine.connect() as conn:
        roles = (
            await conn.execute(select(MessageRow.role).where(MessageRow.turn_id == turn.event_id))
        ).scalars()
        assert sorted(roles) == ["assistant", "user"]


async def test_a_turn_interrupted_mid_way_is_ended_not_repeated(
    client: httpx.AsyncClient, settings: GatewaySettings, agent: AgentService, engine: AsyncEngine
) -> None:
    user = await register(client)
    turn = ChatTurnRequestedV1(
        user_id=uuid.UUID(user["x-user-id"]),
        conversation_id=uuid.uuid4(),
        message="Create a habit to floss every night",
        today=date.today(),
        timezone="UTC",
    )
    async with engine.begin() as conn:
        # What a crashed instance leaves behind: the turn claimed, never finished.
        await conn.execute(
            insert(Turn).values(
                id=turn.event_id,
                conversation_id=turn.conversation_id,
                user_id=turn.user_id,
                status="running",
                completed_event_id=uuid.uuid4(),
                started_at=datetime.now(UTC) - timedelta(minutes=10),
            )
        )
        await conn.execute(
            insert(Conversation).values(
                id=turn.conversation_id,
                user_id=turn.user_id,
                title="floss",
                summary="",
                summarized_through=0,
                message_count=0,
            )
        )
    nc = agent.broker.config.connection_state.connection
    live = await nc.subscribe(f"live.chat.{turn.event_id}")
    async with BusObserver(settings.nats_url, "chat.turn.completed.v1") as bus:
        await publish_raw(agent.broker, turn.subject, turn.model_dump_json().encode(), "x")
        done = await bus.wait_for(lambda s, b: b["turn_id"] == str(turn.event_id), 1)
        seen = [json.loads((await live.next_msg(timeout=5)).data) for _ in range(2)]
    await live.unsubscribe()
    assert [e["type"] for e in seen] == ["run.started", "run.failed"]
    assert seen[1]["code"] == "interrupted"
    assert done[0]["status"] == "failed"
    assert (await client.get("/v1/habits", headers=auth(user))).json() == []


async def test_tool_errors_go_back_to_the_model_and_a_repeat_is_cut_off(
    client: httpx.AsyncClient, agent: AgentService
) -> None:
    user = await register(client)
    bad = parse_tool_call("c1", "log_habit", json.dumps({"habit_title": "juggling"}))
    agent._model = ScriptedModel([[ToolCallsReady(calls=(bad,))], [ToolCallsReady(calls=(bad,))]])
    result = await chat(client, user, "log juggling")
    events = result["events"]
    completed = [e for e in events if e["type"] == "tool.call.completed"]
    assert completed[0]["is_error"] and completed[0]["result"]["error"]["code"] == "habit_not_found"
    assert completed[1]["result"]["error"]["code"] == "repeated_call"
    assert events[-1]["type"] == "run.completed"
    assert events[-1]["stop_reason"] == "repeated_call"


class _BrokenModel:
    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], settings: ModelSettings
    ) -> AsyncIterator[ModelEvent]:
        from services.agent.models import ModelError

        raise ModelError("model_unavailable", "all models failed")
        yield  # pragma: no cover


async def test_a_failing_model_ends_the_turn_with_run_failed(
    client: httpx.AsyncClient, agent: AgentService
) -> None:
    user = await register(client)
    agent._model = _BrokenModel()
    result = await chat(client, user, "Help me sleep better")
    assert types(result["events"]) == ["run.started", "run.failed"]
    assert result["events"][-1]["code"] == "model_unavailable"
    history = (
        await client.get(
            f"/v1/conversations/{result['conversation_id']}/messages", headers=auth(user)
        )
    ).json()["messages"]
    assert history[-1]["role"] == "assistant" and history[-1]["stop_reason"] == "model_unavailable"


class _SlowModel:
    """Answers after a pause, so the client can leave mid-turn."""

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], settings: ModelSettings
    ) -> AsyncIterator[ModelEvent]:
        yield TextDelta(text="Thinking… ")
        await asyncio.sleep(0.5)
        yield TextDelta(text="done.")


async def test_a_turn_finishes_after_the_client_disconnects(
    client: httpx.AsyncClient, settings: GatewaySettings, agent: AgentService
) -> None:
    user = await register(client)
    await create_habit(client, user)
    agent._model = _SlowModel()
    async with (
        served(create_gateway_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
        BusObserver(settings.nats_url, "chat.turn.completed.v1") as bus,
    ):
        async with aconnect_sse(
            http, "POST", "/v1/chat", json={"message": "hi"}, headers=auth(user)
        ) as source:
            first = await anext(source.aiter_sse())
            assert first.event == "run.started"
            conversation_id = first.json()["conversation_id"]
        # The stream is closed; the agent carries on.
        done = await bus.wait_for(lambda s, b: b["conversation_id"] == conversation_id, 1)
    assert done and done[0]["status"] == "completed"
    history = (
        await client.get(f"/v1/conversations/{conversation_id}/messages", headers=auth(user))
    ).json()["messages"]
    assert history[-1]["content"] == "Thinking… done."


async def test_feedback_on_a_reply_carries_its_length_and_emoji(
    client: httpx.AsyncClient, settings: GatewaySettings, agent: AgentService
) -> None:
    user, other = await register(client), await register(client)
    agent._model = ScriptedModel([[TextDelta(text="Great job! \U0001f389")]])
    turn = await chat(client, user, "I finished my run")
    history = (
        await client.get(
            f"/v1/conversations/{turn['conversation_id']}/messages", headers=auth(user)
        )
    ).json()["messages"]
    reply = history[-1]["id"]
    async with BusObserver(settings.nats_url, "learning.feedback.recorded.v1") as bus:
        rated = await client.post(
            "/v1/feedback",
            json={"kind": "message_rating", "rating": 1, "message_id": reply},
            headers=auth(user),
        )
        assert rated.status_code == 202
        (event,) = await bus.wait_for(lambda s, b: b["message_id"] == reply, 1)
    assert event["message_chars"] == len("Great job! \U0001f389")
    assert event["message_had_emoji"] is True
    for who, message_id in ((other, reply), (user, str(uuid.uuid4()))):
        refused = await client.post(
            "/v1/feedback",
            json={"kind": "message_rating", "rating": -1, "message_id": message_id},
            headers=auth(who),
        )
        assert refused.status_code == 404


async def test_token_deltas_are_coalesced_without_losing_text(
    client: httpx.AsyncClient, agent: AgentService
) -> None:
    user = await register(client)
    words = [f"word{i} " for i in range(60)]
    agent._model = ScriptedModel([[TextDelta(text=w) for w in words]])
    result = await chat(client, user, "tell me something")
    deltas = [e["text"] for e in result["events"] if e["type"] == "text.delta"]
    assert 1 <= len(deltas) < len(words)
    assert deltas[0] == "word0 "  # the first token is not held back
    assert "".join(deltas) == "".join(words) == result["events"][-1]["text"]

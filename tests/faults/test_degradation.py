"""Graceful degradation: a dependency down or slow, and what the user sees instead of an error.

The gateway, agent and metrics run in process against a NATS and a Redis of this module's own
(real servers, killed and restarted here; the machine's shared ones are never touched) and a
database of its own. The learning and knowledge services are not started at all: they are down
for every test, and the chat must not notice beyond the parts they provide. The LLM is the fake
OpenAI server (tests/fake_openai.py), scripted to be down or slow.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from alembic import command
from fastapi import FastAPI

from services.agent.app import create_app as create_agent_app
from services.agent.config import AgentSettings
from services.agent.models import OpenAIProvider
from services.agent.service import AgentService
from services.gateway.app import create_app as create_gateway_app
from services.gateway.config import GatewaySettings
from services.metrics.app import create_app as create_metrics_app
from services.metrics.config import MetricsSettings
from tests.fake_openai import FakeOpenAI, running_fake
from tests.faults import infra
from tests.integration.servers import COMMON_FIELDS, alembic_config, recreate_database
from tests.support import auth, create_habit, register, worker_suffix

pytestmark = pytest.mark.integration


@dataclass
class Stack:
    client: httpx.AsyncClient
    settings: GatewaySettings
    agent: AgentService
    nats: infra.Server
    redis: infra.Server
    llm: FakeOpenAI
    gateway: FastAPI


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[infra.Server, ...]]:
    ports, logs = infra.ports(), tmp_path_factory.mktemp("degradation-logs")
    store = tmp_path_factory.mktemp("degradation-nats")
    bus = infra.nats_server(store, ports["nats"], logs / "nats")
    cache = infra.redis(ports["redis"], logs / "redis")
    bus.start()
    cache.start()
    try:
        yield bus, cache
    finally:
        bus.stop()
        cache.stop()


@pytest.fixture(scope="module")
async def stack(servers: tuple[infra.Server, infra.Server]) -> AsyncIterator[Stack]:
    bus, cache = servers
    base = urlsplit(GatewaySettings().database_url)
    database = base._replace(path=f"/habyss_degraded_{worker_suffix()}").geturl()
    await recreate_database(database)
    await asyncio.to_thread(command.upgrade, alembic_config(database), "head")
    settings = GatewaySettings(
        database_url=database,
        nats_url=f"nats://127.0.0.1:{bus.port}",
        redis_url=f"redis://127.0.0.1:{cache.port}/0",
        relay_poll_seconds=0.2,
        db_pool_size=2,
        db_max_overflow=6,
        reminder_poll_seconds=0,
        auth_address_registrations=1_000_000,
    )
    common = settings.model_dump(include=COMMON_FIELDS)
    metrics = create_metrics_app(MetricsSettings(**common))
    agent = create_agent_app(AgentSettings(**common, llm_provider="offline"))
    gateway = create_gateway_app(settings)
    with running_fake(infra.ports()["llm"]) as llm:
        async with (
            metrics.router.lifespan_context(metrics),
            agent.router.lifespan_context(agent),
            gateway.router.lifespan_context(gateway),
        ):
            transport = httpx.ASGITransport(app=gateway)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                yield Stack(client, settings, agent.state.agent, bus, cache, llm, gateway)


@pytest.fixture
async def llm_agent(stack: Stack) -> AsyncIterator[AgentService]:
    """The agent on the OpenAI provider against the fake, one try per model, a short timeout."""
    service = stack.agent
    before, settings = service._model, service.model_settings
    model = OpenAIProvider(api_key="test", base_url=stack.llm.base_url, timeout=0.5)
    service._model = model
    service.model_settings = settings.model_copy(
        update={"model": "primary", "fallback_model": "backup", "max_retries": 0}
    )
    yield service
    service._model, service.model_settings = before, settings
    await model.aclose()


async def chat(stack: Stack, user: dict[str, str], message: str) -> list[dict[str, Any]]:
    """One turn in the chat's JSON mode; its events."""
    response = await stack.client.post(
        "/v1/chat",
        json={"message": message},
        headers={**auth(user), "Accept": "application/json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def reply(events: list[dict[str, Any]]) -> str:
    assert events[-1]["type"] == "run.completed", events[-1]
    assert not any(e["type"] == "run.failed" for e in events)
    text: str = events[-1]["text"]
    assert text.strip()
    return text


async def test_llm_down_the_fallback_model_then_the_offline_planner_answers(
    stack: Stack, llm_agent: AgentService
) -> None:
    await stack.llm.script(default={"status": 503, "message": "overloaded"})
    user = await register(stack.client)
    events = await chat(stack, user, "I want to run a marathon in 6 months")
    text = reply(events)
    assert [r["model"] for r in await stack.llm.requests()] == ["primary", "backup"]
    # The offline planner made the plan: its card and words are there.
    assert any(e["type"] == "card" and e["card"]["type"] == "habit_sequence" for e in events)
    assert "plan" in text.lower()


async def test_llm_slow_times_out_to_the_fallback_model_then_the_offline_planner(
    stack: Stack, llm_agent: AgentService
) -> None:
    await stack.llm.script(default={"delay": 5, "text": ["too late"]})
    user = await register(stack.client)
    text = reply(await chat(stack, user, "Help me sleep better"))
    assert "too late" not in text
    assert [r["model"] for r in await stack.llm.requests()] == ["primary", "backup"]


async def test_llm_that_answers_is_still_used(stack: Stack, llm_agent: AgentService) -> None:
    """The fallback is only for failures: a working model's words reach the user."""
    await stack.llm.script(default={"text": ["Model ", "reply."]})
    user = await register(stack.client)
    assert reply(await chat(stack, user, "hello")) == "Model reply."


async def test_knowledge_down_answers_without_citations_and_says_so(stack: Stack) -> None:
    user = await register(stack.client)
    text = reply(await chat(stack, user, "How long until flossing is automatic?"))
    assert "without citations" in text
    assert "Sources:" not in text


async def test_learning_down_leaves_predictions_out_and_chat_works(stack: Stack) -> None:
    user = await register(stack.client)
    await create_habit(stack.client, user, title="Running")
    events = await chat(stack, user, "Will I stick to running 3 times a week?")
    text = reply(events)
    assert "left the prediction out" in text
    assert "% chance" not in text
    # The assistant screen opens without the nudges learning would have offered.
    context = await stack.client.get("/v1/assistant/context", headers=auth(user))
    assert context.status_code == 200, context.text
    assert context.json()["has_new_suggestion"] is False
    assert context.json()["active_habits"] == 1


async def test_redis_down_nothing_answers_5xx_and_metrics_still_update(stack: Stack) -> None:
    user = await register(stack.client)
    habit = await create_habit(stack.client, user, start_date="2026-01-01")
    stack.redis.kill()
    try:
        statuses: dict[str, int] = {}
        email = f"r-{uuid.uuid4().hex[:10]}@example.com"
        password = "correct horse battery"
        body = {"email": email, "password": password}
        new = await stack.client.post("/v1/auth/register", json=body)
        statuses["register"] = new.status_code
        signin = await stack.client.post("/v1/auth/token", json=body)
        statuses["sign in"] = signin.status_code
        wrong = await stack.client.post("/v1/auth/token", json={**body, "password": "x" * 12})
        statuses["wrong password"] = wrong.status_code
        logged = await stack.client.post(
            f"/v1/habits/{habit['id']}/logs", json={"date": "2026-01-02"}, headers=auth(user)
        )
        statuses["log"] = logged.status_code
        statuses["habits"] = (await stack.client.get("/v1/habits", headers=auth(user))).status_code
        statuses["chat"] = (
            await stack.client.post(
                "/v1/chat",
                json={"message": "hello"},
                headers={**auth(user), "Accept": "application/json"},
                timeout=60,
            )
        ).status_code
        # The metrics service recomputes although it cannot cache: read through the API.
        deadline = time.monotonic() + 15
        while True:
            got = await stack.client.get(f"/v1/habits/{habit['id']}/metrics", headers=auth(user))
            statuses["metrics"] = got.status_code
            if got.status_code != 200 or got.json()["total_completions"] == 1:
                break
            assert time.monotonic() < deadline, got.json()
            await asyncio.sleep(0.2)
        out = await stack.client.post("/v1/auth/logout", headers=auth(user))
    finally:
        stack.redis.start()
    assert statuses == {
        "register": 201,
        "sign in": 200,
        "wrong password": 401,
        "log": 201,
        "habits": 200,
        "chat": 200,
        "metrics": 200,
    }
    # Logging out cannot revoke the token without Redis: never a false 204, but a 503 to retry.
    assert out.status_code == 503 and out.headers["Retry-After"] == "5", out.text
    assert out.json()["error"]["code"] == "service_unavailable"
    # Once Redis is back, logging out works.
    again = await stack.client.post("/v1/auth/logout", headers=auth(user))
    assert again.status_code == 204


async def unpublished(database_url: str) -> int:
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM core.outbox WHERE published_at IS NULL"
        )
        return count
    finally:
        await conn.close()


async def test_nats_down_writes_commit_to_the_outbox_and_chat_answers_503(stack: Stack) -> None:
    user = await register(stack.client)
    habit = await create_habit(stack.client, user, start_date="2026-01-01")
    connection = stack.gateway.state.broker.config.connection_state.connection
    # The bus clients never give up reconnecting (nats-py's default stops after two minutes).
    assert connection.options["max_reconnect_attempts"] == -1
    stack.nats.kill()
    try:
        logged = []
        for day in range(2, 7):
            response = await stack.client.post(
                f"/v1/habits/{habit['id']}/logs",
                json={"date": f"2026-01-{day:02d}"},
                headers=auth(user),
            )
            assert response.status_code == 201, response.text
            logged.append(response.json()["id"])
        assert await unpublished(stack.settings.database_url) >= len(logged)
        turn = await stack.client.post(
            "/v1/chat",
            json={"message": "hello"},
            headers={**auth(user), "Accept": "application/json"},
        )
        assert turn.status_code == 503, turn.text
        assert int(turn.headers["Retry-After"]) > 0
        assert turn.json()["error"]["code"] == "service_unavailable"
    finally:
        stack.nats.start()
    # Back: the relay publishes every committed write, once each.
    deadline = time.monotonic() + 30
    while await unpublished(stack.settings.database_url):
        assert time.monotonic() < deadline, "the outbox did not drain after NATS came back"
        await asyncio.sleep(0.2)
    published = await infra.log_events(stack.settings.nats_url, {habit["id"]})
    assert sorted(published) == sorted(logged)
    # And chat works again.
    events = await chat(stack, user, "hello")
    assert events[-1]["type"] == "run.completed"

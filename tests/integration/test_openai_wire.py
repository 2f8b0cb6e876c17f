"""The agent's OpenAI provider on the wire: the real SDK against a fake chat-completions server.

The fake (``tests/fake_openai.py``) is a uvicorn process of its own speaking the streaming
format (``data:`` chunks, tool-call deltas split and interleaved across chunks, finish reasons,
usage, errors with ``Retry-After``, a connection cut mid-stream). Nothing in the client is
patched; only the provider's sleep is injected, so waits are recorded instead of slept.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from services.agent.backend import InMemoryBackend, NewHabit
from services.agent.loop import (
    AgentEvent,
    Budgets,
    RunCompleted,
    RunFailed,
    TextDeltaEvent,
    ToolCallCompleted,
    run_agent,
)
from services.agent.models import (
    Finish,
    ModelError,
    ModelEvent,
    ModelSettings,
    OpenAIProvider,
    TextDelta,
    ToolCallsReady,
    ToolSpec,
    UserMessage,
)
from services.agent.service import AgentService
from services.agent.tools import ToolContext
from tests.fake_openai import FakeOpenAI, running_fake
from tests.support import auth, register

SETTINGS = ModelSettings(model="primary", fallback_model="backup", max_retries=2)
TODAY = date(2026, 12, 4)


class GoalArgs(BaseModel):
    """Arguments of a test tool."""

    goal: str
    timeline: str | None = None


SPEC = ToolSpec("create_habit_sequence", "Generate a habit sequence", GoalArgs)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeOpenAI]:
    with running_fake() as fake:
        yield fake


@pytest.fixture
async def fake(fake_server: FakeOpenAI) -> AsyncIterator[FakeOpenAI]:
    await fake_server.script()
    yield fake_server


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


Provider = Callable[..., OpenAIProvider]


@pytest.fixture
async def provider(fake: FakeOpenAI) -> AsyncIterator[Provider]:
    """Makes providers against the fake (``provider(sleeps)``) and closes them afterwards."""
    made: list[OpenAIProvider] = []

    def make(sleeps: Sleeps | None = None) -> OpenAIProvider:
        made.append(
            OpenAIProvider(
                api_key="test",
                base_url=fake.base_url,
                timeout=10,
                sleep=Sleeps() if sleeps is None else sleeps,
            )
        )
        return made[-1]

    yield make
    for model in made:
        await model.aclose()


async def collect(
    model: OpenAIProvider, tools: Sequence[ToolSpec] = (SPEC,), settings: ModelSettings = SETTINGS
) -> list[ModelEvent]:
    messages = [UserMessage(content="hello")]
    return [e async for e in model.stream(messages, tools, settings)]


def call(name: str, args: dict[str, Any] | str, pieces: int = 3, **extra: Any) -> dict[str, Any]:
    text = args if isinstance(args, str) else json.dumps(args)
    return {"name": name, "arguments": text, "pieces": pieces, **extra}


# --- the provider alone ---------------------------------------------------------------------


async def test_plain_text_streams_piece_by_piece_with_usage(
    fake: FakeOpenAI, provider: Provider
) -> None:
    pieces = ["Start ", "small: ", "two minutes."]
    await fake.script({"text": pieces, "usage": {"prompt_tokens": 321, "completion_tokens": 7}})
    events = await collect(provider())
    assert [e.text for e in events if isinstance(e, TextDelta)] == pieces
    assert events[-1] == Finish(reason="stop", model="primary", input_tokens=321, output_tokens=7)
    [request] = await fake.requests()
    body = request["body"]
    assert request["authorization"] == "Bearer test"
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "primary" and body["max_tokens"] == SETTINGS.max_tokens
    [tool] = body["tools"]
    assert tool["function"]["name"] == "create_habit_sequence"
    assert tool["function"]["strict"] is True
    assert body["messages"] == [{"role": "user", "content": "hello"}]


async def test_parallel_tool_calls_are_joined_from_interleaved_deltas(
    fake: FakeOpenAI, provider: Provider
) -> None:
    first = {"goal": "run a 5k", "timeline": "in 8 weeks"}
    second = {"goal": "read more books", "timeline": None}
    await fake.script(
        {
            "text": ["On it."],
            "tool_calls": [
                call("create_habit_sequence", first, pieces=4, id="call_a"),
                call("create_habit_sequence", second, pieces=3, id="call_b"),
            ],
        }
    )
    events = await collect(provider())
    [batch] = [e for e in events if isinstance(e, ToolCallsReady)]
    assert [(c.id, c.arguments, c.error) for c in batch.calls] == [
        ("call_a", first, None),
        ("call_b", second, None),
    ]
    assert isinstance(events[-1], Finish) and events[-1].reason == "tool_calls"


async def test_invalid_json_arguments_become_an_error_the_loop_reports_back(
    fake: FakeOpenAI, provider: Provider
) -> None:
    await fake.script(
        {"tool_calls": [call("log_habit", '{"habit_title": "Reading", "value": ', id="bad")]},
        {"text": ["Sorry, let me try that again later."]},
    )
    events, backend = await agent_run(provider())
    completed = [e for e in events if isinstance(e, ToolCallCompleted)]
    assert [(c.call_id, c.is_error) for c in completed] == [("bad", True)]
    assert completed[0].result["error"]["code"] == "malformed_arguments"
    assert backend.users["u1"].logs == []  # nothing was written from the broken call
    final = events[-1]
    assert isinstance(final, RunCompleted) and final.stop_reason == "done"
    second = (await fake.requests())[1]["body"]["messages"]
    assert second[-2]["tool_calls"][0]["function"]["arguments"].endswith('"value": ')
    tool_reply = second[-1]
    assert tool_reply["role"] == "tool" and tool_reply["tool_call_id"] == "bad"
    assert "not valid JSON" in json.loads(tool_reply["content"])["error"]["message"]


async def test_a_429_is_retried_after_the_wait_it_asked_for(
    fake: FakeOpenAI, provider: Provider
) -> None:
    sleeps = Sleeps()
    await fake.script(
        {"status": 429, "headers": {"Retry-After": "3"}},
        {"status": 429, "headers": {"retry-after-ms": "250"}},
        {"text": ["ok"]},
    )
    events = await collect(provider(sleeps))
    assert sleeps == [3.0, 0.25]
    assert [r["model"] for r in await fake.requests()] == ["primary"] * 3
    assert isinstance(events[-1], Finish) and events[-1].model == "primary"


async def test_a_429_asking_for_too_long_a_wait_goes_to_the_fallback(
    fake: FakeOpenAI, provider: Provider
) -> None:
    sleeps = Sleeps()
    await fake.script({"status": 429, "headers": {"Retry-After": "120"}}, {"text": ["ok"]})
    events = await collect(provider(sleeps))
    assert sleeps == []
    assert [r["model"] for r in await fake.requests()] == ["primary", "backup"]
    assert isinstance(events[-1], Finish) and events[-1].model == "backup"


async def test_500s_exhaust_the_retries_then_the_fallback_model_answers(
    fake: FakeOpenAI, provider: Provider
) -> None:
    sleeps = Sleeps()
    await fake.script({"status": 500}, {"status": 500}, {"status": 503}, {"text": ["backup here"]})
    events = await collect(provider(sleeps))
    assert [r["model"] for r in await fake.requests()] == ["primary"] * 3 + ["backup"]
    assert sleeps == [0.5, 1.0]  # exponential backoff without a Retry-After
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["backup here"]
    assert isinstance(events[-1], Finish) and events[-1].model == "backup"


async def test_when_every_model_fails_the_error_says_so(
    fake: FakeOpenAI, provider: Provider
) -> None:
    await fake.script(default={"status": 502})
    with pytest.raises(ModelError) as caught:
        await collect(provider(), settings=SETTINGS.model_copy(update={"max_retries": 0}))
    assert caught.value.code == "model_unavailable"
    assert [r["model"] for r in await fake.requests()] == ["primary", "backup"]


async def test_a_400_is_not_retried(fake: FakeOpenAI, provider: Provider) -> None:
    await fake.script({"status": 400, "message": "bad request"})
    with pytest.raises(ModelError) as caught:
        await collect(provider())
    assert caught.value.code == "model_rejected"
    assert len(await fake.requests()) == 1


async def test_a_stream_dropped_after_text_was_shown_fails_without_a_retry(
    fake: FakeOpenAI, provider: Provider
) -> None:
    await fake.script({"text": ["Here is ", "your plan", "..."], "drop_after": 3})
    seen: list[ModelEvent] = []
    with pytest.raises(ModelError) as caught:
        async for event in provider().stream([UserMessage(content="hi")], [SPEC], SETTINGS):
            seen.append(event)
    assert caught.value.code == "stream_broken"
    assert [e.text for e in seen if isinstance(e, TextDelta)] == ["Here is ", "your plan"]
    assert len(await fake.requests()) == 1


async def test_a_stream_dropped_before_anything_was_shown_is_retried(
    fake: FakeOpenAI, provider: Provider
) -> None:
    # Tool-call deltas are held until the call is complete, so none reached the consumer.
    await fake.script(
        {"tool_calls": [call("create_habit_sequence", {"goal": "x"}, pieces=4)], "drop_after": 3},
        {"text": ["fresh start"]},
    )
    events = await collect(provider())
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["fresh start"]
    assert not any(isinstance(e, ToolCallsReady) for e in events)
    assert len(await fake.requests()) == 2


async def test_a_stream_ending_without_a_finish_chunk_still_finishes(
    fake: FakeOpenAI, provider: Provider
) -> None:
    await fake.script({"text": ["cut"], "finish_reason": "length"})
    events = await collect(provider())
    assert isinstance(events[-1], Finish) and events[-1].reason == "length"


# --- the loop's budgets over the wire -------------------------------------------------------


async def agent_run(
    model: OpenAIProvider, budgets: Budgets | None = None
) -> tuple[list[AgentEvent], InMemoryBackend]:
    backend = InMemoryBackend()
    backend.seed("u1", [NewHabit(title="Reading"), NewHabit(title="Running")], TODAY)
    ctx = ToolContext(user_id="u1", today=TODAY, backend=backend)
    events = [
        e
        async for e in run_agent(
            model=model,
            messages=[UserMessage(content="log my habits")],
            ctx=ctx,
            settings=SETTINGS,
            budgets=budgets or Budgets(),
            clock=lambda: 0.0,
            run_id="r1",
        )
    ]
    return events, backend


def log(title: str, value: float | None = None) -> dict[str, Any]:
    return call("log_habit", {"habit_title": title, "value": value, "date": None})


async def test_parallel_calls_over_the_tool_budget_are_not_run(
    fake: FakeOpenAI, provider: Provider
) -> None:
    await fake.script({"tool_calls": [log("Reading"), log("Running"), log("Reading", 2)]})
    events, backend = await agent_run(provider(), Budgets(max_tool_calls=2))
    final = events[-1]
    assert isinstance(final, RunCompleted) and final.stop_reason == "max_tool_calls"
    assert backend.users["u1"].logs == [] and final.tool_calls == 0
    assert len(await fake.requests()) == 1


async def test_usage_counts_against_the_token_budget(fake: FakeOpenAI, provider: Provider) -> None:
    await fake.script(
        {"tool_calls": [log("Reading")], "usage": {"prompt_tokens": 900, "completion_tokens": 200}},
        {"text": ["never asked"]},
    )
    events, backend = await agent_run(provider(), Budgets(max_tokens=1000))
    final = events[-1]
    assert isinstance(final, RunCompleted) and final.stop_reason == "max_tokens"
    assert (final.input_tokens, final.output_tokens, final.tokens) == (900, 200, 1100)
    # Checked before the tool batch too: the calls the over-budget reply asked for are not run.
    assert backend.users["u1"].logs == []
    assert len(await fake.requests()) == 1


async def test_a_model_that_keeps_calling_tools_is_stopped_at_the_turn_limit(
    fake: FakeOpenAI, provider: Provider
) -> None:
    await fake.script(
        {"tool_calls": [log("Reading")]},
        {"tool_calls": [log("Running")]},
        {"tool_calls": [log("Reading", 3)]},
    )
    events, backend = await agent_run(provider(), Budgets(max_turns=2))
    final = events[-1]
    assert isinstance(final, RunCompleted) and final.stop_reason == "max_turns"
    assert (final.turns, final.tool_calls) == (2, 2)
    assert {x.habit_id for x in backend.users["u1"].logs} == {"h1", "h2"}
    assert len(await fake.requests()) == 2
    text = "".join(e.text for e in events if isinstance(e, TextDeltaEvent))
    assert "as many steps as I can" in text


async def test_a_dropped_stream_ends_the_run_with_run_failed(
    fake: FakeOpenAI, provider: Provider
) -> None:
    await fake.script({"text": ["Let me ", "see"], "drop_after": 2})
    events, _ = await agent_run(provider())
    final = events[-1]
    assert isinstance(final, RunFailed) and final.code == "stream_broken"


# --- a whole turn through the stack ---------------------------------------------------------


@pytest.fixture
async def openai_agent(agent_service: FastAPI, fake: FakeOpenAI) -> AsyncIterator[AgentService]:
    """The running agent with its model set to the OpenAI provider against the fake."""
    service: AgentService = agent_service.state.agent
    before = service._model
    model = OpenAIProvider(api_key="test", base_url=fake.base_url, timeout=10)
    service._model = model
    yield service
    service._model = before
    await model.aclose()


async def test_a_chat_turn_runs_on_the_openai_provider_through_the_stack(
    client: httpx.AsyncClient, openai_agent: AgentService, fake: FakeOpenAI
) -> None:
    user = await register(client)
    habit = {"title": "Evening walk", "kind": "duration", "unit": "min", "target": 20}
    await fake.script(
        {
            "text": ["Creating it now."],
            "tool_calls": [call("create_habit", {**habit, "schedule": None, "time_of_day": None})],
            "usage": {"prompt_tokens": 1200, "completion_tokens": 30},
        },
        {
            "text": ["Done: ", "your Evening walk ", "is set."],
            "usage": {"prompt_tokens": 1300, "completion_tokens": 12},
        },
    )
    response = await client.post(
        "/v1/chat",
        json={"message": "Add a 20 minute evening walk habit"},
        headers={**auth(user), "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "run.started" and kinds[-1] == "run.completed"
    [done] = [e for e in events if e["type"] == "tool.call.completed"]
    assert done["name"] == "create_habit" and done["is_error"] is False
    final = events[-1]
    assert final["text"] == "Creating it now.Done: your Evening walk is set."
    assert (final["input_tokens"], final["output_tokens"]) == (2500, 42)

    habits = (await client.get("/v1/habits", headers=auth(user))).json()
    assert [h["title"] for h in habits] == ["Evening walk"]

    first, second = await fake.requests()
    assert first["model"] == second["model"] == openai_agent.model_settings.model
    sent = first["body"]
    assert sent["messages"][0]["role"] == "system"
    assert sent["messages"][-1] == {"role": "user", "content": "Add a 20 minute evening walk habit"}
    assert "create_habit" in {t["function"]["name"] for t in sent["tools"]}
    tool_reply = second["body"]["messages"][-1]
    assert tool_reply["role"] == "tool"
    assert json.loads(tool_reply["content"])["created"]["title"] == "Evening walk"

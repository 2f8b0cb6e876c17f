"""The model interface: messages, the scripted model, and the real openai client on recordings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from services.agent.models import (
    MESSAGES,
    AssistantMessage,
    Finish,
    ModelError,
    ModelEvent,
    ModelSettings,
    OpenAIProvider,
    Refusal,
    ScriptedModel,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
    parse_tool_call,
    system_prompt,
)

RECORDINGS = Path(__file__).parent / "recordings"


def sse(name: str) -> bytes:
    lines = (RECORDINGS / name).read_text().splitlines()
    body = "".join(f"data: {line}\n\n" for line in lines if line.strip())
    return (body + "data: [DONE]\n\n").encode()


class Handler:
    """Serves recorded SSE bodies; records every request it saw."""

    def __init__(self, respond: Callable[[int, dict[str, Any]], httpx.Response]) -> None:
        self.respond = respond
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        return self.respond(len(self.requests), body)


def ok(name: str) -> httpx.Response:
    return httpx.Response(200, content=sse(name), headers={"content-type": "text/event-stream"})


def provider(handler: Handler, sleeps: list[float] | None = None) -> OpenAIProvider:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return OpenAIProvider(
        api_key="test", base_url="http://model.test/v1", http_client=client, sleep=sleep
    )


class GoalArgs(BaseModel):
    """Arguments of a test tool."""

    goal: str
    timeline: str | None = None


SPEC = ToolSpec("create_habit_sequence", "Generate a habit sequence", GoalArgs)
SETTINGS = ModelSettings(model="primary", fallback_model="backup", max_retries=2)
CONVERSATION = [SystemMessage(content="sys"), UserMessage(content="hi")]


async def collect(p: OpenAIProvider, settings: ModelSettings = SETTINGS) -> list[ModelEvent]:
    return [e async for e in p.stream(CONVERSATION, [SPEC], settings)]


def test_messages_round_trip_through_one_adapter() -> None:
    history = [
        SystemMessage(content="sys"),
        UserMessage(content="log my run"),
        AssistantMessage(tool_calls=(ToolCall(id="c1", name="log_habit", arguments="{}"),)),
        ToolResultMessage(tool_call_id="c1", name="log_habit", content='{"ok": true}'),
        AssistantMessage(content="Logged."),
    ]
    dumped = MESSAGES.dump_json(history)
    assert MESSAGES.validate_json(dumped) == history
    assert [type(m) for m in MESSAGES.validate_python(json.loads(dumped))] == [
        type(m) for m in history
    ]


def test_tool_spec_schema_is_strict() -> None:
    param = SPEC.openai_param()
    fn = param["function"]
    assert fn["name"] == "create_habit_sequence"
    assert fn.get("strict") is True
    schema = fn["parameters"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"goal", "timeline"}


def test_parse_tool_call_reports_bad_json_as_error() -> None:
    assert parse_tool_call("c", "t", '{"a": 1}').arguments == {"a": 1}
    bad = parse_tool_call("c", "t", '{"a": ')
    assert bad.arguments is None and bad.error and "JSON" in bad.error
    assert parse_tool_call("c", "t", "[1]").error == "arguments must be a JSON object"


def test_system_prompt_is_read_from_files() -> None:
    text = system_prompt(user_context="Habits: Reading", tone_instructions="Be brief.")
    assert "Habits: Reading" in text and "Be brief." in text
    assert "{user_context}" not in text and "{tone}" not in text
    assert "## Examples" in text


async def test_tool_call_arguments_split_across_chunks_are_assembled() -> None:
    handler = Handler(lambda n, body: ok("tool_calls_split.jsonl"))
    events = await collect(provider(handler))
    ready = [e for e in events if isinstance(e, ToolCallsReady)]
    assert len(ready) == 1
    first, second = ready[0].calls
    assert (first.id, first.name) == ("call_seq", "create_habit_sequence")
    assert first.arguments == {
        "goal": "run a 5K",
        "timeline": "3 months",
        "difficulty": None,
        "time_available": 20,
        "chronotype": None,
    }
    assert (second.name, second.arguments) == ("suggest_tags", {"habit_ids": None})
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert (finish.reason, finish.input_tokens, finish.output_tokens) == ("tool_calls", 412, 57)
    request = handler.requests[0]
    assert request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}
    assert request["tools"][0]["function"]["strict"] is True
    assert request["temperature"] == 0.7 and request["max_tokens"] == 1000


async def test_refusal_is_an_event() -> None:
    events = await collect(provider(Handler(lambda n, body: ok("refusal.jsonl"))))
    refusals = [e for e in events if isinstance(e, Refusal)]
    assert [r.text for r in refusals] == ["I can't help with that request."]
    assert not any(isinstance(e, TextDelta) for e in events)


async def test_429_then_success_retries_with_backoff() -> None:
    def respond(n: int, body: dict[str, Any]) -> httpx.Response:
        if n == 1:
            return httpx.Response(429, json={"error": {"message": "slow down", "type": "rate"}})
        return ok("text_reply.jsonl")

    handler = Handler(respond)
    sleeps: list[float] = []
    events = await collect(provider(handler, sleeps))
    assert (
        "".join(e.text for e in events if isinstance(e, TextDelta)) == "Great work on your streak!"
    )
    assert len(handler.requests) == 2
    assert [r["model"] for r in handler.requests] == ["primary", "primary"]
    assert sleeps == [0.5]


async def test_timeout_before_first_byte_falls_back_to_other_model() -> None:
    def respond(n: int, body: dict[str, Any]) -> httpx.Response:
        if body["model"] == "primary":
            raise httpx.ReadTimeout("no first byte")
        return ok("text_reply.jsonl")

    handler = Handler(respond)
    events = await collect(provider(handler))
    # Not retried on the same model: each retry would cost the whole timeout again.
    assert [r["model"] for r in handler.requests] == ["primary", "backup"]
    finish = events[-1]
    assert isinstance(finish, Finish) and finish.model == "backup"


async def test_all_models_down_raises_model_error() -> None:
    handler = Handler(lambda n, body: httpx.Response(503, json={"error": {"message": "down"}}))
    settings = ModelSettings(model="primary", fallback_model="backup", max_retries=1)
    with pytest.raises(ModelError) as info:
        await collect(provider(handler), settings)
    assert info.value.code == "model_unavailable"
    assert len(handler.requests) == 4


async def test_client_error_is_not_retried() -> None:
    handler = Handler(lambda n, body: httpx.Response(400, json={"error": {"message": "bad"}}))
    with pytest.raises(ModelError) as info:
        await collect(provider(handler))
    assert info.value.code == "model_rejected"
    assert len(handler.requests) == 1


async def test_no_retry_after_first_event_was_yielded() -> None:
    body = sse("text_reply.jsonl").split(b"\n\n")[:2]

    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[override]
            for part in body:
                yield part + b"\n\n"
            raise httpx.ReadError("connection reset")

    handler = Handler(
        lambda n, b: httpx.Response(
            200, stream=Broken(), headers={"content-type": "text/event-stream"}
        )
    )
    p = provider(handler)
    seen: list[ModelEvent] = []
    with pytest.raises(ModelError) as info:
        async for event in p.stream(CONVERSATION, [SPEC], SETTINGS):
            seen.append(event)
    assert info.value.code == "stream_broken"
    assert any(isinstance(e, TextDelta) for e in seen)
    assert len(handler.requests) == 1


async def test_malformed_arguments_become_a_tool_error() -> None:
    events = await collect(provider(Handler(lambda n, body: ok("malformed_args.jsonl"))))
    (ready,) = [e for e in events if isinstance(e, ToolCallsReady)]
    (call,) = ready.calls
    assert call.name == "log_habit" and call.arguments is None
    assert call.error is not None and "not valid JSON" in call.error
    assert isinstance(events[-1], Finish) and events[-1].reason == "length"


async def test_history_is_sent_in_openai_shape() -> None:
    handler = Handler(lambda n, body: ok("text_reply.jsonl"))
    history = [
        *CONVERSATION,
        AssistantMessage(tool_calls=(ToolCall(id="c1", name="log_habit", arguments="{}"),)),
        ToolResultMessage(tool_call_id="c1", name="log_habit", content='{"ok": true}'),
    ]
    _ = [e async for e in provider(handler).stream(history, [SPEC], SETTINGS)]
    sent = handler.requests[0]["messages"]
    assert sent[2]["tool_calls"][0] == {
        "id": "c1",
        "type": "function",
        "function": {"name": "log_habit", "arguments": "{}"},
    }
    assert sent[3] == {"role": "tool", "tool_call_id": "c1", "content": '{"ok": true}'}


async def test_scripted_model_plays_turns_and_records_calls() -> None:
    model = ScriptedModel([[TextDelta(text="a")], [TextDelta(text="b")]])
    first = [e async for e in model.stream(CONVERSATION, [], ModelSettings())]
    assert isinstance(first[-1], Finish) and first[-1].output_tokens == 10
    _ = [e async for e in model.stream(CONVERSATION, [], ModelSettings())]
    with pytest.raises(ModelError):
        _ = [e async for e in model.stream(CONVERSATION, [], ModelSettings())]
    assert len(model.calls) == 3

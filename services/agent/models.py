"""The model interface the agent loop drives, and its providers.

A model turns a conversation (a discriminated union of messages, round-tripped through one
:data:`MESSAGES`) and a list of tool specs into a stream of typed :data:`ModelEvent`: text deltas,
one batch of complete tool calls with parsed arguments, a refusal, and a finish carrying token
usage. Three things implement it: :class:`ScriptedModel` (tests), :class:`OpenAIProvider` (the
``openai`` SDK, streaming chat completions with strict function tools) and the offline planner in
:mod:`services.agent.offline`.

The OpenAI provider retries only before the first event reached its consumer (429, 5xx, timeouts
and connection errors, bounded, with exponential backoff, or after the wait a ``Retry-After``
header asked for; a wait longer than ``max_backoff_seconds`` skips to the next model, and so does a
timeout, which is not retried on the same model) and then falls over to a fallback model;
once anything was yielded a failure is final, because the user has already seen part of a reply.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, cast

import httpx
import httpx2
import openai
from openai import AsyncOpenAI
from openai.types.chat import (
    ChatCompletionAssistantMessageParam,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionToolMessageParam,
    ChatCompletionToolParam,
    ChatCompletionUserMessageParam,
)
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

_FROZEN = ConfigDict(frozen=True)

# --------------------------------------------------------------------------------------------
# Conversation messages
# --------------------------------------------------------------------------------------------


class SystemMessage(BaseModel):
    model_config = _FROZEN
    role: Literal["system"] = "system"
    content: str


class UserMessage(BaseModel):
    model_config = _FROZEN
    role: Literal["user"] = "user"
    content: str


class ToolCall(BaseModel):
    """A tool call as the model made it: ``arguments`` is the raw JSON text."""

    model_config = _FROZEN
    id: str
    name: str
    arguments: str


class AssistantMessage(BaseModel):
    model_config = _FROZEN
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()


class ToolResultMessage(BaseModel):
    """A tool's result fed back to the model; ``content`` is JSON data, never instructions."""

    model_config = _FROZEN
    role: Literal["tool"] = "tool"
    tool_call_id: str
    name: str
    content: str


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolResultMessage,
    Field(discriminator="role"),
]
MESSAGES: TypeAdapter[list[Message]] = TypeAdapter(list[Message])
"""The one adapter conversation history is stored and loaded through."""

# --------------------------------------------------------------------------------------------
# Model events
# --------------------------------------------------------------------------------------------


class TextDelta(BaseModel):
    model_config = _FROZEN
    kind: Literal["text"] = "text"
    text: str


class ParsedToolCall(BaseModel):
    """A complete tool call; ``error`` is set (and ``arguments`` None) when its JSON is bad."""

    model_config = _FROZEN
    id: str
    name: str
    raw_arguments: str
    arguments: dict[str, Any] | None
    error: str | None = None


class ToolCallsReady(BaseModel):
    model_config = _FROZEN
    kind: Literal["tool_calls"] = "tool_calls"
    calls: tuple[ParsedToolCall, ...]


class Refusal(BaseModel):
    model_config = _FROZEN
    kind: Literal["refusal"] = "refusal"
    text: str


class Finish(BaseModel):
    model_config = _FROZEN
    kind: Literal["finish"] = "finish"
    reason: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0


ModelEvent = Annotated[TextDelta | ToolCallsReady | Refusal | Finish, Field(discriminator="kind")]


def parse_tool_call(call_id: str, name: str, raw: str) -> ParsedToolCall:
    """Parse a tool call's JSON arguments; malformed arguments become an error, not a raise.

    Args:
        call_id: The call id the model gave.
        name: The tool name.
        raw: The arguments as the model streamed them.

    Returns:
        The call, with ``arguments`` a dict, or ``error`` set when the text is not a JSON object.
    """
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return ParsedToolCall(
            id=call_id,
            name=name,
            raw_arguments=raw,
            arguments=None,
            error=f"arguments are not valid JSON: {exc.msg} at position {exc.pos}",
        )
    if not isinstance(value, dict):
        return ParsedToolCall(
            id=call_id,
            name=name,
            raw_arguments=raw,
            arguments=None,
            error="arguments must be a JSON object",
        )
    return ParsedToolCall(id=call_id, name=name, raw_arguments=raw, arguments=value)


# --------------------------------------------------------------------------------------------
# Settings, tool specs, the protocol
# --------------------------------------------------------------------------------------------


class ModelSettings(BaseModel):
    """Sampling and resilience settings; defaults follow the spec's model configuration."""

    model_config = _FROZEN
    model: str = "gpt-4-turbo"
    fallback_model: str | None = "gpt-3.5-turbo"
    temperature: float = 0.7
    max_tokens: int = 1000
    top_p: float = 0.9
    frequency_penalty: float = 0.3
    presence_penalty: float = 0.3
    max_retries: int = 2
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0


@dataclass(frozen=True)
class ToolSpec:
    """What a model is told about a tool: its name, description and argument model."""

    name: str
    description: str
    args_model: type[BaseModel]

    def openai_param(self) -> ChatCompletionToolParam:
        """The tool as an OpenAI function tool with a strict JSON schema (built once)."""
        return _function_tool(self.args_model, self.name, self.description)


@functools.cache
def _function_tool(
    args_model: type[BaseModel], name: str, description: str
) -> ChatCompletionToolParam:
    # Building the strict schema walks the whole pydantic model: a few ms for all the tools,
    # on every model call, for a value that never changes.
    return openai.pydantic_function_tool(args_model, name=name, description=description)


class Model(Protocol):
    """Anything the agent loop can drive."""

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], settings: ModelSettings
    ) -> AsyncIterator[ModelEvent]:
        """Stream one assistant turn: text deltas, at most one tool-call batch, then a finish."""
        ...


class ModelError(Exception):
    """The model could not produce a turn; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------------------------
# Scripted model (tests)
# --------------------------------------------------------------------------------------------

ScriptedTurn = Sequence[ModelEvent] | Callable[[Sequence[Message]], Sequence[ModelEvent]]


@dataclass
class ScriptedModel:
    """A model that plays back scripted turns, one per call, and records what it was sent.

    A turn is a list of events, or a function of the messages returning one (to react to tool
    results). A turn without a :class:`Finish` gets one, with ``tokens_per_turn`` output tokens.
    """

    turns: list[ScriptedTurn]
    tokens_per_turn: int = 10
    calls: list[list[Message]] = field(default_factory=list)
    # The names of the tools each call offered.
    offered: list[list[str]] = field(default_factory=list)

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], settings: ModelSettings
    ) -> AsyncIterator[ModelEvent]:
        self.calls.append(list(messages))
        self.offered.append([t.name for t in tools])
        if not self.turns:
            raise ModelError("script_exhausted", "the scripted model has no turns left")
        turn = self.turns.pop(0)
        events = turn(messages) if callable(turn) else turn
        finished = False
        for event in events:
            finished = finished or isinstance(event, Finish)
            yield event
        if not finished:
            has_calls = any(isinstance(e, ToolCallsReady) for e in events)
            yield Finish(
                reason="tool_calls" if has_calls else "stop",
                model="scripted",
                output_tokens=self.tokens_per_turn,
            )


# --------------------------------------------------------------------------------------------
# OpenAI provider
# --------------------------------------------------------------------------------------------

_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in _RETRYABLE_STATUS or exc.status_code >= 500
    return isinstance(exc, httpx.TransportError | httpx2.TransportError)


def _timed_out(exc: Exception) -> bool:
    timeouts = (openai.APITimeoutError, httpx.TimeoutException, httpx2.TimeoutException)
    return isinstance(exc, timeouts)


def retry_after(exc: Exception) -> float | None:
    """The wait in seconds a rate-limited or overloaded answer asked for, if it asked.

    Reads ``retry-after-ms`` (OpenAI's), then ``Retry-After`` as seconds or as an HTTP date.

    Args:
        exc: The error the request failed with.

    Returns:
        Seconds to wait (0 or more), or None when the answer carried no usable header.
    """
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue
        if math.isfinite(seconds):
            return max(0.0, seconds)
    value = headers.get("retry-after")
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return None


def to_openai_messages(messages: Iterable[Message]) -> list[ChatCompletionMessageParam]:
    """Convert conversation messages to the chat-completions request shape."""
    out: list[ChatCompletionMessageParam] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            out.append(ChatCompletionSystemMessageParam(role="system", content=message.content))
        elif isinstance(message, UserMessage):
            out.append(ChatCompletionUserMessageParam(role="user", content=message.content))
        elif isinstance(message, AssistantMessage):
            assistant = ChatCompletionAssistantMessageParam(
                role="assistant", content=message.content
            )
            if message.tool_calls:
                assistant["tool_calls"] = [
                    ChatCompletionMessageFunctionToolCallParam(
                        id=c.id,
                        type="function",
                        function={"name": c.name, "arguments": c.arguments},
                    )
                    for c in message.tool_calls
                ]
            out.append(assistant)
        else:
            out.append(
                ChatCompletionToolMessageParam(
                    role="tool", tool_call_id=message.tool_call_id, content=message.content
                )
            )
    return out


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAIProvider:
    """Chat completions over the ``openai`` SDK, streamed, with strict function tools.

    The SDK's own retries are off (``max_retries=0``): this class retries itself, and only while
    nothing has been yielded, then tries ``settings.fallback_model``.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        timeout: float = 30.0,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
            # The SDK is typed for httpx2 but also accepts a legacy httpx client at runtime.
            http_client=cast(httpx2.AsyncClient | None, http_client),
        )
        self._sleep = sleep

    async def aclose(self) -> None:
        """Close the HTTP connections the client holds (a client passed in is closed too)."""
        await self._client.close()

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], settings: ModelSettings
    ) -> AsyncIterator[ModelEvent]:
        models = [settings.model]
        if settings.fallback_model and settings.fallback_model != settings.model:
            models.append(settings.fallback_model)
        last: Exception | None = None
        for model in models:
            for attempt in range(settings.max_retries + 1):
                yielded = False
                try:
                    async for event in self._turn(model, messages, tools, settings):
                        yielded = True
                        yield event
                    return
                except (openai.APIError, httpx.TransportError, httpx2.TransportError) as exc:
                    if yielded:
                        raise ModelError("stream_broken", f"{model}: {exc}") from exc
                    if not _retryable(exc):
                        raise ModelError("model_rejected", f"{model}: {exc}") from exc
                    last = exc
                    if attempt == settings.max_retries or _timed_out(exc):
                        # A model that timed out once will likely time out again: each retry
                        # would cost the whole timeout, so a timeout goes to the next model.
                        break
                    asked = retry_after(exc)
                    if asked is None:
                        delay = settings.backoff_seconds * (2**attempt)
                        await self._sleep(min(delay, settings.max_backoff_seconds))
                    elif asked <= settings.max_backoff_seconds:
                        await self._sleep(asked)
                    else:
                        # The model asks for longer than one turn may wait: try the fallback.
                        break
        raise ModelError("model_unavailable", f"all models failed: {last}") from last

    async def _turn(
        self,
        model: str,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        settings: ModelSettings,
    ) -> AsyncIterator[ModelEvent]:
        tool_params = [t.openai_param() for t in tools]
        stream = await self._client.chat.completions.create(
            model=model,
            messages=to_openai_messages(messages),
            tools=tool_params if tool_params else openai.omit,
            stream=True,
            stream_options={"include_usage": True},
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            top_p=settings.top_p,
            frequency_penalty=settings.frequency_penalty,
            presence_penalty=settings.presence_penalty,
        )
        partial: dict[int, _PartialCall] = {}
        refusal: list[str] = []
        reason = "stop"
        input_tokens = output_tokens = 0
        async with stream:
            async for chunk in stream:
                if chunk.usage is not None:
                    input_tokens = chunk.usage.prompt_tokens
                    output_tokens = chunk.usage.completion_tokens
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta.content:
                        yield TextDelta(text=delta.content)
                    if delta.refusal:
                        refusal.append(delta.refusal)
                    for tc in delta.tool_calls or ():
                        buf = partial.setdefault(tc.index, _PartialCall())
                        buf.id = tc.id or buf.id
                        if tc.function is not None:
                            if tc.function.name:
                                buf.name = tc.function.name
                            if tc.function.arguments:
                                buf.arguments.append(tc.function.arguments)
                    if choice.finish_reason:
                        reason = choice.finish_reason
        if refusal:
            yield Refusal(text="".join(refusal))
        if partial:
            yield ToolCallsReady(
                calls=tuple(
                    parse_tool_call(p.id or f"call_{i}", p.name, "".join(p.arguments))
                    for i, p in sorted(partial.items())
                )
            )
        yield Finish(
            reason=reason, model=model, input_tokens=input_tokens, output_tokens=output_tokens
        )


# --------------------------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------------------------

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"


def load_prompt(name: str) -> str:
    """Read a prompt file from ``services/agent/prompts`` (e.g. ``system_v1.md``)."""
    return (PROMPTS_DIR / name).read_text(encoding="utf-8")


def system_prompt(
    *,
    user_context: str,
    conversation_summary: str = "",
    tone_instructions: str = "",
    version: str = "v1",
) -> str:
    """The system prompt of a version, with the user context filled in and the examples appended.

    Args:
        user_context: Facts about the user (habits, chronotype, preferences), as data.
        conversation_summary: A summary of older turns; recent turns go in as messages.
        tone_instructions: From :func:`services.agent.tone.choose_tone`.
        version: The prompt version; files are ``system_<version>.md`` and
            ``examples_<version>.md``.

    Returns:
        The rendered prompt.
    """
    template = load_prompt(f"system_{version}.md")
    rendered = (
        template.replace("{user_context}", user_context.strip() or "(none)")
        .replace("{conversation_history}", conversation_summary.strip() or "(none)")
        .replace("{tone}", tone_instructions.strip() or "Be clear, warm and encouraging.")
    )
    examples = PROMPTS_DIR / f"examples_{version}.md"
    if examples.exists():
        rendered += "\n\n" + examples.read_text(encoding="utf-8")
    return rendered

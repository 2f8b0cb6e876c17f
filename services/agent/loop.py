"""The agent's one explicit tool-call loop.

call the model → stream its events out → run the tool calls it made (several per message are
fine) → feed the results back → repeat, until the model answers without tools. Budgets (turns,
tool calls, tokens, a whole-turn deadline on an injected clock) are checked before every model
call and every tool batch; a repeated identical call (same name and arguments) is not run again.
Running out of budget ends with a controlled final message and ``run.completed``; a model that
cannot answer ends with ``run.failed``. Exactly one terminal event is emitted, and the loop itself
never raises (except on cancellation).

Two guards sit in the loop (docs/security.md, "The assistant"): only the ``permitted`` tools are
offered and run (a call to another is answered ``not_permitted``, see services/agent/agency.py),
and the model's text passes a :class:`~services.agent.prompt_guard.LeakFilter`: a response that
starts reciting the system prompt is cut there, ends the turn as ``refused``, and its tool calls
are not run.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.agent.models import (
    AssistantMessage,
    Finish,
    Message,
    Model,
    ModelError,
    ModelSettings,
    ParsedToolCall,
    Refusal,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    ToolResultMessage,
)
from services.agent.prompt_guard import NOTICE, LeakFilter, PromptGuard, system_prompt_guard
from services.agent.tools import TOOLS, Tool, ToolContext, ToolResult, run_tool, tool_error

_FROZEN = ConfigDict(frozen=True)
StopReason = Literal[
    "done", "refused", "max_turns", "max_tool_calls", "max_tokens", "deadline", "repeated_call"
]


class Budgets(BaseModel):
    """Limits of one user turn."""

    model_config = _FROZEN
    max_turns: int = 6
    max_tool_calls: int = 12
    max_tokens: int = 20_000
    deadline_seconds: float = 60.0


class RunStarted(BaseModel):
    model_config = _FROZEN
    type: Literal["run.started"] = "run.started"
    run_id: str


class TextDeltaEvent(BaseModel):
    model_config = _FROZEN
    type: Literal["text.delta"] = "text.delta"
    text: str


class ToolCallStarted(BaseModel):
    model_config = _FROZEN
    type: Literal["tool.call.started"] = "tool.call.started"
    call_id: str
    name: str
    arguments: dict[str, Any] | None


class ToolCallCompleted(BaseModel):
    model_config = _FROZEN
    type: Literal["tool.call.completed"] = "tool.call.completed"
    call_id: str
    name: str
    result: dict[str, Any]
    is_error: bool


class CardEvent(BaseModel):
    model_config = _FROZEN
    type: Literal["card"] = "card"
    card: dict[str, Any]


class RunCompleted(BaseModel):
    model_config = _FROZEN
    type: Literal["run.completed"] = "run.completed"
    run_id: str
    text: str
    stop_reason: StopReason
    turns: int
    tool_calls: int
    tokens: int
    input_tokens: int = 0
    output_tokens: int = 0


class RunFailed(BaseModel):
    model_config = _FROZEN
    type: Literal["run.failed"] = "run.failed"
    run_id: str
    code: str
    message: str


AgentEvent = Annotated[
    RunStarted
    | TextDeltaEvent
    | ToolCallStarted
    | ToolCallCompleted
    | CardEvent
    | RunCompleted
    | RunFailed,
    Field(discriminator="type"),
]

_OUT_OF_BUDGET: dict[str, str] = {
    "max_turns": "I've taken as many steps as I can for one message.",
    "max_tool_calls": "I've done as many actions as I can for one message.",
    "max_tokens": "This answer got long, so I'm stopping here.",
    "deadline": "This is taking longer than it should, so I'm stopping here.",
    "repeated_call": "I was about to repeat the same step, so I'm stopping here.",
}


def _budget_message(reason: str, done: Sequence[str]) -> str:
    head = _OUT_OF_BUDGET[reason]
    if done:
        return f"{head} So far I ran: {', '.join(done)}. Ask me to continue if you'd like more."
    return f"{head} Could you try again, perhaps with a shorter request?"


def _call_key(call: ParsedToolCall) -> str:
    args = json.dumps(call.arguments, sort_keys=True) if call.arguments is not None else None
    return f"{call.name}:{args if args is not None else call.raw_arguments}"


async def run_agent(
    *,
    model: Model,
    messages: Sequence[Message],
    ctx: ToolContext,
    settings: ModelSettings,
    budgets: Budgets,
    clock: Callable[[], float],
    run_id: str,
    tools: dict[str, Tool] | None = None,
    permitted: Collection[str] | None = None,
    guard: PromptGuard | None = None,
) -> AsyncIterator[AgentEvent]:
    """Run one user turn through the model and the tools, streaming typed events.

    Args:
        model: The model (OpenAI provider, offline planner or a scripted fake).
        messages: The conversation so far, ending with the user's message.
        ctx: The authenticated user's tool context.
        settings: Model settings.
        budgets: Limits for this turn.
        clock: Monotonic seconds; the deadline is measured on it.
        run_id: The id to stamp on the run's events.
        tools: The tools the model may call; all of :data:`TOOLS` by default.
        permitted: The names of the tools this turn may run (all by default); the model is
            offered only these, and a call to another is answered ``not_permitted``.
        guard: The text replies must not recite; the system prompt's by default.

    Yields:
        ``run.started``, then text deltas, tool calls and cards, then exactly one of
        ``run.completed`` or ``run.failed``.
    """
    registry = TOOLS if tools is None else tools
    allowed = set(registry) if permitted is None else set(permitted) & set(registry)
    specs = [t.spec for name, t in registry.items() if name in allowed]
    guard = guard or system_prompt_guard()
    history: list[Message] = list(messages)
    started = clock()
    turns = tool_calls = tokens = input_tokens = output_tokens = 0
    seen: set[str] = set()
    done: list[str] = []
    text_parts: list[str] = []
    yield RunStarted(run_id=run_id)

    def completed(reason: StopReason) -> RunCompleted:
        return RunCompleted(
            run_id=run_id,
            text="".join(text_parts),
            stop_reason=reason,
            turns=turns,
            tool_calls=tool_calls,
            tokens=tokens,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )

    def exhausted(*, batch: int = 0) -> StopReason | None:
        if clock() - started >= budgets.deadline_seconds:
            return "deadline"
        if tokens >= budgets.max_tokens:
            return "max_tokens"
        if batch == 0 and turns >= budgets.max_turns:
            return "max_turns"
        if batch and tool_calls + batch > budgets.max_tool_calls:
            return "max_tool_calls"
        return None

    while True:
        reason = exhausted()
        if reason is not None:
            sep = "\n\n" if text_parts else ""
            text_parts.append(sep + _budget_message(reason, done))
            yield TextDeltaEvent(text=text_parts[-1])
            yield completed(reason)
            return

        turns += 1
        turn_text: list[str] = []
        calls: tuple[ParsedToolCall, ...] = ()
        refused = False
        shown = LeakFilter(guard)
        try:
            async for event in model.stream(history, specs, settings):
                if isinstance(event, TextDelta | Refusal):
                    refused |= isinstance(event, Refusal)
                    # Once the model recites its instructions, nothing more of its text is shown.
                    text = shown.feed(event.text)
                    if text:
                        turn_text.append(text)
                        text_parts.append(text)
                        yield TextDeltaEvent(text=text)
                elif isinstance(event, ToolCallsReady):
                    calls = event.calls
                elif isinstance(event, Finish):
                    input_tokens += event.input_tokens
                    output_tokens += event.output_tokens
                    tokens += event.input_tokens + event.output_tokens
        except ModelError as exc:
            yield RunFailed(run_id=run_id, code=exc.code, message=str(exc))
            return
        except Exception as exc:  # a model bug must still end the run with one terminal event
            yield RunFailed(run_id=run_id, code="model_error", message=repr(exc))
            return

        rest = shown.flush()
        if shown.leaked:  # and its tool calls are not run either
            refused, calls = True, ()
            rest = ("\n\n" if text_parts else "") + NOTICE
        if rest:
            turn_text.append(rest)
            text_parts.append(rest)
            yield TextDeltaEvent(text=rest)
        history.append(
            AssistantMessage(
                content="".join(turn_text) or None,
                tool_calls=tuple(
                    ToolCall(id=c.id, name=c.name, arguments=c.raw_arguments) for c in calls
                ),
            )
        )
        if refused or not calls:
            yield completed("refused" if refused else "done")
            return

        reason = exhausted(batch=len(calls))
        if reason is not None:
            # The assistant message asked for these calls; answer each so the history stays valid.
            for call in calls:
                history.append(
                    ToolResultMessage(
                        tool_call_id=call.id,
                        name=call.name,
                        content=json.dumps(tool_error(reason, "budget exhausted").data),
                    )
                )
            final = _budget_message(reason, done)
            sep = "\n\n" if text_parts else ""
            text_parts.append(sep + final)
            yield TextDeltaEvent(text=sep + final)
            yield completed(reason)
            return

        repeats = 0
        for call in calls:
            key = _call_key(call)
            yield ToolCallStarted(call_id=call.id, name=call.name, arguments=call.arguments)
            result: ToolResult
            if call.name in registry and call.name not in allowed:
                result = tool_error(
                    "not_permitted",
                    f"the user's message did not ask for {call.name}; do not do it unless the "
                    "user asks for it in their own words",
                )
            elif key in seen:
                repeats += 1
                result = tool_error(
                    "repeated_call",
                    "this exact call was already made in this turn; use its earlier result",
                )
            else:
                seen.add(key)
                tool_calls += 1
                try:
                    result = await run_tool(ctx, call, registry)
                except Exception as exc:  # a tool bug is reported to the model, not raised
                    result = tool_error("tool_failed", f"{call.name} failed: {exc!r}")
                if not result.is_error:
                    done.append(call.name)
            yield ToolCallCompleted(
                call_id=call.id, name=call.name, result=result.data, is_error=result.is_error
            )
            if result.card is not None:
                yield CardEvent(card=result.card)
            history.append(
                ToolResultMessage(
                    tool_call_id=call.id, name=call.name, content=json.dumps(result.data)
                )
            )
        if repeats == len(calls):
            final = _budget_message("repeated_call", done)
            sep = "\n\n" if text_parts else ""
            text_parts.append(sep + final)
            yield TextDeltaEvent(text=sep + final)
            yield completed("repeated_call")
            return

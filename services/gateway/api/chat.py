"""The assistant's API: chat over Server-Sent Events, conversation history and habit sequences.

``POST /v1/chat`` subscribes to ``live.chat.<turn_id>`` first, then publishes
``chat.turn.requested.v1`` to JetStream (a work queue: one agent instance takes it) and relays
the agent's events as SSE until the one terminal event (``run.completed`` or ``run.failed``).
Subscribing before publishing means no event can be missed. The turn belongs to the agent from
then on: a client that disconnects stops only its own stream, and the reply is in the history.
Conversations and sequences are the agent's data; the gateway reads and changes them over
``rpc.agent.*`` with the caller's id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, StreamingResponse
from nats.aio.subscription import Subscription
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.gateway import accounts, repository
from services.gateway.api.deps import CallerId, Runtime, RuntimeDep, today_of
from services.gateway.api.errors import ERROR_RESPONSES, THROTTLED
from services.gateway.assistant import HabitGlance, PlanGlance, assistant_context
from shared.contracts import metrics as metrics_rpc
from shared.contracts.agent import (
    ACTIVATE_SEQUENCE,
    ACTIVE_SEQUENCES,
    CONVERSATION,
    CONVERSATIONS,
    CREATE_SEQUENCE,
    GET_SEQUENCE,
    MESSAGES,
    ActivateSequence,
    ConversationQuery,
    ConversationsOut,
    CreateSequence,
    MessagesOut,
    MessagesQuery,
    SequenceOut,
    SequencePreferencesIn,
    SequenceQuery,
    SequencesOut,
)
from shared.contracts.agent import (
    Query as UserQuery,
)
from shared.contracts.learning import NOTIFICATIONS, NotificationsOut
from shared.contracts.learning import UserQuery as LearningUserQuery
from shared.db.core import Habit, User
from shared.errors import HabyssError, ServiceUnavailable
from shared.events.chat import MAX_MESSAGE_CHARS, ChatTurnRequestedV1, live_chat
from shared.messaging import publish_event
from shared.rpc import call

router = APIRouter(prefix="/v1", tags=["assistant"], responses=ERROR_RESPONSES)
TERMINAL = frozenset({"run.completed", "run.failed"})
HEARTBEAT_SECONDS = 10.0
# No agent took the turn in this long: the client is told, and the turn runs when one does.
FIRST_EVENT_TIMEOUT_SECONDS = 15.0
# Between two events of a running turn (a slow model call, a slow tool).
IDLE_TIMEOUT_SECONDS = 90.0
# Activation creates several habits through the gateway's own rpc, one after another.
ACTIVATE_TIMEOUT_SECONDS = 15.0
# The context screen must open fast: a slow part is left out rather than waited for.
CONTEXT_TIMEOUT_SECONDS = 1.0
CONTEXT_HABITS = 8

SSE_DESCRIPTION = """Send a message to the assistant and watch it work, as Server-Sent Events.

Events (each `event: <type>` with a JSON `data` line), in order: `run.started` (with
`conversation_id` and `turn_id`), then any of `text.delta` (`text`), `tool.call.started`
(`call_id`, `name`, `arguments`), `tool.call.completed` (`call_id`, `name`, `result`,
`is_error`) and `card` (`card`: a `habit_created` habit, a `habit_sequence` plan with its
`sequence_id`, to activate with `POST /v1/sequences/{id}/activate`, or a `visualization` with a
Vega-Lite `spec`, see docs/charts.md), then exactly one of
`run.completed` (`text`, `stop_reason`, `tokens`) or `run.failed` (`code`, `message`).

Omit `conversation_id` to start a conversation; reuse the one from `run.started` to continue it.
The turn finishes even if you disconnect; read it back from
`GET /v1/conversations/{id}/messages`. Send `Accept: application/json` instead to receive one
JSON object when the turn has finished: `{conversation_id, turn_id, events}`."""


class ChatIn(BaseModel):
    """A message to the assistant."""

    model_config = ConfigDict(extra="forbid")
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    conversation_id: uuid.UUID | None = None

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be blank")
        return value.strip()


class ChipOut(BaseModel):
    """A quick action: ``label`` on the chip, ``prompt`` sent as the chat message."""

    label: str
    prompt: str


class PlanOut(BaseModel):
    """Where the user is in their active habit sequence."""

    sequence_id: uuid.UUID
    name: str
    phase: int
    phases: int
    phase_name: str


class AssistantContextOut(BaseModel):
    """The assistant screen's banner, chips and new-suggestion dot."""

    banner: str
    chips: list[ChipOut]
    has_new_suggestion: bool
    active_plan: PlanOut | None
    active_habits: int


class SequenceIn(BaseModel):
    """A goal to plan a habit sequence for."""

    model_config = ConfigDict(extra="forbid")
    goal: str = Field(min_length=3, max_length=500)
    preferences: SequencePreferencesIn | None = None


def _sse(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def _chronotype(user: User) -> str | None:
    # The planner places habits for morning or evening people; "intermediate" means no lean.
    return user.chronotype if user.chronotype in ("morning", "evening") else None


async def _events(
    sub: Subscription, turn: ChatTurnRequestedV1, request: Request | None
) -> AsyncIterator[dict[str, Any] | None]:
    """The turn's events as dicts, ``None`` for a heartbeat; ends after the terminal event."""
    deadline = time.monotonic() + FIRST_EVENT_TIMEOUT_SECONDS
    started = False
    while True:
        if request is not None and await request.is_disconnected():
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            code, message = (
                (
                    "timeout",
                    "The assistant stopped answering; the reply may still arrive in "
                    "your conversation history.",
                )
                if started
                else (
                    "agent_unavailable",
                    "No assistant is available right now; your message "
                    "is queued and will be answered in your conversation history.",
                )
            )
            yield {
                "type": "run.failed",
                "run_id": str(turn.event_id),
                "code": code,
                "message": message,
            }
            return
        try:
            msg = await sub.next_msg(timeout=min(HEARTBEAT_SECONDS, remaining))
        except NatsTimeoutError:
            yield None
            continue
        event: dict[str, Any] = json.loads(msg.data)
        if event.get("type") == "run.started":
            if started:
                continue
            started = True
            event = {
                **event,
                "conversation_id": str(turn.conversation_id),
                "turn_id": str(turn.event_id),
            }
        deadline = time.monotonic() + IDLE_TIMEOUT_SECONDS
        yield event
        if event.get("type") in TERMINAL:
            return


@router.post(
    "/chat",
    response_class=StreamingResponse,
    responses={
        **THROTTLED,
        200: {
            "content": {"text/event-stream": {}, "application/json": {}},
            "description": "SSE stream of the turn's events",
        },
    },
    description=SSE_DESCRIPTION,
)
async def chat(body: ChatIn, request: Request, caller: CallerId, rt: RuntimeDep) -> Any:
    async with rt.read() as session:
        user = await accounts.current_user(session, caller)
    if body.conversation_id is not None:
        # A foreign or unknown conversation answers 404 here, before any stream starts.
        await call(
            rt.broker,
            CONVERSATION,
            ConversationQuery(user_id=caller, conversation_id=body.conversation_id),
        )
    throttle = rt.throttle
    await throttle.take(throttle.chat_turns, str(caller), "Too many messages; slow down a little.")
    stream_id = uuid.uuid4().hex
    await throttle.open_stream(str(caller), stream_id)
    try:
        return await _run_turn(body, request, caller, rt, user, stream_id)
    except BaseException:
        await throttle.close_stream(str(caller), stream_id)
        raise


async def _run_turn(
    body: ChatIn, request: Request, caller: uuid.UUID, rt: Runtime, user: User, stream_id: str
) -> Any:
    """Queue the turn and answer with its events; the stream slot is released when they end."""
    turn = ChatTurnRequestedV1(
        user_id=caller,
        conversation_id=body.conversation_id or uuid.uuid4(),
        message=body.message,
        today=today_of(user),
        timezone=user.timezone,
        chronotype=_chronotype(user),
        display_name=user.display_name,
    )
    connection = rt.broker.config.connection_state.connection
    if not connection.is_connected:
        # Fail fast rather than buffer the turn for a bus that is away: a 503 must mean "not
        # queued", and the client retries after Retry-After.
        raise ServiceUnavailable("The assistant is unreachable right now; try again shortly.")
    sub = await connection.subscribe(live_chat(turn.event_id))
    try:
        await publish_event(rt.broker, turn)
    except Exception as exc:
        await sub.unsubscribe()
        raise ServiceUnavailable("Could not queue the message; try again.") from exc
    headers = {"X-Conversation-Id": str(turn.conversation_id), "X-Turn-Id": str(turn.event_id)}

    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/event-stream" not in accept:
        try:
            events = [e async for e in _events(sub, turn, None) if e is not None]
        finally:
            await sub.unsubscribe()
            await rt.throttle.close_stream(str(caller), stream_id)
        return JSONResponse(
            {
                "conversation_id": str(turn.conversation_id),
                "turn_id": str(turn.event_id),
                "events": events,
            },
            headers=headers,
        )

    async def stream() -> AsyncIterator[str]:
        try:
            async for event in _events(sub, turn, request):
                yield ": keep-alive\n\n" if event is None else _sse(event["type"], event)
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await rt.throttle.close_stream(str(caller), stream_id)
                await sub.unsubscribe()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={**headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _glance(rt: Runtime, caller: uuid.UUID, habit: Habit) -> HabitGlance:
    try:
        data = await call(
            rt.broker,
            metrics_rpc.GET,
            metrics_rpc.MetricsQuery(user_id=caller, habit_id=habit.id),
            CONTEXT_TIMEOUT_SECONDS,
        )
    except HabyssError:
        return HabitGlance(habit.title)
    m = metrics_rpc.HabitMetricsOut.model_validate(data)
    return HabitGlance(habit.title, m.current_streak, m.streak_unit, m.last_completed_on)


async def _nudges(rt: Runtime, caller: uuid.UUID) -> NotificationsOut:
    try:
        data = await call(
            rt.broker, NOTIFICATIONS, LearningUserQuery(user_id=caller), CONTEXT_TIMEOUT_SECONDS
        )
    except HabyssError:
        return NotificationsOut(nudges=[], has_new_suggestion=False)  # learning is down
    return NotificationsOut.model_validate(data)


async def _plans(rt: Runtime, caller: uuid.UUID) -> list[PlanOut]:
    try:
        data = await call(
            rt.broker, ACTIVE_SEQUENCES, UserQuery(user_id=caller), CONTEXT_TIMEOUT_SECONDS
        )
    except HabyssError:
        return []
    out = []
    for seq in SequencesOut.model_validate(data).sequences:
        phases = seq.plan.get("phases", [])
        number = seq.current_phase or 1
        out.append(
            PlanOut(
                sequence_id=seq.id,
                name=seq.plan.get("name", seq.goal),
                phase=number,
                phases=len(phases),
                phase_name=phases[number - 1]["name"] if len(phases) >= number else "",
            )
        )
    return out


@router.get(
    "/assistant/context",
    description="The assistant screen's banner, context-aware quick-action chips (send a "
    "chip's `prompt` as a chat message), the new-suggestion dot, the active plan and how "
    "many habits are active. Parts whose service does not answer in time are left out.",
)
async def assistant_context_view(caller: CallerId, rt: RuntimeDep) -> AssistantContextOut:
    async with rt.read() as session:
        user = await accounts.current_user(session, caller)
        habits = list(await repository.habits_of(session, caller))
    found, glances, plans = await asyncio.gather(
        _nudges(rt, caller),
        asyncio.gather(*(_glance(rt, caller, h) for h in habits[:CONTEXT_HABITS])),
        _plans(rt, caller),
    )
    view = assistant_context(
        today=today_of(user),
        nudge_message=found.nudges[0].message if found.nudges else None,
        habits=list(glances),
        plans=[PlanGlance(p.name, p.phase, p.phases, p.phase_name) for p in plans],
    )
    return AssistantContextOut(
        banner=view.banner,
        chips=[ChipOut(label=c.label, prompt=c.prompt) for c in view.chips],
        has_new_suggestion=found.has_new_suggestion,
        active_plan=plans[0] if plans else None,
        active_habits=len(habits),
    )


@router.get("/conversations", description="Your conversations, most recently active first.")
async def conversations(caller: CallerId, rt: RuntimeDep) -> ConversationsOut:
    data = await call(rt.broker, CONVERSATIONS, UserQuery(user_id=caller))
    return ConversationsOut.model_validate(data)


@router.get(
    "/conversations/{conversation_id}/messages",
    description="A conversation's messages in order, the latest `limit` (before `before`, a "
    "message `position`, to page back). User messages carry what the assistant understood "
    "(`intent`, `entities`, `sentiment`); assistant messages the tools they used and cards.",
)
async def messages(
    conversation_id: uuid.UUID,
    caller: CallerId,
    rt: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> MessagesOut:
    query = MessagesQuery(
        user_id=caller, conversation_id=conversation_id, limit=limit, before=before
    )
    return MessagesOut.model_validate(await call(rt.broker, MESSAGES, query))


@router.post(
    "/sequences",
    status_code=status.HTTP_201_CREATED,
    description="Plan a phased habit sequence for a goal (e.g. 'run a marathon in 6 months'). "
    "It is a draft until activated. `preferences` may set `chronotype`, `minutes_available` "
    "(per day) and `timeframe_days`; otherwise they come from the goal's words and your profile.",
)
async def create_sequence(body: SequenceIn, caller: CallerId, rt: RuntimeDep) -> SequenceOut:
    async with rt.read() as session:
        user = await accounts.current_user(session, caller)
    prefs = body.preferences or SequencePreferencesIn()
    if prefs.chronotype is None and _chronotype(user) is not None:
        prefs = prefs.model_copy(update={"chronotype": _chronotype(user)})
    command = CreateSequence(
        user_id=caller, goal=body.goal, preferences=prefs, today=today_of(user)
    )
    return SequenceOut.model_validate(await call(rt.broker, CREATE_SEQUENCE, command))


@router.get("/sequences/{sequence_id}", description="A habit sequence and where you are in it.")
async def get_sequence(sequence_id: uuid.UUID, caller: CallerId, rt: RuntimeDep) -> SequenceOut:
    query = SequenceQuery(user_id=caller, sequence_id=sequence_id)
    return SequenceOut.model_validate(await call(rt.broker, GET_SEQUENCE, query))


@router.post(
    "/sequences/{sequence_id}/activate",
    description="Start a draft sequence: its first phase's habits are created (a habit you "
    "already have under the same title is reused). Activating an active sequence changes "
    "nothing. Later phases start by themselves once the current phase's habits are stable.",
)
async def activate_sequence(
    sequence_id: uuid.UUID, caller: CallerId, rt: RuntimeDep
) -> SequenceOut:
    async with rt.read() as session:
        user = await accounts.current_user(session, caller)
    command = ActivateSequence(user_id=caller, sequence_id=sequence_id, today=today_of(user))
    data = await call(rt.broker, ACTIVATE_SEQUENCE, command, ACTIVATE_TIMEOUT_SECONDS)
    return SequenceOut.model_validate(data)

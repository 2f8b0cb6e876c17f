"""Feedback, notifications (SSE) and insights: the learning service's API.

Feedback is a write: it goes through the outbox like every habit write, so an acknowledged
``202`` always reaches the learning service. The reads are rpc calls to the learning service.
``GET /v1/notifications`` streams Server-Sent Events: on connect, every delivered nudge the user
has not answered yet (last 7 days) and the "new suggestion" flag; then each new nudge as the
learning service pushes it on ``live.notifications.<user_id>``, and each due reminder (event
``reminder``, data ``kind: "reminder"``) as the gateway's reminder delivery pushes it there; a
comment line every 15 seconds keeps proxies from closing an idle stream. Every open nudge is
replayed on each connect, so a client that reconnects needs no ``Last-Event-ID``; it
de-duplicates by the event id. Reminders are live only: one missed while offline comes by push.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.gateway import accounts, repository
from services.gateway.api.deps import CallerId, Runtime, RuntimeDep
from services.gateway.api.errors import ERROR_RESPONSES
from shared.contracts.agent import GET_SEQUENCE, MESSAGE, MessageOut, MessageQuery, SequenceQuery
from shared.contracts.learning import (
    INSIGHTS,
    NOTIFICATIONS,
    InsightsOut,
    NotificationsOut,
    NudgeOut,
    UserQuery,
    live_notifications,
)
from shared.contracts.reminders import ReminderNotificationOut
from shared.errors import NotFound, ServiceUnavailable
from shared.events.learning import FeedbackKind, FeedbackRecordedV1
from shared.rpc import call

router = APIRouter(prefix="/v1", tags=["learning"], responses=ERROR_RESPONSES)
HEARTBEAT_SECONDS = 15.0
INSIGHTS_TIMEOUT_SECONDS = 10.0


class FeedbackIn(BaseModel):
    """What the user thought of a message, a suggestion or a sequence."""

    model_config = ConfigDict(extra="forbid")
    kind: FeedbackKind
    message_id: uuid.UUID | None = None
    habit_id: uuid.UUID | None = None
    sequence_id: uuid.UUID | None = None
    rating: Literal[-1, 0, 1] | None = None
    text: str | None = Field(default=None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _fields_of_kind(self) -> FeedbackIn:
        if self.kind == "message_rating" and self.rating is None:
            raise ValueError("a message_rating needs a rating (-1, 0 or 1)")
        if self.kind != "message_rating" and self.rating is not None:
            raise ValueError("only a message_rating takes a rating")
        if self.kind == "comment" and self.text is None:
            raise ValueError("a comment needs text")
        if self.kind == "sequence_abandoned" and self.sequence_id is None:
            raise ValueError("sequence_abandoned needs a sequence_id")
        return self


class FeedbackAccepted(BaseModel):
    feedback_id: uuid.UUID
    status: Literal["accepted"] = "accepted"


# Pictographs, symbols and dingbats: what the assistant's tone may add to a reply.
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


async def _rated_message(
    rt: Runtime, caller: uuid.UUID, message_id: uuid.UUID | None
) -> MessageOut | None:
    """The rated assistant message, so the learning service knows its length and emoji.

    A message that is not the caller's answers 404; if the agent does not answer, the feedback
    is still taken, without those two facts.
    """
    if message_id is None:
        return None
    try:
        data = await call(
            rt.broker, MESSAGE, MessageQuery(user_id=caller, message_id=message_id), 1.0
        )
    except ServiceUnavailable:
        return None
    return MessageOut.model_validate(data)


@router.post(
    "/feedback",
    status_code=status.HTTP_202_ACCEPTED,
    description="Record feedback on an assistant message, a suggestion or a habit sequence. "
    "Accepted feedback is delivered to the learning service, which uses it to tune how the "
    "assistant talks to you (see `rpc.learning.preferences.v1`). A `habit_id`, `message_id` or "
    "`sequence_id` must be yours.",
)
async def post_feedback(body: FeedbackIn, caller: CallerId, rt: RuntimeDep) -> FeedbackAccepted:
    event_id = uuid.uuid4()
    rated = await _rated_message(rt, caller, body.message_id)
    if body.sequence_id is not None:
        # A sequence that is not the caller's answers 404 (found by the authorization matrix).
        await call(
            rt.broker, GET_SEQUENCE, SequenceQuery(user_id=caller, sequence_id=body.sequence_id)
        )
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        if body.habit_id is not None and (
            await repository.habit_of(session, user.id, body.habit_id) is None
        ):
            raise NotFound("No such habit.", details={"habit_id": str(body.habit_id)})
        repository.add_outbox_event(
            session,
            FeedbackRecordedV1(
                event_id=event_id,
                user_id=user.id,
                message_chars=len(rated.content) if rated is not None else None,
                message_had_emoji=bool(_EMOJI.search(rated.content)) if rated else None,
                **body.model_dump(),
            ),
        )
    return FeedbackAccepted(feedback_id=event_id)


@router.get(
    "/insights",
    description="Observations, suggested changes and the next day's success chances for your "
    "active habits, most important first.",
)
async def get_insights(caller: CallerId, rt: RuntimeDep) -> InsightsOut:
    data = await call(rt.broker, INSIGHTS, UserQuery(user_id=caller), INSIGHTS_TIMEOUT_SECONDS)
    return InsightsOut.model_validate(data)


def _event(name: str, data: dict[str, Any], event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {json.dumps(data)}\n\n"


@router.get(
    "/notifications",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE stream"}},
    description="Server-Sent Events. `nudge` (id: the nudge id, data: the nudge) for each "
    "delivered, unanswered nudge of the last 7 days on connect and for each new one; "
    "`suggestion` (data: `{has_new_suggestion}`) after the initial nudges and after each new "
    'one; `reminder` (id: the delivery id, data: the reminder with `kind: "reminder"`) when a '
    "reminder comes due while the stream is open. Answer a nudge with `POST /v1/feedback` "
    "(`suggestion_accepted` or `suggestion_dismissed` with its `habit_id`).",
)
async def notifications(
    request: Request,
    caller: CallerId,
    rt: RuntimeDep,
) -> StreamingResponse:
    connection = rt.broker.config.connection_state.connection
    # Subscribe before reading what is there, so a nudge pushed in between is not missed.
    sub = await connection.subscribe(live_notifications(caller))
    try:
        current = NotificationsOut.model_validate(
            await call(rt.broker, NOTIFICATIONS, UserQuery(user_id=caller))
        )
    except BaseException:
        await sub.unsubscribe()
        raise

    async def stream() -> AsyncIterator[str]:
        sent: set[uuid.UUID] = set()
        try:
            for nudge in reversed(current.nudges):
                sent.add(nudge.id)
                yield _event("nudge", nudge.model_dump(mode="json"), str(nudge.id))
            yield _event("suggestion", {"has_new_suggestion": current.has_new_suggestion})
            while not await request.is_disconnected():
                try:
                    msg = await sub.next_msg(timeout=HEARTBEAT_SECONDS)
                except NatsTimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                data = json.loads(msg.data)
                if data.get("kind") == "reminder":
                    reminder = ReminderNotificationOut.model_validate(data)
                    if reminder.id not in sent:
                        sent.add(reminder.id)
                        payload = reminder.model_dump(mode="json")
                        yield _event("reminder", payload, str(reminder.id))
                    continue
                nudge = NudgeOut.model_validate(data)
                if nudge.id in sent:
                    continue
                sent.add(nudge.id)
                yield _event("nudge", nudge.model_dump(mode="json"), str(nudge.id))
                yield _event("suggestion", {"has_new_suggestion": True})
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await sub.unsubscribe()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

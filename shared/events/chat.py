"""Events of the chat domain: a turn asked for (work for one agent instance) and a turn done."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from shared.events.base import Event

MAX_MESSAGE_CHARS = 4000


class ChatTurnRequestedV1(Event):
    """A user sent a chat message through ``POST /v1/chat``; ``event_id`` is the turn id.

    The gateway fills in what it knows of the user so the agent needs no extra round trip: the
    user's local ``today`` (zone and ``day_start`` applied), time zone and chronotype.
    """

    subject = "chat.turn.requested.v1"
    conversation_id: uuid.UUID
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    today: date
    timezone: str
    chronotype: str | None = None
    display_name: str | None = None


class ChatTurnCompletedV1(Event):
    """An agent finished a turn; ``status`` is ``failed`` when it ended with ``run.failed``."""

    subject = "chat.turn.completed.v1"
    turn_id: uuid.UUID
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    status: Literal["completed", "failed"]
    stop_reason: str
    intent: str | None
    tools: list[str]
    tokens: int


CHAT_EVENTS: tuple[type[Event], ...] = (ChatTurnRequestedV1, ChatTurnCompletedV1)


def live_chat(turn_id: uuid.UUID | str) -> str:
    """Return the core-NATS subject on which a turn's live events are streamed (not stored).

    Args:
        turn_id: The turn (the ``chat.turn.requested.v1`` event id).

    Returns:
        ``live.chat.<turn_id>``.
    """
    return f"live.chat.{turn_id}"

"""The agent service's rpc subjects, requests and replies (``rpc.agent.*.v1``).

The agent owns conversations and habit sequences (the ``agent`` schema); the gateway serves them
to clients through these calls. Every request carries the authenticated caller's ``user_id``;
an id that is not that user's answers ``not_found``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CONVERSATIONS = "rpc.agent.conversations.v1"
CONVERSATION = "rpc.agent.conversation.v1"
MESSAGES = "rpc.agent.messages.v1"
MESSAGE = "rpc.agent.message.v1"
CREATE_SEQUENCE = "rpc.agent.create_sequence.v1"
GET_SEQUENCE = "rpc.agent.get_sequence.v1"
ACTIVATE_SEQUENCE = "rpc.agent.activate_sequence.v1"
ACTIVE_SEQUENCES = "rpc.agent.active_sequences.v1"

SequenceStatus = Literal["draft", "active", "completed"]


class Query(BaseModel):
    """Base of the requests (and a request about one user): frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    user_id: uuid.UUID


class ConversationQuery(Query):
    """One conversation of the user."""

    conversation_id: uuid.UUID


class MessagesQuery(ConversationQuery):
    """A page of a conversation's messages, oldest first, before ``before``."""

    limit: int = Field(default=50, ge=1, le=200)
    before: int | None = Field(default=None, ge=1, description="Only messages before position")


class MessageQuery(Query):
    """One message of the user's, by id (feedback names the message it rates)."""

    message_id: uuid.UUID


class ConversationOut(BaseModel):
    """A conversation as the history list shows it."""

    id: uuid.UUID
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int


class ConversationsOut(BaseModel):
    """The user's conversations, most recently active first."""

    conversations: list[ConversationOut]


class MessageOut(BaseModel):
    """One stored message, with what was understood (user) or done (assistant)."""

    id: uuid.UUID
    position: int
    role: Literal["user", "assistant"]
    content: str
    created_at: datetime
    turn_id: uuid.UUID
    intent: str | None = None
    entities: dict[str, Any] | None = None
    sentiment: dict[str, Any] | None = None
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    cards: list[dict[str, Any]] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None


class MessagesOut(BaseModel):
    """A page of messages in order."""

    conversation_id: uuid.UUID
    messages: list[MessageOut]


class SequencePreferencesIn(BaseModel):
    """What shapes a plan besides the goal's own words."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    chronotype: Literal["morning", "evening"] | None = None
    minutes_available: int | None = Field(default=None, ge=2, le=600)
    timeframe_days: int | None = Field(default=None, ge=7, le=3650)


class CreateSequence(Query):
    """Plan a sequence for a goal, as a draft; ``today`` is the user's date."""

    goal: str = Field(min_length=3, max_length=500)
    preferences: SequencePreferencesIn = SequencePreferencesIn()
    today: date


class SequenceQuery(Query):
    """One sequence of the user."""

    sequence_id: uuid.UUID


class ActivateSequence(SequenceQuery):
    """Start a draft sequence: create its first phase's habits."""

    today: date


class SequenceHabitOut(BaseModel):
    """A habit a phase tracks, and the gateway habit made for it."""

    phase: int
    name: str
    habit_id: uuid.UUID | None
    completion_rate_week: float | None = None


class SequenceOut(BaseModel):
    """A sequence, its plan and where the user stands in it."""

    id: uuid.UUID
    status: SequenceStatus
    goal: str
    current_phase: int | None
    phase_started_on: date | None
    plan: dict[str, Any]
    analysis: dict[str, Any]
    habits: list[SequenceHabitOut]
    created_at: datetime
    activated_at: datetime | None


class SequencesOut(BaseModel):
    """Several sequences."""

    sequences: list[SequenceOut]

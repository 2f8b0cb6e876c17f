"""Tables of the ``agent`` schema, written only by the agent service.

Conversations hold messages in order (``position``); a turn row makes a chat turn idempotent under
redelivery; facts are the long-term memory about a user; a sequence is a phased habit plan and
its habits are the ones activation and phase advances created through the gateway.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, Timestamped, utcnow

SCHEMA = {"schema": "agent"}


class Conversation(Timestamped, Base):
    """A chat thread. ``summary`` folds the messages before ``summarized_through`` (a position)."""

    __tablename__ = "conversations"
    __table_args__ = (Index(None, "user_id", "updated_at"), SCHEMA)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column()
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    summarized_through: Mapped[int] = mapped_column(BigInteger, default=0)
    message_count: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    """One message of a conversation, with what was understood of it (user) or done (assistant)."""

    __tablename__ = "messages"
    __table_args__ = (Index(None, "conversation_id", "position"), SCHEMA)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent.conversations.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column()
    turn_id: Mapped[uuid.UUID] = mapped_column()
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(32))
    entities: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    sentiment: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    tool_calls: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    cards: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Turn(Base):
    """A chat turn's processing record: ``running`` until its assistant message is stored.

    ``completed_event_id`` is the ``chat.turn.completed.v1`` id, kept so a redelivered turn
    re-publishes the same event (JetStream drops the duplicate) instead of running again.
    """

    __tablename__ = "turns"
    __table_args__ = (SCHEMA,)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column()
    user_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    completed_event_id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    completed_event: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class UserFact(Base):
    """Long-term memory: one durable fact about a user (chronotype, free minutes, a goal…)."""

    __tablename__ = "user_facts"
    __table_args__ = (SCHEMA,)

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HabitSequence(Timestamped, Base):
    """A phased habit plan: ``draft`` until activated, then ``active`` at ``current_phase``."""

    __tablename__ = "sequences"
    __table_args__ = (Index(None, "user_id", "status"), SCHEMA)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column()
    goal: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    plan: Mapped[dict[str, Any]] = mapped_column(JSONB)
    analysis: Mapped[dict[str, Any]] = mapped_column(JSONB)
    current_phase: Mapped[int | None] = mapped_column(Integer)
    phase_started_on: Mapped[date | None] = mapped_column(Date)
    activated_at: Mapped[datetime | None] = mapped_column()


class SequenceHabit(Base):
    """A habit a sequence's phase asked for, and the gateway habit made for it."""

    __tablename__ = "sequence_habits"
    __table_args__ = (
        UniqueConstraint("sequence_id", "phase", "name"),
        Index(None, "habit_id"),
        SCHEMA,
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sequence_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent.sequences.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column()
    phase: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    habit_id: Mapped[uuid.UUID | None] = mapped_column()
    completion_rate_week: Mapped[float | None] = mapped_column(Float)
    metrics_as_of: Mapped[date | None] = mapped_column(Date)

"""Tables of the ``core`` schema, owned and written by the gateway: the habit domain and outbox."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, Timestamped, utcnow

SCHEMA = {"schema": "core"}


class User(Timestamped, Base):
    """A person using the app, with their calendar settings (zone, day start, week start)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("week_start BETWEEN 0 AND 6", name="week_start_range"),
        # One person, one account: `A@x.com` and ` a@x.com` are the same address.
        CheckConstraint("email = lower(btrim(email))", name="email_normalised"),
        Index("uq_users_email_lower", text("lower(email)"), unique=True),
        SCHEMA,
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    day_start: Mapped[time] = mapped_column(Time, default=time(0, 0))
    week_start: Mapped[int] = mapped_column(SmallInteger, default=0)
    chronotype: Mapped[str | None] = mapped_column(String(16))
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Carried by every token as `ver`; bumped when the password changes, which revokes them all.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")


class RefreshToken(Base):
    """An opaque refresh token (only its SHA-256 is stored), one link of a rotation family.

    Each use replaces it with a new token of the same family; a token used twice means it was
    stolen, and the whole family is revoked.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index(None, "user_id"), Index(None, "family_id"), SCHEMA)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID] = mapped_column()
    token_version: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Goal(Timestamped, Base):
    """Something a user works towards; habits may hang under it."""

    __tablename__ = "goals"
    __table_args__ = (Index(None, "user_id"), SCHEMA)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    target_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")


class Habit(Timestamped, Base):
    """A habit: its kind, schedule and target (JSON shaped as the API's), and its start date."""

    __tablename__ = "habits"
    __table_args__ = (Index(None, "user_id", "archived_at"), SCHEMA)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    goal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core.goals.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    schedule: Mapped[dict[str, Any]] = mapped_column(JSONB)
    target: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    start_date: Mapped[date] = mapped_column(Date)
    archived_at: Mapped[datetime | None] = mapped_column()


class SubHabit(Base):
    """An ordered step of a habit (a routine's parts); at most 20 per habit."""

    __tablename__ = "sub_habits"
    __table_args__ = (UniqueConstraint("habit_id", "position"), SCHEMA)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    habit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.habits.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(200))


class Tag(Base):
    """A user's label, unique per user, lower-case."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("user_id", "name"), SCHEMA)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))


class HabitTag(Base):
    """Which tags a habit carries."""

    __tablename__ = "habit_tags"
    __table_args__ = (SCHEMA,)

    habit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("core.habits.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("core.tags.id", ondelete="CASCADE"), primary_key=True
    )


class HabitLog(Base):
    """One log of a habit on a local calendar date: done (with a value for quantities) or skip."""

    __tablename__ = "habit_logs"
    __table_args__ = (
        CheckConstraint("status IN ('done', 'skip')", name="status_known"),
        Index(None, "habit_id", "date"),
        SCHEMA,
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    habit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.habits.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Numeric(asdecimal=False))
    status: Mapped[str] = mapped_column(String(8), default="done")
    note: Mapped[str | None] = mapped_column(Text)
    # "manual" (the API, the assistant) or "integration" (auto-logged from imported health data).
    source: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyKey(Base):
    """A replayable response for a write sent with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (SCHEMA,)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("core.users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxEvent(Base):
    """An event committed with the write that caused it, waiting for the relay to publish it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "id",
            postgresql_where=text("published_at IS NULL"),
        ),
        SCHEMA,
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    headers: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()


class Confirmation(Base):
    """A destructive action the assistant proposed, waiting for its user's explicit yes.

    The agent can only create one (``rpc.habits.propose.v1``); the action runs when the user
    accepts it through the API (``POST /v1/confirmations/{id}``), once, before ``expires_at``.
    The row binds the id to its user and to the exact action and object.
    """

    __tablename__ = "confirmations"
    __table_args__ = (
        Index(None, "user_id"),
        CheckConstraint(
            "action IN ('archive_habit', 'delete_reminders')", name="confirmation_action"
        ),
        CheckConstraint(
            "status IN ('pending', 'accepted', 'cancelled')", name="confirmation_status"
        ),
        SCHEMA,
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    # None only for the free check-in reminders (delete_reminders without a habit).
    habit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core.habits.id", ondelete="CASCADE")
    )
    summary: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
